"""Rows for tests, made through the same services the API uses."""

import itertools
import random
from datetime import date, timedelta

from registry import access, audit, clock
from registry.db import db
from registry.identifiers import uscc_with_check
from registry.institutions import licences, services

_seq = itertools.count(1)
_rng = random.Random(7)
_ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(prefix: str = "52", region: str = "330106") -> str:
    """A valid unified social credit code (correct check character), unique per call."""
    body = prefix + region + "".join(_rng.choice(_ALNUM) for _ in range(8)) + "1"
    return uscc_with_check(body[:17])


def institution_data(**overrides) -> dict:
    n = next(_seq)
    data = {
        "uscc": uscc(), "name": f"测试培训学校{n}号", "category": "non_subject",
        "non_subject_type": "arts", "audiences": ["primary", "junior"], "delivery": "offline",
        "legal_form": "nonprofit", "region_code": "330106", "address": f"杭州市西湖区文三路{n}号",
    }
    data.update(overrides)
    return data


def institution(**overrides):
    with audit.acting_as(access.SYSTEM):
        inst = services.register(access.SYSTEM, institution_data(**overrides))
        db.session.commit()
    return inst


def licence(inst, **overrides):
    today = clock.today()
    data = {"number": f"教民{next(_seq):012d}号", "issuer": "杭州市西湖区教育局",
            "issued_on": today - timedelta(days=365), "expires_on": today + timedelta(days=730),
            "delivery": "offline", "basis": "import"}
    data.update(overrides)
    with audit.acting_as(access.SYSTEM):
        lic = licences.issue(access.SYSTEM, inst, data)
        db.session.commit()
    return lic


def token(role: str = "supervisor", region: str | None = "330100", bank: str | None = None,
          name: str | None = None) -> str:
    _, raw = access.create(name or f"{role}-{next(_seq)}", role,
                           region if role == "supervisor" else None,
                           bank if role == "bank" else None)
    db.session.commit()
    return raw


def auth(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def day(offset: int) -> date:
    return clock.today() + timedelta(days=offset)


def escrow_account(inst=None, bank: str = "ICBC", number: str | None = None, **fields):
    """A custody account (min balance 0 unless given), opened by the system."""
    from registry.escrow import accounts

    inst = inst or institution()
    data = {"institution_id": inst.id, "bank_code": bank,
            "account_number": number or f"62220202{next(_seq):011d}", "min_balance": 0}
    data.update(fields)
    with audit.acting_as(access.SYSTEM):
        account = accounts.open_account(access.SYSTEM, data)
        db.session.commit()
    return account


def txn(txn_id: str, kind: str = "prepaid_income", amount: str = "100.00", at=None,
        **fields) -> dict:
    """One statement line as a bank sends it."""
    when = at or clock.now()
    item = {"bank_txn_id": txn_id, "occurred_at": when.isoformat(), "kind": kind,
            "amount": amount}
    item.update(fields)
    return item


# --- staff, courses, sessions (rules engine) ---------------------------------------------------
def ric(region: str = "330106", born: str = "19900101") -> str:
    """A valid resident ID number (GB 11643 check digit), unique per call."""
    from stdnum.cn import ric as _ric

    body = f"{region}{born}{next(_seq) % 1000:03d}"
    return body + _ric.calc_check_digit(body + "0")


def staff_data(**overrides) -> dict:
    data = {"name": f"教师{next(_seq)}", "id_number": ric(), "role": "teacher",
            "teacher_cert_no": f"2019330{next(_seq):010d}"[-17:], "subjects": ["math"],
            "in_service_school_teacher": False, "nationality": "CN", "located_abroad": False,
            "full_time": True}
    data.update(overrides)
    return data


def staff(inst, **overrides):
    from registry.staff import services as staff_services

    with audit.acting_as(access.SYSTEM):
        member = staff_services.add(access.SYSTEM, inst, staff_data(**overrides))
        db.session.commit()
    return member


def course_data(**overrides) -> dict:
    data = {"title": f"课程{next(_seq)}", "subject": "arts", "audience": "primary",
            "delivery": "offline", "lesson_minutes": 45, "price_per_lesson": "50.00",
            "class_size": "medium", "lessons_total": 20}
    data.update(overrides)
    return data


def course_row(inst, title: str, subject: str, audience: str, delivery: str, now) -> dict:
    """A course as a plain row, for bulk inserts of generated timetables."""
    return {"institution_id": inst.id, "region_code": inst.region_code, "title": title,
            "subject": subject, "audience": audience, "delivery": delivery,
            "lesson_minutes": 30 if delivery == "online" else 45, "price_per_lesson": 5000,
            "class_size": "medium", "lessons_total": 40, "stale": False, "created_at": now,
            "updated_at": now}


def course(inst, **overrides):
    from registry.courses import services as course_services
    from registry.money import parse_yuan

    data = course_data(**overrides)
    data["price_per_lesson"] = parse_yuan(data["price_per_lesson"])
    with audit.acting_as(access.SYSTEM):
        filed, _ = course_services.file(access.SYSTEM, inst, data)
        db.session.commit()
    return filed


def session_at(day_: date, start: str = "18:00", end: str = "18:45", teacher_id=None) -> dict:
    """One session as the API takes it (China Standard Time)."""
    return {"starts_at": f"{day_.isoformat()}T{start}:00+08:00",
            "ends_at": f"{day_.isoformat()}T{end}:00+08:00", "teacher_id": teacher_id}
