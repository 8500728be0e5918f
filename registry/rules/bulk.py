"""The full rescan on PostgreSQL: the per-session rules as one SQL pass that returns only the
sessions breaking one of them.

The conditions are those of `registry.rules.checks` (ends after the offline/online cutoffs,
online lessons over the limit, unqualified teachers, holidays, rest days, vacations, no licence
valid that day, a delivery mode no licence allows), with the parameters merged per region, the
calendar, the vacations and the licences handed over as arrays computed by the same Python that
the checks read. What must see several sessions together (breaks between online lessons), the
course, staff and institution rules, and every message stay in Python (`checks.evaluate` with
`session_rules=False`). tests/registry/rules/test_bulk.py holds both to the same findings.
"""

from datetime import date, timedelta

import chinese_calendar
import sqlalchemy as sa

from registry.calendar import HOLIDAY, MAKEUP
from registry.db import db
from registry.rules import checks

DAY = timedelta(days=1)
# the order of the flags the query returns
FLAGS = ("OFFLINE_ENDS_AFTER_2030", "ONLINE_ENDS_AFTER_2100", "ONLINE_LESSON_OVER_30_MIN",
         "TEACHER_UNQUALIFIED", "SUBJECT_ON_HOLIDAY", "SUBJECT_ON_REST_DAY",
         "SUBJECT_IN_VACATION", "NO_ACTIVE_LICENCE", "LICENCE_DELIVERY_MISMATCH")
RULES = {code: (prepare, render) for code, prepare, _, render in
         checks.SESSION_RULES + checks.DAY_RULES}


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


# a Monday: (day - MONDAY) % 7 is 5 or 6 on weekends
MONDAY = "DATE '2001-01-01'"

SESSIONS = f"""
WITH p AS (
  SELECT inst, off_end * interval '1 second' AS off_end, on_end * interval '1 second' AS on_end,
         on_len * interval '1 second' AS on_len, teacher, holiday, rest, makeup, licence,
         mismatch
  FROM unnest(CAST(:p_inst AS int[]), CAST(:p_off AS int[]), CAST(:p_on AS int[]),
              CAST(:p_len AS int[]), CAST(:p_teacher AS bool[]), CAST(:p_holiday AS bool[]),
              CAST(:p_rest AS bool[]), CAST(:p_makeup AS bool[]), CAST(:p_licence AS bool[]),
              CAST(:p_mismatch AS bool[]))
    AS p(inst, off_end, on_end, on_len, teacher, holiday, rest, makeup, licence, mismatch)),
lic AS (
  SELECT * FROM unnest(CAST(:l_inst AS int[]), CAST(:l_first AS date[]),
                       CAST(:l_last AS date[]), CAST(:l_modes AS text[]))
    AS l(inst, first, last, modes)),
vac AS (
  SELECT * FROM unnest(CAST(:v_inst AS int[]), CAST(:v_first AS date[]),
                       CAST(:v_last AS date[])) AS v(inst, first, last)),
cal AS (
  SELECT * FROM unnest(CAST(:c_day AS date[]), CAST(:c_kind AS text[])) AS c(day, kind)),
uncertified AS (
  SELECT id, institution_id FROM staff
  WHERE institution_id BETWEEN :first AND :last AND coalesce(teacher_cert_no, '') = ''),
s AS MATERIALIZED (
  SELECT s.id, s.course_id, s.teacher_id, c.institution_id AS inst, c.delivery,
         s.starts_at + interval '8 hours' AS start, s.ends_at + interval '8 hours' AS finish,
         CAST(s.starts_at + interval '8 hours' AS date) AS day,
         c.subject IN ({_quoted(checks.SUBJECT_BASED)}) AS subj,
         c.subject IN ({_quoted(checks.SUBJECT_BASED)})
           AND c.audience IN ({_quoted(checks.COMPULSORY)}) AS comp
  FROM course_sessions s JOIN courses c ON c.id = s.course_id
  WHERE s.course_id = ANY(CAST(:courses AS int[]))
    AND c.institution_id BETWEEN :first AND :last),
judged AS (
  SELECT s.id, s.course_id, s.teacher_id, s.inst, s.start, s.finish,
    s.delivery = 'offline' AND s.finish - CAST(s.day AS timestamp) > p.off_end AS off_late,
    s.delivery = 'online' AND s.finish - CAST(s.day AS timestamp) > p.on_end AS on_late,
    s.delivery = 'online' AND s.finish - s.start > p.on_len AS too_long,
    s.subj AND p.teacher AND t.id IS NOT NULL AS unqualified,
    s.comp AND p.holiday AND d.kind = 'holiday' AS holiday,
    s.comp AND p.rest AND CASE WHEN d.kind IS NULL THEN (s.day - {MONDAY}) % 7 >= 5
                               ELSE d.kind = 'makeup' AND p.makeup END AS rest,
    s.comp AND v.inst IS NOT NULL AS vacation,
    p.licence AND l.inst IS NULL AS unlicensed,
    p.mismatch AND strpos(l.modes, ',' || s.delivery || ',') = 0 AS mismatch
  FROM s JOIN p ON p.inst = s.inst
  LEFT JOIN uncertified t ON t.id = s.teacher_id AND t.institution_id = s.inst
  LEFT JOIN cal d ON d.day = s.day
  LEFT JOIN lic l ON l.inst = s.inst AND s.day BETWEEN l.first AND l.last
  LEFT JOIN vac v ON v.inst = s.inst AND s.day BETWEEN v.first AND v.last)
SELECT * FROM judged
WHERE off_late OR on_late OR too_long OR unqualified OR holiday OR rest OR vacation
   OR unlicensed OR mismatch
UNION ALL
SELECT NULL, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL FROM s
"""

STAFF = """
SELECT institution_id, count(*),
       count(*) FILTER (WHERE role = 'teacher' AND full_time)
FROM staff WHERE institution_id BETWEEN :first AND :last
  AND institution_id = ANY(CAST(:ids AS int[]))
GROUP BY institution_id
"""


# --- what the query is handed -----------------------------------------------------------------
def calendar_days(calendar) -> tuple[list, list]:
    """The days whose kind is not the default (weekends rest, other days work): holidays and
    make-up working days, as `calendar.day` judges them."""
    days, kinds = [], []
    candidates = set(calendar.loaded) | set(chinese_calendar.holidays) | set(
        chinese_calendar.workdays)
    for day in sorted(candidates):
        kind = calendar.day(day)[0]
        if kind in (HOLIDAY, MAKEUP):
            days.append(day)
            kinds.append(kind)
    return days, kinds


def licence_spans(licences) -> list[tuple[date, date, str]]:
    """(first, last, ',mode,mode,') for each run of days on which the licences valid give the
    same, non-empty set of delivery modes (`Context.licensed_deliveries`)."""
    active = [(lic.issued_on, lic.expires_on, lic.delivery) for lic in licences
              if lic.state == "active" and lic.issued_on <= lic.expires_on]
    if not active:
        return []
    cuts = sorted({a for a, _, _ in active} | {b + DAY for _, b, _ in active if b < date.max})
    out = []
    for k, first in enumerate(cuts):
        last = cuts[k + 1] - DAY if k + 1 < len(cuts) else date.max
        modes = {d for a, b, d in active if a <= first <= b}
        if modes:
            out.append((first, last, "," + ",".join(sorted(modes)) + ","))
    return out


def merged(spans) -> list[tuple[date, date]]:
    """Overlapping or touching (first, last) spans joined."""
    out = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + DAY:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return '"' + value + '"'  # modes and day kinds: no quotes or backslashes
    return str(value)  # int, date (ISO)


def array(values) -> str:
    """A PostgreSQL array literal: building the text is cheaper than the driver's per-item
    adaptation of long lists."""
    return "{" + ",".join(map(_literal, values)) + "}"


# --- one chunk --------------------------------------------------------------------------------
class Judge:
    """Judges chunks of institutions for one rescan (the calendar is read once)."""

    def __init__(self, world):
        self.world = world
        days, kinds = calendar_days(world.calendar)
        self.calendar = {"c_day": array(days), "c_kind": array(kinds)}
        self._regions: dict = {}

    def __call__(self, ids: list[int]) -> tuple[dict, int, int]:
        """({inst: (facts, findings)}, courses, sessions) for these institutions."""
        from registry.rules.engine import _add_courses, _add_staff, _institutions

        ids = sorted(ids)
        bounds = {"first": ids[0], "last": ids[-1], "ids": array(ids)}
        run = db.session.connection().execute
        facts = _institutions(ids)
        _add_courses(facts, ids, online_only=True)
        by_course = {c.id: c for _, courses, _ in facts.values() for c, _ in courses}
        bounds["courses"] = array(by_course)
        contexts: dict = {}
        # the chunk is small: a parallel plan or merge joins over the arrays only cost
        run(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
        run(sa.text("SET LOCAL enable_mergejoin = off"))
        rows = run(sa.text(SESSIONS), self._arguments(facts, contexts) | bounds).all()
        sessions = rows.pop()[1] if rows else 0
        # the staff a staff rule may concern, and the teachers a finding names
        _add_staff(facts, ids, sorted({r[2] for r in rows if r[9]}))
        counts = {r[0]: checks.StaffCounts(r[1], r[2]) for r in run(sa.text(STAFF), bounds)}
        found = {}
        for inst_id, entry in facts.items():
            ctx = contexts[inst_id]
            ctx.staff = entry[2]
            found[inst_id] = (entry, checks.evaluate(
                entry[1], ctx, session_rules=False,
                staff_counts=counts.get(inst_id, checks.StaffCounts(0, 0))))
        prepared: dict = {}
        for sid, cid, tid, inst_id, start, finish, *flags in rows:
            course, ctx = by_course[cid], contexts[inst_id]
            s = checks.SessionFacts(sid, start, finish, tid)
            out = found[inst_id][1]
            for code, flag in zip(FLAGS, flags, strict=True):
                if not flag:
                    continue
                key = (cid, code)
                if key not in prepared:
                    prepare, render = RULES[code]
                    prepared[key] = (render, prepare(course, ctx, ctx.params[code]))
                render, arg = prepared[key]
                out.append(checks.Finding(code, checks._render_session, "session", cid, sid, tid,
                                          args=(render, course, s, ctx, arg)))
        return found, len(by_course), sessions

    def _arguments(self, facts: dict, contexts: dict) -> dict:
        """The parameters, licence spans and vacations per institution, as arrays."""
        names = ("p_inst", "p_off", "p_on", "p_len", "p_teacher", "p_holiday", "p_rest",
                 "p_makeup", "p_licence", "p_mismatch")
        a = {k: [] for k in names + ("l_inst", "l_first", "l_last", "l_modes", "v_inst",
                                     "v_first", "v_last")}
        params = [a[k] for k in names[1:]]
        for inst_id, (inst, _, _) in facts.items():
            ctx = contexts[inst_id] = self.world.context(inst.region_code, inst)
            values, vacations = self._region(inst.region_code, ctx)
            a["p_inst"].append(inst_id)
            for column, value in zip(params, values, strict=True):
                column.append(value)
            for first, last, modes in licence_spans(inst.licences):
                a["l_inst"].append(inst_id)
                a["l_first"].append(first)
                a["l_last"].append(last)
                a["l_modes"].append(modes)
            for first, last in vacations:
                a["v_inst"].append(inst_id)
                a["v_first"].append(first)
                a["v_last"].append(last)
        return {k: array(v) for k, v in a.items()} | self.calendar

    def _region(self, region_code: str | None, ctx) -> tuple[tuple, list]:
        """The region's thresholds and switches (in the order of `p`) and its vacations."""
        hit = self._regions.get(region_code)
        if hit is not None:
            return hit
        on = {code: checks._enabled(ctx, code) for code in FLAGS}
        off, online, length = (on["OFFLINE_ENDS_AFTER_2030"], on["ONLINE_ENDS_AFTER_2100"],
                               on["ONLINE_LESSON_OVER_30_MIN"])
        rest = on["SUBJECT_ON_REST_DAY"]
        values = (
            None if off is None else _seconds(checks.clock_time(off["latest_end"])),
            None if online is None else _seconds(checks.clock_time(online["latest_end"])),
            None if length is None else _seconds(timedelta(minutes=int(length["max_minutes"]))),
            on["TEACHER_UNQUALIFIED"] is not None, on["SUBJECT_ON_HOLIDAY"] is not None,
            rest is not None, bool(rest and rest.get("makeup_saturday_is_rest_day")),
            on["NO_ACTIVE_LICENCE"] is not None, on["LICENCE_DELIVERY_MISMATCH"] is not None)
        vacations = []
        if on["SUBJECT_IN_VACATION"] is not None:
            vacations = merged((s, e) for _, s, e in ctx.vacations)
        hit = self._regions[region_code] = (values, vacations)
        return hit
