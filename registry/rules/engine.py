"""The rule engine: loads facts for the pure checks (`registry.rules.checks`) and keeps the
stored breaches in line with what they find.

One institution is the unit of evaluation (a teacher's lessons and the institution's licences
are all inside it). The check on write, the dry run and the rescan all go through `_facts` and
`checks.evaluate`, so they cannot disagree; the rescan only streams institutions in chunks.
On PostgreSQL the rescan judges the per-session rules in SQL instead (`registry.rules.bulk`),
held to the same findings by tests/registry/rules/test_bulk.py.
"""

import json
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from registry import audit, clock, regions
from registry import calendar as cal
from registry.courses.models import Course, CourseSession
from registry.db import UTCDateTime, db, is_postgres, utcnow
from registry.institutions import licences as licence_service
from registry.institutions import services as institution_service
from registry.institutions.models import Institution, Licence
from registry.rules import checks
from registry.rules.models import Breach, BreachEvent, Rule, RuleOverride
from registry.staff.models import Staff

CST_OFFSET = timedelta(hours=8)
SCOPE_LETTER = {"session": "s", "course": "c", "staff": "t", "institution": "i"}
LIVE = ("open", "confirmed")
SYSTEM_NOTE = "复查时该情形已不再存在，系统自动标记为已解决。"
REOPEN_NOTE = "复查时再次发现该情形，系统自动重新打开。"


# --- the catalogue, merged per region ---------------------------------------------------------
class Catalogue:
    """Every rule and override, read once; parameters merged per region on demand."""

    def __init__(self):
        rules = db.session.execute(sa.select(Rule.code, Rule.params, Rule.enabled,
                                             Rule.severity)).all()
        self.base = {r.code: (dict(r.params or {}), r.enabled) for r in rules}
        self.severity = {r.code: r.severity for r in rules}
        overrides = db.session.execute(sa.select(
            RuleOverride.rule_code, RuleOverride.region_code, RuleOverride.params,
            RuleOverride.enabled)).all()
        self.overrides = sorted(overrides, key=lambda o: len(regions.prefix(o.region_code)))
        self._cache: dict = {}
        self._merged: dict = {}

    def for_region(self, region_code: str | None) -> dict:
        """The merged parameters; regions under the same overrides share one (read-only) dict,
        so what is derived from it can be cached by its identity."""
        hit = self._cache.get(region_code)
        if hit is None:
            applies = tuple(k for k, o in enumerate(self.overrides)
                            if region_code and regions.covers(o.region_code, region_code))
            hit = self._merged.get(applies)
            if hit is None:
                hit = self._merged[applies] = self._merge(applies)
            self._cache[region_code] = hit
        return hit

    def _merge(self, applies: tuple) -> dict:
        hit = {}
        for code, (params, enabled) in self.base.items():
            hit[code] = dict(params) | {"enabled": enabled}
        for k in applies:  # broadest first: the most specific region wins
            o = self.overrides[k]
            if o.rule_code in hit:
                hit[o.rule_code].update(o.params or {})
                if o.enabled is not None:
                    hit[o.rule_code]["enabled"] = o.enabled
        return hit


@dataclass
class World:
    """What is the same for every institution in one evaluation: catalogue and calendar."""

    catalogue: Catalogue = field(default_factory=Catalogue)
    calendar: cal.Calendar = field(default_factory=cal.load)
    vacations: list = field(default_factory=cal.vacations_by_region)
    _vacations_by_region: dict = field(default_factory=dict)
    _rules: dict = field(default_factory=dict)

    def context(self, region_code: str | None, institution=None, staff=None) -> checks.Context:
        region_vacations = ()
        if region_code:
            region_vacations = self._vacations_by_region.get(region_code)
            if region_vacations is None:
                region_vacations = cal.vacations_for(self.vacations, region_code)
                self._vacations_by_region[region_code] = region_vacations
        params = self.catalogue.for_region(region_code)
        ctx = checks.Context(params, self.calendar, region_vacations, institution, staff or {})
        rules = self._rules.get(id(params))
        if rules is None:  # the enabled rules depend on the parameters alone
            rules = self._rules[id(params)] = ctx.rules()
        ctx._enabled_rules = rules
        return ctx


# --- loading facts ----------------------------------------------------------------------------
def _of(column, institution_ids: list[int]):
    """`column` among these institutions (sorted ids). A dense run of ids (a rescan chunk)
    becomes a range, which spares rendering and parsing hundreds of bound parameters per query;
    rows of institutions in the range but not asked for are skipped by the caller."""
    first, last = institution_ids[0], institution_ids[-1]
    if len(institution_ids) > 8 and last - first < 2 * len(institution_ids):
        return column.between(first, last)
    return column.in_(institution_ids)


def _among(column, ids: list[int]):
    """`column` IN these ids; on PostgreSQL one array parameter instead of one per id."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.Integer)))
    return column.in_(ids)


def _rows(result, plain: bool) -> list:
    """Every row of `result`. With `plain` (SQLAlchemy converts none of the columns) and on
    PostgreSQL, the driver's own tuples: building result rows costs more than fetching them."""
    if plain and result.dialect.name == "postgresql":
        try:
            return result.cursor.fetchall()
        finally:
            result.close()
    return result.all()


def _facts(institution_ids: list[int]) -> dict:
    """{institution_id: (InstitutionFacts, [(CourseFacts, [SessionFacts])], {id: StaffFacts})}"""
    if not institution_ids:
        return {}
    institution_ids = sorted(institution_ids)
    out = _institutions(institution_ids)
    _add_staff(out, institution_ids)
    _add_courses(out, institution_ids)
    return out


def _institutions(institution_ids: list[int]) -> dict:
    """The institutions (sorted ids) with their licences, no courses or staff yet."""
    out = {}
    run = db.session.connection().execute
    licences = defaultdict(list)
    make = checks.LicenceFacts
    for r in run(sa.select(
            Licence.institution_id, Licence.issued_on, Licence.expires_on, Licence.state,
            Licence.delivery).where(_among(Licence.institution_id, institution_ids))).all():
        licences[r[0]].append(make(r[1], r[2], r[3], r[4]))
    for r in run(sa.select(
            Institution.id, Institution.region_code, Institution.category, Institution.legal_form,
            Institution.audiences).where(_among(Institution.id, institution_ids))).all():
        inst = checks.InstitutionFacts(r[0], r[1], r[2], r[3], tuple(r[4] or ()),
                                       tuple(licences.get(r[0], ())))
        out[r[0]] = (inst, [], {})
    return out


def _add_staff(out: dict, institution_ids: list[int], staff_ids: list[int] | None = None):
    """Every staff member, or (the bulk rescan) only `staff_ids` and those a staff rule may
    concern (in service at a school, located abroad)."""
    make = checks.StaffFacts
    stmt = sa.select(
        Staff.institution_id, Staff.id, Staff.name, Staff.role, Staff.teacher_cert_no,
        Staff.in_service_school_teacher, Staff.nationality, Staff.located_abroad,
        Staff.full_time).where(_of(Staff.institution_id, institution_ids))
    if staff_ids is not None:
        stmt = stmt.where(sa.or_(Staff.in_service_school_teacher, Staff.located_abroad,
                                 _among(Staff.id, staff_ids)))
    for r in _rows(db.session.connection().execute(stmt), True):
        entry = out.get(r[0])
        if entry is not None:
            entry[2][r[1]] = make(r[1], r[2], r[3], bool(r[4]), bool(r[5]), r[6], bool(r[7]),
                                  bool(r[8]))


def _add_courses(out: dict, institution_ids: list[int], online_only: bool = False):
    """The courses with their sessions sorted by start; with `online_only` (the bulk rescan,
    for the breaks) only the sessions of online courses."""
    S = CourseSession
    run = db.session.connection().execute
    courses = {}
    make = checks.CourseFacts
    for r in run(sa.select(
            Course.institution_id, Course.id, Course.title, Course.subject, Course.audience,
            Course.delivery, Course.lesson_minutes, Course.price_per_lesson, Course.class_size)
            .where(_of(Course.institution_id, institution_ids)).order_by(Course.id)).all():
        entry = out.get(r[0])
        if entry is not None:
            course = (make(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]), [])
            courses[r[1]] = course[1]
            entry[1].append(course)
    if courses:
        naive = sa.DateTime()  # skip the aware conversion: CST is UTC+8 all year
        stmt = (sa.select(S.course_id, S.id, sa.type_coerce(S.starts_at, naive),
                          sa.type_coerce(S.ends_at, naive), S.teacher_id)
                .join(Course, Course.id == S.course_id)
                .where(_of(Course.institution_id, institution_ids))
                .order_by(S.course_id, S.starts_at, S.id))
        if online_only:
            stmt = stmt.where(Course.delivery == "online")
        make, offset, get = checks.SessionFacts, CST_OFFSET, courses.get
        current_id, bucket = None, None
        # one chunk of institutions is fetched whole; memory stays bounded by the chunk
        for course_id, sid, start, end, teacher in _rows(run(stmt), True):
            if course_id != current_id:
                current_id, bucket = course_id, get(course_id)
            if bucket is not None:
                bucket.append(make(sid, start + offset, end + offset, teacher))


def _evaluate(world: World, facts) -> list[checks.Finding]:
    inst, courses, staff = facts
    return checks.evaluate(courses, world.context(inst.region_code, inst, staff))


# --- storing findings -------------------------------------------------------------------------
def dedupe_key(finding: checks.Finding, institution_id: int) -> str:
    scope = finding.scope
    if scope == "session":
        return f"{finding.rule}:s{finding.session_ref}"
    if scope == "course":
        return f"{finding.rule}:c{finding.course_id}"
    if scope == "staff":
        return f"{finding.rule}:t{finding.staff_id}"
    return f"{finding.rule}:i{institution_id}"


@dataclass
class Stats:
    institutions: int = 0
    courses: int = 0
    sessions: int = 0
    findings: int = 0
    opened: int = 0
    reopened: int = 0
    resolved: int = 0
    seconds: float = 0.0

    @property
    def sessions_per_second(self) -> float:
        return self.sessions / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("institutions", "courses", "sessions", "findings",
                                               "opened", "reopened", "resolved")} | {
            "seconds": round(self.seconds, 3),
            "sessions_per_second": round(self.sessions_per_second)}


def reconcile(world: World, found: dict, stats: Stats) -> None:
    """Make the stored breaches of these institutions match `found` ({inst: (facts, findings)}):
    open what is new, reopen what was resolved, resolve what no longer holds. Dismissed
    breaches stay dismissed; one rule on one thing is one breach (the dedupe key)."""
    if not found:
        return
    existing = {}
    run = db.session.connection().execute
    for chunk in _chunks(list(found), 500):
        for bid, key, status in run(sa.select(Breach.id, Breach.dedupe_key, Breach.status).where(
                _among(Breach.institution_id, chunk), Breach.rule.in_(checks.CODES))):
            existing[key] = (bid, status)
    now, severity = utcnow(), world.catalogue.severity
    new, seen, reopen = [], set(), []
    for inst_id, (facts, findings) in found.items():
        region = facts[0].region_code
        for f in findings:
            key = dedupe_key(f, inst_id)
            if key in seen:
                continue
            seen.add(key)
            hit = existing.get(key)
            if hit is None:
                new.append({
                    "rule": f.rule, "severity": severity.get(f.rule, "medium"),
                    "message": f.message, "dedupe_key": key, "institution_id": inst_id,
                    "region_code": region, "course_id": f.course_id,
                    "session_id": f.session_ref if f.scope == "session" else None,
                    "staff_id": f.staff_id, "details": f.details, "status": "open",
                    "detected_at": now, "updated_at": now})
            elif hit[1] == "resolved":
                reopen.append(hit[0])
    gone = [(bid, status) for key, (bid, status) in existing.items()
            if key not in seen and status in LIVE]
    stats.findings += len(seen)
    _insert(new)
    _move(reopen, "resolved", "open", REOPEN_NOTE, now)
    by_status = defaultdict(list)
    for bid, status in gone:
        by_status[status].append(bid)
    for status, ids in by_status.items():
        _move(ids, status, "resolved", SYSTEM_NOTE, now)
    stats.opened += len(new)
    stats.reopened += len(reopen)
    stats.resolved += len(gone)


COLUMNS = ("rule", "severity", "message", "dedupe_key", "institution_id", "region_code",
           "course_id", "session_id", "staff_id", "details", "status", "detected_at",
           "updated_at")


def _insert(rows: list[dict]) -> None:
    """New breaches: one COPY on PostgreSQL (a first rescan opens tens of thousands), bulk
    inserts elsewhere."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        for chunk in _chunks(rows, 1000):
            db.session.execute(sa.insert(Breach), chunk)
        return
    dumps = connection.dialect._json_serializer or json.dumps
    stored = Breach.__table__.c
    times: dict = {}

    def utc(v):
        hit = times.get(v)  # every row of a rescan has the same timestamps
        if hit is None:
            hit = times[v] = _copy_text(v.astimezone(UTC).replace(tzinfo=None).isoformat())
        return hit

    def text(v):
        return _copy_text(v) if isinstance(v, str) else str(v)

    convert = [(c, utc if isinstance(stored[c].type, UTCDateTime) else
                (lambda v: _copy_text(dumps(v))) if c == "details" else text) for c in COLUMNS]
    raw = connection.connection.driver_connection
    names = ", ".join(COLUMNS)
    # the rows as COPY text built here: cheaper than the driver's adaptation of each value
    with raw.cursor() as cur, cur.copy(f"COPY breaches ({names}) FROM STDIN") as copy:
        for chunk in _chunks(rows, 1000):
            copy.write("".join("\t".join(r"\N" if (v := row[c]) is None else f(v)
                                          for c, f in convert) + "\n" for row in chunk))


def _copy_text(v: str) -> str:
    """A value in COPY's text format: backslash, tab, newline and return escaped."""
    if "\\" in v or "\t" in v or "\n" in v or "\r" in v:
        return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace(
            "\r", "\\r")
    return v


def _move(ids: list[int], from_status: str, to_status: str, note: str, now) -> None:
    actor = audit.current_actor().name
    for chunk in _chunks(ids, 1000):
        db.session.execute(sa.update(Breach).where(Breach.id.in_(chunk))
                           .values(status=to_status, updated_at=now))
        db.session.execute(sa.insert(BreachEvent), [
            {"breach_id": bid, "from_status": from_status, "to_status": to_status,
             "note": note, "actor": actor, "at": now} for bid in chunk])


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- the check on write -----------------------------------------------------------------------
def check_institution(institution_id: int, world: World | None = None) -> list[checks.Finding]:
    """Re-evaluate one institution after a write and store the outcome; returns its findings."""
    db.session.flush()
    if is_postgres():  # one evaluation of an institution at a time: no duplicate-key races
        # NO KEY UPDATE: it does not wait for the KEY SHARE that a concurrent insert of a row
        # referencing the institution holds (FOR UPDATE would, and deadlock with it)
        db.session.execute(sa.select(Institution.id).where(Institution.id == institution_id)
                           .with_for_update(key_share=True))
    world = world or World()
    facts = _facts([institution_id]).get(institution_id)
    if facts is None:
        return []
    findings = _evaluate(world, facts)
    stats = Stats()
    reconcile(world, {institution_id: (facts, findings)}, stats)
    _clear_stale([institution_id])
    if stats.opened or stats.reopened or stats.resolved:
        audit.record("rules.evaluate", "institution", institution_id, None,
                     {"opened": stats.opened, "reopened": stats.reopened,
                      "resolved": stats.resolved})
    db.session.flush()
    return findings


def stored(findings: list[checks.Finding], institution_id: int) -> list[dict]:
    """The findings as breach dicts with their stored id and status."""
    keys = [dedupe_key(f, institution_id) for f in findings]
    rows = {}
    for chunk in _chunks(keys, 1000):
        for r in db.session.execute(sa.select(Breach.id, Breach.dedupe_key, Breach.status,
                                              Breach.severity).where(
                Breach.dedupe_key.in_(chunk))):
            rows[r.dedupe_key] = r
    out = []
    for f, key in zip(findings, keys, strict=True):
        row = rows.get(key)
        out.append(as_dict(f) | ({"id": row.id, "status": row.status, "severity": row.severity}
                                  if row else {}))
    return out


def as_dict(f: checks.Finding, severity: dict | None = None) -> dict:
    out = {"rule": f.rule, "severity": (severity or {}).get(f.rule, "medium"),
           "message": f.message, "course_id": f.course_id, "staff_id": f.staff_id,
           "details": f.details}
    if f.scope == "session":
        out["session_id"] = f.session_ref
    return out


# --- the dry run ------------------------------------------------------------------------------
def dry_run(course: checks.CourseFacts, sessions: list[checks.SessionFacts],
            institution_id: int | None, region_code: str | None,
            teachers: dict | None = None) -> list[dict]:
    """Judge a course and its sessions (refs are their indexes) as if filed, storing nothing.
    With an institution, its licences, staff and other courses are judged with it."""
    world = World()
    sessions = sorted(sessions, key=lambda s: s.start)
    if institution_id is not None:
        inst, courses, staff = _facts([institution_id])[institution_id]
        courses = courses + [(course, sessions)]
        ctx = world.context(inst.region_code, inst, staff)
    else:
        courses = [(course, sessions)]
        ctx = world.context(region_code, None, teachers or {})
    teachers_used = {s.teacher_id for s in sessions}
    out = []
    for f in checks.evaluate(courses, ctx):
        mine = f.course_id is None and f.scope in ("course", "session")
        if mine or f.scope == "institution" or (f.scope == "staff" and f.staff_id in
                                                 teachers_used):
            d = as_dict(f, world.catalogue.severity)
            if f.scope == "session":
                d.pop("session_id")
                d["session_index"] = f.session_ref
            out.append(d)
    return out


# --- re-evaluation markers --------------------------------------------------------------------
def mark_stale_between(first: date, last: date, region_code: str | None = None) -> int:
    """Courses with lessons on these days (in CST) need re-evaluation."""
    start = clock.start_of_day(first)
    end = clock.start_of_day(last + timedelta(days=1))
    touched = sa.select(CourseSession.course_id).where(
        CourseSession.starts_at >= start, CourseSession.starts_at < end)
    stmt = sa.update(Course).where(Course.id.in_(touched), Course.stale.is_(False))
    if region_code:
        stmt = stmt.where(Course.region_code.startswith(regions.prefix(region_code)))
    return db.session.execute(stmt.values(stale=True)).rowcount


def mark_stale_region(region_code: str | None = None) -> int:
    """A rule changed: every course where it applies needs re-evaluation."""
    stmt = sa.update(Course).where(Course.stale.is_(False))
    if region_code:
        stmt = stmt.where(Course.region_code.startswith(regions.prefix(region_code)))
    return db.session.execute(stmt.values(stale=True)).rowcount


def _clear_stale(institution_ids: list[int]) -> None:
    db.session.execute(sa.update(Course).where(_among(Course.institution_id, institution_ids),
                                               Course.stale.is_(True)).values(stale=False))


def stale_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Course.stale.is_(True)))


# --- the rescan -------------------------------------------------------------------------------
def rescan(region: str | None = None, progress=None, *, stale_only: bool = False,
           chunk: int | None = None, commit: bool = True, in_sql: bool | None = None) -> Stats:
    """Re-evaluate every institution (in `region`, or with stale courses only), streaming them
    in chunks by id so memory stays bounded; `progress(n)` is told of each n sessions done.
    Commits after each chunk when `commit`. On PostgreSQL (`in_sql`) the per-session rules
    are judged in SQL (`registry.rules.bulk`), with commits one chunk ahead on a second
    connection; elsewhere every rule runs in Python."""
    started = time.perf_counter()
    world, stats = World(), Stats()
    if in_sql is None:
        in_sql = is_postgres()
    judge = None
    if in_sql:
        from registry.rules import bulk

        judge = bulk.Judge(world)
    chunk = chunk or (1000 if in_sql else 200)

    def after(last: int) -> list[int]:
        stmt = sa.select(Institution.id).where(Institution.id > last).order_by(Institution.id)
        if region:
            stmt = stmt.where(Institution.region_code.startswith(regions.prefix(region)))
        if stale_only:
            stmt = stmt.where(Institution.id.in_(
                sa.select(Course.institution_id).where(Course.stale.is_(True))))
        return list(db.session.scalars(stmt.limit(chunk)))

    with ExitStack() as stack:
        # Once a chunk is committed, what the SQL pass reads is committed too (the rescan
        # writes neither sessions nor staff), so the next chunk's pass can run on a second
        # connection while this one is judged and stored: PostgreSQL and Python overlap.
        ahead = prepared = queried = None
        ids = after(0)
        while ids:
            following = after(ids[-1])
            if judge is not None:
                if prepared is None:
                    prepared = judge.prepare(ids)
                    queried = judge.query(prepared, db.session.connection())
                else:
                    queried = queried.result()
                upcoming = None
                if ahead is not None and following:
                    upcoming = judge.prepare(following)
                    upcoming = (upcoming, ahead(upcoming))
                found, courses, done = judge.finish(prepared, queried)
                prepared, queried = upcoming or (None, None)
                stats.courses += courses
            else:
                found, done = {}, 0
                for inst_id, facts in _facts(ids).items():
                    found[inst_id] = (facts, _evaluate(world, facts))
                    stats.courses += len(facts[1])
                    done += sum(len(s) for _, s in facts[1])
            reconcile(world, found, stats)
            _clear_stale(ids)
            stats.institutions += len(ids)
            stats.sessions += done
            if commit:
                db.session.commit()
                if judge is not None and ahead is None:
                    ahead = _second_connection(stack, judge)
            if progress is not None:
                progress(done)
            ids = following
    stats.seconds = time.perf_counter() - started
    audit.record("rules.rescan", "rules", region, None, stats.as_dict() | {"region": region})
    if commit:
        db.session.commit()
    return stats


def _second_connection(stack: ExitStack, judge):
    """A function running `judge.query` on a connection of its own in a thread of its own;
    it returns a future."""
    other = stack.enter_context(db.engine.connect())
    pool = stack.enter_context(ThreadPoolExecutor(1))  # waits for its query, then it closes

    def query(chunk):
        try:
            return judge.query(chunk, other)
        finally:
            other.rollback()  # no transaction left open between chunks

    return lambda chunk: pool.submit(query, chunk)


# --- listeners: licence and institution changes -----------------------------------------------
def _on_licence(lic) -> None:
    check_institution(lic.institution_id)


def _on_institution(inst) -> None:
    for model in (Course, Staff):
        db.session.execute(sa.update(model).where(model.institution_id == inst.id,
                                                  model.region_code != inst.region_code)
                           .values(region_code=inst.region_code))
    check_institution(inst.id)


def wire() -> None:
    """Register the listeners (idempotent)."""
    if _on_licence not in licence_service.on_change:
        licence_service.on_change.append(_on_licence)
    if _on_institution not in institution_service.on_change:
        institution_service.on_change.append(_on_institution)


wire()
