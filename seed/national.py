"""National-scale data: `registry seed national --scale N --seed S`.

At scale 1: 200,000 institutions spread over the real county-level region codes (weighted by
province population, 2020 census), their licences, white-list intervals and black-list
entries; then, when the other areas' models are installed, staff, courses and sessions,
custody accounts and transactions, and breaches in realistic proportions.

Rows are generated in Python from one `random.Random(seed)` per table (so a table's rows do not
change when another table's generator changes) and written in bulk: COPY on PostgreSQL,
executemany on SQLite. The whole run is one transaction and one audit event (`seed.national`,
with the counts), never one event per row. Run it into an empty database (or use another seed):
the codes it makes are unique within a run, not against rows already there.
"""

import functools
import json
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from registry import audit, clock, identifiers, regions
from registry.db import db, is_postgres

PER_SCALE = {"institutions": 200_000, "staff": 2_000_000, "sessions": 5_000_000,
             "transactions": 10_000_000}
CHUNK = 5_000

# Province populations, 2020 census (millions): institutions follow people.
POPULATION = {
    "11": 21.9, "12": 13.9, "13": 74.6, "14": 34.9, "15": 24.0, "21": 42.6, "22": 24.1,
    "23": 31.9, "31": 24.9, "32": 84.7, "33": 64.6, "34": 61.0, "35": 41.5, "36": 45.2,
    "37": 101.5, "41": 99.4, "42": 57.8, "43": 66.4, "44": 126.0, "45": 50.1, "46": 10.1,
    "50": 32.1, "51": 83.7, "52": 38.6, "53": 47.2, "54": 3.6, "61": 39.5, "62": 25.0,
    "63": 5.9, "64": 7.2, "65": 25.9,
}

BRAND_CHARS = ("启明星博文思睿智慧新未来阳光育才英华卓越书香墨韵童心彩虹翰林天成乐学"
               "优品尚德致远弘毅明德知行致知格物精进博雅思源立人树人春晖晨曦朝阳东方"
               "蓝天海韵青藤橙果小树苗鹏程飞扬腾龙凤鸣金鹰银河星辰宇航科创睿思聚贤")
KINDS = {  # category / type -> name endings
    "subject": ("教育培训学校", "培训学校", "文化培训学校"),
    "sports": ("体育俱乐部", "体育培训中心", "篮球训练营", "游泳培训学校", "跆拳道馆"),
    "arts": ("艺术培训学校", "美术培训中心", "音乐艺术学校", "舞蹈艺术中心", "书法培训学校"),
    "science": ("科技培训中心", "机器人编程中心", "科创教育中心", "编程培训学校"),
    "comprehensive": ("综合实践基地", "研学实践中心", "劳动教育基地"),
    "other": ("素质教育中心", "托管服务中心", "口才培训中心"),
}
STREETS = ("人民路", "解放路", "中山路", "建设路", "文化路", "学府路", "新华路", "朝阳路",
           "长江路", "黄河路", "和平路", "育才路", "光明街", "滨江大道", "科技路", "青年路")


def counts_for(scale: float) -> dict[str, int]:
    return {k: max(1, round(v * scale)) for k, v in PER_SCALE.items()}


def counties() -> list[tuple[str, float]]:
    """(county code, weight): a province's weight shared among its counties."""
    by_province: dict[str, list[str]] = {}
    for code, region in regions.all_regions().items():
        if region.level == "county" and code[:2] in POPULATION and region.name != "市辖区":
            by_province.setdefault(code[:2], []).append(code)
    return [(code, POPULATION[p] / len(codes)) for p, codes in by_province.items()
            for code in codes]


def org_code(n: int) -> str:
    """A GB 11714 organisation code (8 digits and its check character) from a number."""
    body = f"{n % 10**8:08d}"
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


class Writer:
    """Bulk rows into a table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, progress: Callable[[int], None] | None = None):
        self.connection = db.session.connection()
        self.postgres = is_postgres()
        self.progress = progress or (lambda n: None)

    def write(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        count = 0
        if self.postgres:
            raw = self.connection.connection.driver_connection
            cols = ", ".join(f'"{c}"' for c in columns)
            with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
                    if count % CHUNK == 0:
                        self.progress(CHUNK)
        else:
            marks = ", ".join("?" for _ in columns)
            sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})'
            batch = []
            for row in rows:
                batch.append(tuple(_sqlite(v) for v in row))
                if len(batch) == CHUNK:
                    self.connection.exec_driver_sql(sql, batch)
                    self.progress(CHUNK)
                    count += len(batch)
                    batch = []
            if batch:
                self.connection.exec_driver_sql(sql, batch)
                count += len(batch)
        self.progress(count % CHUNK)
        return count

    def next_id(self, table: str) -> int:
        return (self.connection.exec_driver_sql(
            f'SELECT max(id) FROM "{table}"').scalar() or 0) + 1

    def fix_sequence(self, table: str) -> None:
        if self.postgres:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f'(SELECT coalesce(max(id), 1) FROM "{table}"))')


def _sqlite(value):
    """A value as SQLAlchemy would store it in SQLite (dates and instants as ISO text)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _pg(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def _naive_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


class National:
    """One generator run. Each part appends its counts; `run` calls the parts in order."""

    def __init__(self, scale: float, seed: int = 1, today: date | None = None,
                 progress: Callable[[int], None] | None = None):
        self.scale, self.seed = scale, seed
        self.n = counts_for(scale)
        self.today = today or clock.today()
        self.now = _naive_utc(clock.now())
        self.writer = Writer(progress)
        self.counts: dict[str, int] = {}
        self.institutions: list[tuple] = []  # (id, region, category, status, audiences, ...)

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{part}")

    def total_rows(self) -> int:
        """An estimate of the rows written, for the progress bar."""
        n = self.n
        return int(n["institutions"] * 4.3 + n["staff"] + n["sessions"] * 1.1
                   + n["transactions"])

    def run(self) -> dict[str, int]:
        self.make_institutions()
        self.make_licences()
        self.make_blacklist()
        self.make_whitelist()
        tables = ["institutions", "licences", "licence_events", "whitelist_intervals",
                  "blacklist_entries"]
        if _has_tables("staff", "courses", "course_sessions"):
            self.make_staff()
            self.make_courses_and_sessions()
            tables += ["staff", "courses", "course_sessions"]
        if _has_tables("escrow_accounts", "escrow_transactions", "escrow_banks"):
            self.make_escrow()
            tables += ["escrow_accounts", "escrow_transactions", "escrow_alerts"]
        for table in tables:
            self.writer.fix_sequence(table)
        if _has_tables("public_profiles"):  # COPY bypasses the session events that keep them
            from registry.lists import profiles

            self.counts["public_profiles"] = profiles.rebuild_all()
        audit.record("seed.national", "dataset", f"national:{self.seed}:{self.scale}", None,
                     {"scale": self.scale, "seed": self.seed, "counts": self.counts})
        return self.counts

    # --- institutions ----------------------------------------------------------------------
    def make_institutions(self) -> None:
        rnd = self.rng("institutions")
        codes, weights = zip(*counties(), strict=True)
        first = self.writer.next_id("institutions")
        n = self.n["institutions"]
        region_of = rnd.choices(codes, weights=weights, k=n)
        # a permutation of the organisation-code space: unique, and different for each seed
        step, offset = 7_919_993, rnd.randrange(10**8)
        created = self.now - timedelta(days=30)
        names: dict[str, str] = {}

        def rows() -> Iterator[tuple]:
            for i in range(n):
                region = region_of[i]
                category = "subject" if rnd.random() < 0.15 else "non_subject"
                if category == "subject":
                    kind = None
                    audiences = rnd.choice((["primary"], ["junior"], ["primary", "junior"],
                                            ["senior"], ["junior", "senior"]))
                    legal = "nonprofit" if rnd.random() < 0.97 else "for_profit"
                else:
                    kind = rnd.choices(("sports", "arts", "science", "comprehensive", "other"),
                                       (25, 40, 20, 10, 5))[0]
                    audiences = rnd.choice((["primary"], ["primary", "junior"], ["junior"],
                                            ["preschool", "primary"], ["primary", "junior",
                                                                       "senior"]))
                    legal = "for_profit" if rnd.random() < 0.8 else "nonprofit"
                delivery = rnd.choices(("offline", "online", "blended"), (80, 8, 12))[0]
                status = rnd.choices(("active", "suspended", "closed"), (93, 3, 4))[0]
                place = names.get(region)
                if place is None:
                    place = names[region] = _place(region)
                brand = "".join(rnd.sample(BRAND_CHARS, rnd.choice((2, 2, 3))))
                name = place + brand + rnd.choice(KINDS[kind or "subject"])
                head = "52" if legal == "nonprofit" else "91"
                uscc = identifiers.uscc_with_check(
                    head + region + org_code((offset + step * (first + i)) % 10**8)[:9])
                address = (f"{regions.full_name(region)}{rnd.choice(STREETS)}"
                           f"{rnd.randint(1, 999)}号")
                iid = first + i
                self.institutions.append((iid, region, category, status, audiences, delivery))
                yield (iid, uscc, name, category, kind, _pg(audiences), delivery, legal, region,
                       address, status, created, created)

        self.counts["institutions"] = self.writer.write(
            "institutions", ("id", "uscc", "name", "category", "non_subject_type", "audiences",
                             "delivery", "legal_form", "region_code", "address", "status",
                             "created_at", "updated_at"), rows())

    # --- licences --------------------------------------------------------------------------
    def make_licences(self) -> None:
        rnd = self.rng("licences")
        first = self.writer.next_id("licences")
        first_event = self.writer.next_id("licence_events")
        events: list[tuple] = []
        self.licensed_until: dict[int, date] = {}
        self.shown: dict[int, tuple[date, str]] = {}  # see whitelist.shown
        issuers: dict[str, str] = {}

        def rows() -> Iterator[tuple]:
            lid = first
            for iid, region, _category, status, _aud, delivery in self.institutions:
                modes = {"offline": ("offline",), "online": ("online",),
                         "blended": ("offline", "online")}[delivery]
                for mode in modes:
                    issued = self.today - timedelta(days=rnd.randint(30, 5 * 365))
                    expires = issued + timedelta(days=rnd.choice((3, 5, 5, 6)) * 365)
                    if status == "closed":
                        state = "revoked"
                    elif status == "suspended":
                        state = "suspended"
                    else:
                        state = rnd.choices(("active", "suspended", "revoked"), (97, 2, 1))[0]
                        if rnd.random() < 0.05:  # lapsed, not yet renewed
                            expires = self.today - timedelta(days=rnd.randint(1, 200))
                            issued = min(issued, expires - timedelta(days=365))
                    if expires < issued:
                        issued = expires - timedelta(days=365)
                    issuer = issuers.get(region)
                    if issuer is None:
                        issuer = issuers[region] = regions.full_name(region) + "教育局"
                    number = f"教民{region}{issued.year}{lid:08d}号"
                    at = datetime.combine(issued, datetime.min.time()) + timedelta(hours=1)
                    events.append((first_event + len(events), lid, "issue", None, "active",
                                   None, expires, at, "seed"))
                    if state != "active":
                        events.append((first_event + len(events), lid,
                                       {"suspended": "suspend", "revoked": "revoke"}[state],
                                       "active", state, "监管检查", expires,
                                       at + timedelta(days=rnd.randint(1, 30)), "seed"))
                    if state == "active" and expires >= self.today and \
                            expires > self.shown.get(iid, (date.min,))[0]:
                        self.shown[iid] = (expires, number)
                    if state == "active" and issued <= self.today <= expires and \
                            status == "active":
                        self.licensed_until[iid] = max(expires,
                                                       self.licensed_until.get(iid, expires))
                    yield (lid, iid, number, issuer, issued, expires, mode,
                           rnd.choices(("renewal", "conversion", "import", "new"),
                                       (50, 30, 10, 10))[0], state, at, at)
                    lid += 1

        self.counts["licences"] = self.writer.write(
            "licences", ("id", "institution_id", "number", "issuer", "issued_on", "expires_on",
                         "delivery", "basis", "state", "created_at", "updated_at"), rows())
        self.counts["licence_events"] = self.writer.write(
            "licence_events", ("id", "licence_id", "action", "from_state", "to_state",
                               "reason", "expires_on", "at", "actor"), iter(events))

    # --- lists -----------------------------------------------------------------------------
    def make_blacklist(self) -> None:
        """About 0.3% of institutions blacklisted, and unlicensed operators half as many."""
        rnd = self.rng("blacklist")
        first = self.writer.next_id("blacklist_entries")
        self.blacklisted: set[int] = set()
        reasons = ("unlicensed_operation", "illegal_fee_collection", "fled_with_fees",
                   "safety_hazard", "repeated_breaches")
        texts = {"unlicensed_operation": "无证无照开展学科类培训", "illegal_fee_collection":
                 "超期超额预收费且未纳入资金监管", "fled_with_fees": "停业后拒不退还预收费用",
                 "safety_hazard": "消防安全隐患整改不到位", "repeated_breaches":
                 "两年内多次违规开展培训"}

        def rows() -> Iterator[tuple]:
            eid = first
            for iid, region, _c, _s, _a, _d in self.institutions:
                if rnd.random() < 0.003:
                    self.blacklisted.add(iid)
                    reason = rnd.choice(reasons[1:])
                    yield (eid, iid, None, f"机构{iid}", "-", region, reason, texts[reason], {},
                           "seed", self.now - timedelta(days=rnd.randint(1, 700)))
                    eid += 1
            for _ in range(max(1, round(self.n["institutions"] * 0.0015))):
                region = rnd.choice(self.institutions)[1]
                name = regions.full_name(region) + "".join(rnd.sample(BRAND_CHARS, 2)) + "辅导班"
                yield (eid, None, None, name, regions.full_name(region) + "某小区", region,
                       "unlicensed_operation", texts["unlicensed_operation"], {}, "seed",
                       self.now - timedelta(days=rnd.randint(1, 700)))
                eid += 1

        # names and USCCs of blacklisted institutions are filled in from their rows below
        self.counts["blacklist_entries"] = self.writer.write(
            "blacklist_entries", ("id", "institution_id", "uscc", "name", "address",
                                  "region_code", "reason_code", "reason", "evidence",
                                  "decided_by", "decided_at"),
            ((*r[:8], _pg(r[8]), *r[9:]) for r in rows()))
        self.writer.connection.execute(sa.text(
            "UPDATE blacklist_entries SET uscc = (SELECT uscc FROM institutions i WHERE "
            "i.id = blacklist_entries.institution_id), name = (SELECT name FROM institutions i "
            "WHERE i.id = blacklist_entries.institution_id), address = (SELECT address FROM "
            "institutions i WHERE i.id = blacklist_entries.institution_id) "
            "WHERE institution_id IS NOT NULL AND id >= :first"), {"first": first})

    def make_whitelist(self) -> None:
        """An open interval for each active, licensed, not blacklisted institution."""
        first = self.writer.next_id("whitelist_intervals")
        listed = [(iid, until) for iid, until in self.licensed_until.items()
                  if iid not in self.blacklisted]
        since = self.now - timedelta(days=30)
        self.counts["whitelist_intervals"] = self.writer.write(
            "whitelist_intervals", ("id", "institution_id", "listed_from", "listed_until",
                                    "licensed_until", "opened_by", "closed_by",
                                    "licence_number", "licence_expires_on"),
            ((first + k, iid, since, None, until, "seed.national", None, self.shown[iid][1],
              self.shown[iid][0]) for k, (iid, until) in enumerate(listed)))


    # --- staff --------------------------------------------------------------------------------
    def make_staff(self) -> None:
        """Teachers first in each institution's block of ids, then other staff.

        ID numbers are valid GB 11643 numbers, stored exactly as the staff service stores them:
        Fernet-encrypted, a keyed blind index, and the masked copy."""
        from stdnum.cn import ric

        from registry import crypto

        rnd = self.rng("staff")
        first = self.writer.next_id("staff")
        self.teachers: dict[int, tuple[int, int]] = {}  # institution -> (first id, teachers)
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
        given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤"
        subjects = {"subject": ("chinese", "math", "foreign_language", "physics", "chemistry",
                                "biology", "history", "geography", "morality_law")}
        sizes = _allocate(self.n["staff"], len(self.institutions), rnd)
        kinds = list(self.institution_kinds())  # before the COPY: it holds the connection

        def rows() -> Iterator[tuple]:
            sid = first
            for (iid, region, category, _s, _a, _d, kind), size in zip(
                    kinds, sizes, strict=True):
                teachers = max(1, round(size * 0.75)) if size else 0
                self.teachers[iid] = (sid, teachers)
                pool = subjects.get(category) or (kind,)
                for k in range(size):
                    teacher = k < teachers
                    birth = date(1965, 1, 1) + timedelta(days=rnd.randrange(14_000))
                    body = (f"{_birth_county(region, birth.year)}{birth:%Y%m%d}"
                            f"{rnd.randrange(1000):03d}")
                    number = body + ric.calc_check_digit(body + "0")  # wants a placeholder
                    foreign_abroad = teacher and rnd.random() < 0.001
                    cert = None
                    if teacher and rnd.random() < (0.97 if category == "subject" else 0.6):
                        cert = f"{rnd.randint(2005, 2024)}{region[:2]}{rnd.randrange(10**11):011d}"
                    yield (sid, iid, region, rnd.choice(surnames) + "".join(
                        rnd.choices(given, k=rnd.choice((1, 2)))),
                        crypto.encrypt(number), crypto.blind_index(number),
                        identifiers.mask_ric(number), "teacher" if teacher else "staff", cert,
                        _pg(rnd.sample(pool, min(len(pool), rnd.choice((1, 1, 2)))) if teacher
                            else []),
                        teacher and rnd.random() < 0.005, "US" if foreign_abroad else "CN",
                        foreign_abroad, rnd.random() < 0.85, self.now, self.now)
                    sid += 1

        self.counts["staff"] = self.writer.write(
            "staff", ("id", "institution_id", "region_code", "name", "id_number_encrypted",
                      "id_number_index", "id_number_masked", "role", "teacher_cert_no",
                      "subjects", "in_service_school_teacher", "nationality", "located_abroad",
                      "full_time", "created_at", "updated_at"), rows())

    def institution_kinds(self) -> Iterator[tuple]:
        """Institutions with their non-subject type (re-derived: not kept in memory)."""
        # read before the COPY starts: the connection is busy while a COPY runs
        kinds = self.writer.connection.execute(sa.text(
            "SELECT id, non_subject_type FROM institutions WHERE id >= :a AND id <= :b "
            "ORDER BY id"), {"a": self.institutions[0][0], "b": self.institutions[-1][0]}).all()
        return self._with_kinds(kinds)

    def _with_kinds(self, kinds) -> Iterator[tuple]:
        for inst, (iid, kind) in zip(self.institutions, kinds, strict=True):
            assert inst[0] == iid
            yield (*inst, kind or "other")

    # --- courses and sessions ----------------------------------------------------------------
    def make_courses_and_sessions(self) -> None:
        """Courses filed by each institution and their timetables, with breaches in realistic
        proportions: about 1.5% of offline lessons end after 20:30, 3% of subject lessons for
        the compulsory stage fall on a weekend, 3% of online courses run lessons over 30 min,
        5% of subject prices are above the guidance price."""
        rnd = self.rng("courses")
        first_course = self.writer.next_id("courses")
        first_session = self.writer.next_id("course_sessions")
        n_sessions = self.n["sessions"]
        per_course = 10
        n_courses = max(1, n_sessions // per_course)
        # courses at institutions licensed today, and at 2% of the others (unlicensed teaching)
        operating = [i[0] in self.licensed_until or rnd.random() < 0.02
                     for i in self.institutions]
        shares = iter(_allocate(n_courses, sum(operating), rnd))
        sizes = [next(shares) if on else 0 for on in operating]
        kinds = list(self.institution_kinds())
        subject_pool = ("chinese", "math", "foreign_language", "physics", "chemistry", "biology")
        specs: list[tuple] = []  # per course: what its sessions need
        cst = timedelta(hours=8)
        start_day = self.today - timedelta(days=21)
        budget = [n_sessions]

        def course_rows() -> Iterator[tuple]:
            cid = first_course
            for (iid, region, category, _s, audiences, delivery, kind), size in zip(
                    kinds, sizes, strict=True):
                t_first, t_count = self.teachers.get(iid, (None, 0))
                for _ in range(size):
                    mode = {"blended": rnd.choice(("offline", "online"))}.get(delivery, delivery)
                    subject = rnd.choice(subject_pool) if category == "subject" else kind
                    audience = rnd.choice(audiences)
                    if audience == "preschool" and mode == "online" and rnd.random() > 0.02:
                        mode = "offline"
                    if mode == "online":
                        minutes = 40 if rnd.random() < 0.03 else 30
                    else:
                        minutes = rnd.choice((45, 45, 60, 90))
                    size_band = rnd.choices(("small", "medium", "large"), (50, 40, 10))[0]
                    base = {"small": 8000, "medium": 6000, "large": 4000}[size_band]
                    if mode == "online":
                        base = 2000
                    base = base * minutes // (30 if mode == "online" else 45)
                    price = base * (rnd.randint(60, 110) if rnd.random() > 0.05 else
                                    rnd.randint(115, 160)) // 100
                    if category != "subject":
                        price = rnd.randint(50, 300) * 100
                    title = f"{_SUBJECT_NAMES.get(subject, '课程')}{rnd.choice(_LEVELS)}班"
                    yield (cid, iid, region, title, subject, audience, mode, minutes, price,
                           size_band, rnd.choice((20, 30, 40, 48)), False, self.now, self.now)
                    count = min(per_course, budget[0])
                    budget[0] -= count
                    weekly = subject in subject_pool and audience in ("primary", "junior")
                    teacher = t_first + rnd.randrange(t_count) if t_count else None
                    specs.append((cid, mode, minutes, weekly, teacher, count))
                    cid += 1

        def session_rows() -> Iterator[tuple]:
            """Streamed from the small per-course specs, so memory stays flat."""
            srnd, sid = self.rng("sessions"), first_session
            for cid, mode, minutes, weekly, teacher, count in specs:
                day = start_day + timedelta(days=srnd.randrange(7))
                if weekly and day.weekday() >= 5:  # subject lessons on school days
                    day -= timedelta(days=day.weekday() - 4)
                hour = srnd.choice((16, 17, 18, 19)) if mode == "offline" else \
                    srnd.choice((18, 19, 20))
                minute = 0 if hour == 19 and mode == "offline" else srnd.choice((0, 30))
                for _k in range(count):
                    when = day
                    if weekly and srnd.random() < 0.03:
                        when = day + timedelta(days=(5 - day.weekday()) % 7)
                    start = datetime(when.year, when.month, when.day, hour, minute)
                    if mode == "offline" and srnd.random() < 0.015:
                        start = start.replace(hour=20, minute=0)
                    yield (sid, cid, teacher, start - cst, start - cst + timedelta(
                        minutes=minutes))
                    sid += 1
                    day += timedelta(days=7 if weekly else srnd.choice((3, 4, 7)))

        # courses stream; their sessions are buffered per chunk of courses and then written
        self.counts["courses"] = self.writer.write(
            "courses", ("id", "institution_id", "region_code", "title", "subject", "audience",
                        "delivery", "lesson_minutes", "price_per_lesson", "class_size",
                        "lessons_total", "stale", "created_at", "updated_at"), course_rows())
        self.counts["course_sessions"] = self.writer.write(
            "course_sessions", ("id", "course_id", "teacher_id", "starts_at", "ends_at"),
            session_rows())
        specs.clear()

    # --- custody -----------------------------------------------------------------------------
    def make_escrow(self) -> None:
        """One custody account per institution still operating, at one of six banks; a year of
        transactions with a consistent running balance; alerts in realistic proportions."""
        from types import SimpleNamespace

        from registry.escrow.ledger import _digest

        banks = {"102": "中国工商银行", "103": "中国农业银行", "104": "中国银行",
                 "105": "中国建设银行", "301": "交通银行", "403": "中国邮政储蓄银行"}
        conn = self.writer.connection
        existing = {r[0] for r in conn.execute(sa.text("SELECT code FROM escrow_banks"))}
        self.writer.write("escrow_banks", ("code", "name", "created_at"),
                          ((c, n, self.now) for c, n in banks.items() if c not in existing))
        rnd_acc, rnd = self.rng("escrow-accounts"), self.rng("escrow")
        first_acc = self.writer.next_id("escrow_accounts")
        first_txn = self.writer.next_id("escrow_transactions")
        start = self.now - timedelta(days=365)
        accounts = []  # (id, institution, region, category, bank, number, min balance, drained)
        for k, (iid, region, category, _st, _a, _d) in enumerate(
                i for i in self.institutions if i[3] != "closed"):
            bank = rnd_acc.choice(tuple(banks))
            accounts.append((first_acc + k, iid, region, category, bank,
                             f"{bank}{region}{first_acc + k:010d}",
                             rnd_acc.choice((0, 1_000_000, 5_000_000)),
                             rnd_acc.random() < 0.002))  # the "run away with the money" pattern
        self.counts["escrow_accounts"] = self.writer.write("escrow_accounts", (
            "id", "institution_id", "region_code", "bank_code", "account_number", "min_balance",
            "large_outflow_threshold", "balance", "txn_count", "created_at", "updated_at"),
            ((a[0], a[1], a[2], a[4], a[5], a[6], 5_000_000, 0, 0, start, self.now)
             for a in accounts))
        sizes = _allocate(self.n["transactions"], len(accounts), rnd)
        finals: list[tuple] = []
        alerts: list[tuple] = []

        def txn_rows() -> Iterator[tuple]:
            tid = first_txn
            for (aid, iid, region, category, bank, number, _min, drained), size in zip(
                    accounts, sizes, strict=True):
                balance, at = 0, start + timedelta(minutes=rnd.randrange(60 * 24 * 30))
                step = timedelta(seconds=max(60, 330 * 86400 // max(size, 1)))
                for j in range(size):
                    at += step
                    if drained and j == size - 1 and balance > 0:
                        kind, amount = "withdrawal", balance
                    elif balance < 200_000 or rnd.random() < 0.35:
                        kind = "prepaid_income"
                        cap = 500_000 if category != "subject" else 400_000
                        amount = rnd.randint(20, cap // 100) * 100
                        if rnd.random() < 0.005:  # over the 5,000-yuan cap
                            amount = rnd.randint(500_100, 1_200_000)
                    else:
                        kind = rnd.choices(("release", "refund", "fee", "interest"),
                                           (85, 8, 4, 3))[0]
                        amount = min(balance, rnd.randint(50, 400) * 100) or 100
                    delta = amount if kind in ("prepaid_income", "interest") else -amount
                    balance += delta
                    income = kind == "prepaid_income"
                    txn = SimpleNamespace(
                        occurred_at=at.replace(tzinfo=UTC), kind=kind, amount=amount,
                        balance_after=balance,
                        student_ref=f"S{rnd.randrange(10**8):08d}" if income else None,
                        covers_lessons=rnd.choice((10, 20, 30, 48)) if income else None,
                        covers_until=(at + timedelta(days=rnd.choice((30, 60, 90)))).date()
                        if income else None)
                    yield (tid, aid, bank, f"{number}-{j:07d}", at, kind, amount, delta,
                           balance, txn.student_ref, txn.covers_lessons, txn.covers_until,
                           _digest(number, txn), at)
                    tid += 1
                finals.append((aid, balance, at, size))
                for kind, chance, severity in (("BALANCE_BELOW_MINIMUM", 0.004, "high"),
                                               ("LARGE_OUTFLOW", 0.006, "medium"),
                                               ("RAPID_DRAIN", 0.0, "critical")):
                    if (kind == "RAPID_DRAIN" and drained) or rnd.random() < chance:
                        alerts.append((kind, severity, aid, number, bank, iid, region, at))

        self.counts["escrow_transactions"] = self.writer.write(
            "escrow_transactions", ("id", "account_id", "bank_code", "bank_txn_id",
                                    "occurred_at", "kind", "amount", "delta", "balance_after",
                                    "student_ref", "covers_lessons", "covers_until", "digest",
                                    "received_at"), txn_rows())
        conn.exec_driver_sql("CREATE TEMPORARY TABLE seed_balances (id bigint, balance bigint, "
                             "as_of timestamp, txns bigint)")
        self.writer.write("seed_balances", ("id", "balance", "as_of", "txns"), iter(finals))
        conn.exec_driver_sql(
            "UPDATE escrow_accounts SET balance = b.balance, balance_as_of = b.as_of, "
            "txn_count = b.txns FROM seed_balances b WHERE escrow_accounts.id = b.id")
        conn.exec_driver_sql("DROP TABLE seed_balances")
        usccs = dict(conn.execute(sa.text("SELECT id, uscc FROM institutions WHERE id >= :a"),
                                  {"a": self.institutions[0][0]}).all())
        first_alert = self.writer.next_id("escrow_alerts")
        self.counts["escrow_alerts"] = self.writer.write(
            "escrow_alerts", ("id", "kind", "severity", "account_id", "account_number",
                              "bank_code", "institution_id", "uscc", "region_code", "created_at",
                              "details"),
            ((first_alert + k, *a[:6], usccs[a[5]], a[6], a[7], _pg({"generated": True}))
             for k, a in enumerate(sorted(alerts, key=lambda a: a[7]))))
        self.writer.write("escrow_alert_states", ("account_id", "kind", "active", "changed_at"),
                          ((a[2], a[0], True, a[7]) for a in alerts))


_SUBJECT_NAMES = {"chinese": "语文", "math": "数学", "foreign_language": "英语", "physics": "物理",
                  "chemistry": "化学", "biology": "生物", "sports": "体育", "arts": "艺术",
                  "science": "科技", "comprehensive": "综合实践", "other": "素质拓展"}
_LEVELS = ("启蒙", "基础", "提高", "精品", "兴趣", "进阶", "寒假", "周末")


def _allocate(total: int, parts: int, rnd: random.Random) -> list[int]:
    """Split `total` into `parts` uneven sizes (each between about half and 1.5 times the mean)
    that add up exactly."""
    if parts == 0:
        return []
    weights = [0.5 + rnd.random() for _ in range(parts)]
    scale = total / sum(weights)
    out, acc, done = [], 0.0, 0
    for w in weights:
        acc += w * scale
        size = round(acc) - done
        out.append(size)
        done += size
    return out


def _valid_birth_place(county: str, year: int) -> bool:
    from stdnum.cn import ric

    body = f"{county}{year}0101001"
    return ric.is_valid(body + ric.calc_check_digit(body + "0"))


@functools.cache
def _birth_county(region: str, year: int) -> str:
    """The region itself when its code was in use in `year`, else a county of the province
    whose code was: a resident ID names where it was issued, as of then. (Validity depends only
    on the code and the year, so stdnum's slow look-up runs once per pair, not once per ID.)"""
    return region if _valid_birth_place(region, year) else _province_county(region[:2], year)


@functools.cache
def _province_county(province: str, year: int) -> str:
    for code in sorted(regions.all_regions()):
        if code[:2] == province and regions.get(code).level == "county" \
                and _valid_birth_place(code, year):
            return code
    return "110101"


def _has_tables(*names: str) -> bool:
    import registry.models  # noqa: F401  every model the tree has so far

    return all(name in db.metadata.tables for name in names) and all(
        sa.inspect(db.session.connection()).has_table(name) for name in names)


def _place(region: str) -> str:
    """The name a local business would carry: the city, or the county for county towns."""
    county = regions.get(region)
    city = regions.get(region[:4] + "00")
    if city and city.name not in regions.PLACEHOLDERS:
        return city.name
    return county.name if county else ""


def generate(scale: float, seed: int = 1, today: date | None = None,
             progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Generate and write everything (in the caller's transaction); returns row counts."""
    return National(scale, seed, today, progress).run()
