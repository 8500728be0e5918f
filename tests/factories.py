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
