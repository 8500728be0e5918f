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
        n = self.n["institutions"]
        return int(n * 3.3)

    def run(self) -> dict[str, int]:
        self.make_institutions()
        self.make_licences()
        self.make_blacklist()
        self.make_whitelist()
        for table in ("institutions", "licences", "licence_events", "whitelist_intervals",
                      "blacklist_entries"):
            self.writer.fix_sequence(table)
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
                                    "licensed_until", "opened_by", "closed_by"),
            ((first + k, iid, since, None, until, "seed.national", None)
             for k, (iid, until) in enumerate(listed)))


def _place(region: str) -> str:
    """The name a local business would carry: the city, or the county for county towns."""
    county = regions.get(region)
    city = regions.get(region[:4] + "00")
    if city and city.name not in ("市辖区", "县", "省直辖县级行政区划"):
        return city.name
    return county.name if county else ""


def generate(scale: float, seed: int = 1, today: date | None = None,
             progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Generate and write everything (in the caller's transaction); returns row counts."""
    return National(scale, seed, today, progress).run()
