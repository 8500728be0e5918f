"""Demo activity for the demo institutions: staff, filed courses and timetables (some of them
breaking the rules), custody accounts with a bank statement, a black-list entry, complaints.

Everything goes through the domain services, so it is validated, judged and audited like
real traffic. Deterministic: the same rows on every first run.
"""

import random
from datetime import datetime, time, timedelta

from stdnum.cn import ric

from registry import access, audit, clock
from registry.complaints import services as complaints
from registry.courses import services as courses
from registry.escrow import ledger
from registry.escrow import pull as banks
from registry.escrow.accounts import open_account
from registry.lists import blacklist
from registry.staff import services as staff

SEED = 2022
DEMO_BANK = ("ICBC-ZJ", "中国工商银行浙江省分行")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN = ["晓明", "丽华", "建国", "雨桐", "子涵", "思远", "欣怡", "浩然", "佳琪", "文博", "梓萱",
         "一鸣"]
NON_SUBJECT_COURSES = {
    "sports": ("少儿篮球基础班", "sports"), "arts": ("少儿美术创意班", "arts"),
    "science": ("机器人编程入门", "science"), "comprehensive": ("劳动与生活实践", "comprehensive"),
    "other": ("围棋启蒙班", "other"),
}
SUBJECT_COURSES = [("初中数学同步提高", "math"), ("小学语文阅读写作", "chinese"),
                   ("初中物理实验探究", "physics"), ("英语口语与阅读", "foreign_language")]


def load(institutions) -> int:
    rng = random.Random(SEED)
    today = clock.today()
    made = 0
    with audit.acting_as(access.SYSTEM):
        banks.add_bank(*DEMO_BANK)
        bank = access.Principal(name="demo-bank", role="bank", bank_code=DEMO_BANK[0])
        active = [i for i in institutions if any(lic.status == "active" for lic in i.licences)]
        for n, inst in enumerate(active):
            teachers = [_teacher(rng, inst, k) for k in range(rng.randint(2, 4))]
            made += len(teachers)
            course, sessions = _course(rng, inst, n, teachers, today)
            made += 1 + len(sessions)
            if inst.region_code.startswith("33"):
                made += _custody(rng, inst, n, bank, today)
        made += _lists_and_complaints(institutions)
    return made


BIRTH_PLACES = ("330102", "330106", "110105", "310104", "410105")


def _person(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    born = datetime(1988, 1, 1) + timedelta(days=rng.randint(0, 365 * 15))
    body = f"{rng.choice(BIRTH_PLACES)}{born:%Y%m%d}{rng.randint(100, 999)}"
    return name, body + ric.calc_check_digit(body + "0")  # it reads 18 characters


def _teacher(rng, inst, k):
    name, id_number = _person(rng)
    subject_based = inst.category == "subject"
    qualified = k > 0 or rng.random() < 0.7  # some first teachers lack the certificate
    data = {
        "name": name, "id_number": id_number, "role": "teacher",
        "teacher_cert_no": f"2015{inst.region_code[:2]}0{rng.randint(10**9, 10**10 - 1)}"
        if qualified else None,
        "subjects": [SUBJECT_COURSES[k % len(SUBJECT_COURSES)][1]] if subject_based
        else [NON_SUBJECT_COURSES[inst.non_subject_type or "other"][1]],
        "in_service_school_teacher": False, "nationality": "CN", "located_abroad": False,
        "full_time": k != 2,
    }
    return staff.add(access.SYSTEM, inst, data)


def _course(rng, inst, n, teachers, today):
    if inst.category == "subject":
        title, subject = SUBJECT_COURSES[n % len(SUBJECT_COURSES)]
    else:
        title, subject = NON_SUBJECT_COURSES[inst.non_subject_type or "other"]
    online = inst.delivery == "online"
    audience = next((a for a in ("primary", "junior", "senior", "preschool")
                     if a in inst.audiences), "primary")
    minutes = 30 if online else 45
    if n % 7 == 3:
        minutes += 15  # an over-long online lesson, or a long offline one
    price = 6000 if inst.category == "subject" else rng.choice([9000, 12000, 15000])
    if n % 5 == 1 and inst.category == "subject":
        price = 7500  # above the guidance price for a medium class (fen)
    course, _ = courses.file(access.SYSTEM, inst, {
        "title": title, "subject": subject, "audience": audience,
        "delivery": "online" if online else "offline", "lesson_minutes": minutes,
        "price_per_lesson": price, "class_size": "medium",
        "lessons_total": 24})
    sessions = []
    start_day = today - timedelta(days=14)
    for week in range(4):
        day = start_day + timedelta(days=7 * week + n % 7)
        end_hour = time(20, 45) if n % 6 == 2 else time(19, 30)  # some end after 20:30
        ends = datetime.combine(day, end_hour, tzinfo=clock.CST)
        sessions.append({"starts_at": ends - timedelta(minutes=minutes), "ends_at": ends,
                         "teacher_id": teachers[week % len(teachers)].id})
    courses.add_sessions(access.SYSTEM, course, sessions)
    return course, sessions


def _custody(rng, inst, n, bank, today) -> int:
    number = f"62220202{inst.id:06d}{rng.randint(10000, 99999)}"
    open_account(bank, {"institution_id": inst.id, "bank_code": DEMO_BANK[0],
                        "account_number": number, "min_balance": 2_000_000,
                        "large_outflow_threshold": 5_000_000})
    start = datetime.combine(today - timedelta(days=20), time(9), tzinfo=clock.CST)
    items, balance = [], 0
    for k in range(6):
        paid = start + timedelta(days=k, hours=k)
        amount = rng.choice([360000, 480000, 499900, 720000])
        balance += amount
        items.append({"bank_txn_id": f"DEMO-{inst.id}-{k}", "kind": "prepaid_income",
                      "occurred_at": paid.isoformat(),
                      "amount": _yuan(amount), "balance_after": _yuan(balance),
                      "student_ref": f"S{inst.id:04d}{k:02d}", "covers_lessons": 24,
                      "covers_until": (paid.date() + timedelta(days=80)).isoformat()})
    outflow = balance - 1_000_000 if n % 4 == 0 else 300000  # some accounts drain
    balance -= outflow
    items.append({"bank_txn_id": f"DEMO-{inst.id}-out", "kind":
                  "withdrawal" if n % 4 == 0 else "release",
                  "occurred_at": (start + timedelta(days=10)).isoformat(),
                  "amount": _yuan(outflow), "balance_after": _yuan(balance)})
    result = ledger.ingest(bank, number, items)
    return 1 + result.accepted


def _lists_and_complaints(institutions) -> int:
    hz = [i for i in institutions if i.region_code.startswith("3301")]
    made = 0
    blacklist.add(access.SYSTEM, {
        "name": "西湖区某无证数学补习班", "address": "杭州市西湖区文一西路某小区3幢",
        "region_code": "330106", "reason_code": "unlicensed_operation",
        "reason": "无证无照在居民楼内开展学科类培训，经查属实。",
        "evidence": {"documents": ["西教执〔2026〕12号现场检查笔录"]}})
    made += 1
    if hz:
        complaints.file({"uscc": hz[-1].uscc, "category": "refund",
                         "description": "退费申请提交一个月仍未处理。", "contact": None})
        made += 1
    return made


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
