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
# the flags the query returns after the session's columns; LATE is whichever cutoff applies
LATE = ("OFFLINE_ENDS_AFTER_2030", "ONLINE_ENDS_AFTER_2100")
FLAGS = ("LATE", "ONLINE_LESSON_OVER_30_MIN", "TEACHER_UNQUALIFIED", "SUBJECT_ON_HOLIDAY",
         "SUBJECT_ON_REST_DAY", "SUBJECT_IN_VACATION", "NO_ACTIVE_LICENCE",
         "LICENCE_DELIVERY_MISMATCH")
RULES = {code: (prepare, render) for code, prepare, _, render in
         checks.SESSION_RULES + checks.DAY_RULES}


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


# a Monday: (day - MONDAY) % 7 is 5 or 6 on weekends
MONDAY = "DATE '2001-01-01'"

SESSIONS = f"""
WITH c AS (
  SELECT id, inst, delivery, latest * interval '1 second' AS latest,
         max_len * interval '1 second' AS max_len, teacher, holiday, rest, makeup, vacation,
         licence, mismatch
  FROM unnest(CAST(:c_id AS int[]), CAST(:c_inst AS int[]), CAST(:c_delivery AS text[]),
              CAST(:c_latest AS int[]), CAST(:c_len AS int[]), CAST(:c_teacher AS bool[]),
              CAST(:c_holiday AS bool[]), CAST(:c_rest AS bool[]), CAST(:c_makeup AS bool[]),
              CAST(:c_vacation AS bool[]), CAST(:c_licence AS bool[]),
              CAST(:c_mismatch AS bool[]))
    AS c(id, inst, delivery, latest, max_len, teacher, holiday, rest, makeup, vacation,
         licence, mismatch)),
lic AS (
  SELECT * FROM unnest(CAST(:l_inst AS int[]), CAST(:l_first AS date[]),
                       CAST(:l_last AS date[]), CAST(:l_modes AS text[]))
    AS l(inst, first, last, modes)),
vac AS (
  SELECT * FROM unnest(CAST(:v_inst AS int[]), CAST(:v_first AS date[]),
                       CAST(:v_last AS date[])) AS v(inst, first, last)),
cal AS (
  SELECT * FROM unnest(CAST(:d_day AS date[]), CAST(:d_kind AS text[])) AS d(day, kind)),
uncertified AS (
  SELECT id, institution_id FROM staff
  WHERE institution_id BETWEEN :first AND :last AND coalesce(teacher_cert_no, '') = ''),
s AS MATERIALIZED (
  SELECT s.id, s.course_id, s.teacher_id, s.starts_at + interval '8 hours' AS start,
         s.ends_at + interval '8 hours' AS finish,
         CAST(s.starts_at + interval '8 hours' AS date) AS day
  FROM course_sessions s WHERE s.course_id = ANY(CAST(:c_id AS int[]))),
judged AS (
  SELECT s.id, s.course_id, s.teacher_id, c.inst, s.start, s.finish,
    s.finish - CAST(s.day AS timestamp) > c.latest AS late,
    s.finish - s.start > c.max_len AS too_long,
    c.teacher AND t.id IS NOT NULL AS unqualified,
    c.holiday AND d.kind = 'holiday' AS holiday,
    c.rest AND CASE WHEN d.kind IS NULL THEN (s.day - {MONDAY}) % 7 >= 5
                    ELSE d.kind = 'makeup' AND c.makeup END AS rest,
    c.vacation AND v.inst IS NOT NULL AS vacation,
    c.licence AND l.inst IS NULL AS unlicensed,
    c.mismatch AND strpos(l.modes, ',' || c.delivery || ',') = 0 AS mismatch
  FROM s JOIN c ON c.id = s.course_id
  LEFT JOIN uncertified t ON t.id = s.teacher_id AND t.institution_id = c.inst
  LEFT JOIN cal d ON d.day = s.day
  LEFT JOIN lic l ON l.inst = c.inst AND s.day BETWEEN l.first AND l.last
  LEFT JOIN vac v ON v.inst = c.inst AND s.day BETWEEN v.first AND v.last)
SELECT * FROM judged
WHERE late OR too_long OR unqualified OR holiday OR rest OR vacation OR unlicensed OR mismatch
UNION ALL
SELECT NULL, count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM s
"""

PLAN = ("SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL enable_mergejoin = off; "
        "SET LOCAL enable_nestloop = off; SET LOCAL jit = off")

UNPLAN = ("RESET max_parallel_workers_per_gather; RESET enable_mergejoin; "
          "RESET enable_nestloop; RESET jit")

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
    if len(active) < 2:  # most institutions: one licence
        return [(a, b, f",{d},") for a, b, d in active]
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


def array(values, literal=_literal) -> str:
    """A PostgreSQL array literal: building the text is cheaper than the driver's per-item
    adaptation of long lists."""
    return "{" + ",".join(map(literal, values)) + "}"


# --- one chunk --------------------------------------------------------------------------------
class Judge:
    """Judges chunks of institutions for one rescan (the calendar is read once)."""

    def __init__(self, world):
        self.world = world
        days, kinds = calendar_days(world.calendar)
        self.calendar = {"d_day": array(days), "d_kind": array(kinds)}
        self._kinds: dict = {}
        self._vacations: dict = {}

    def __call__(self, ids: list[int]) -> tuple[dict, int, int]:
        """({inst: (facts, findings)}, courses, sessions) for these institutions."""
        chunk = self.prepare(ids)
        return self.finish(chunk, self.query(chunk, db.session.connection()))

    def prepare(self, ids: list[int]) -> tuple:
        """What `query` needs for these institutions, read on the session's connection."""
        from registry.rules.engine import _add_courses, _institutions

        ids = sorted(ids)
        bounds = {"first": ids[0], "last": ids[-1], "ids": array(ids)}
        facts = _institutions(ids)
        _add_courses(facts, ids, online_only=True)
        contexts, judged = {}, {}
        args = self._arguments(facts, contexts, judged)
        return ids, bounds, facts, contexts, judged, args

    @staticmethod
    def query(chunk: tuple, connection) -> tuple[list, int]:
        """(offending sessions, sessions judged): the SQL pass, on any connection that sees
        the sessions and staff (the rescan writes neither)."""
        _, bounds, _, _, judged, args = chunk
        if not judged:
            return [], 0
        run = connection.execute
        # the arrays' row counts are guessed: hash joins are the plan whatever the guess,
        # and a chunk is too small for parallel workers to pay
        run(sa.text(PLAN))
        rows = run(sa.text(SESSIONS), args | bounds).all()
        run(sa.text(UNPLAN))  # the rest of the transaction plans as usual
        sessions = next(r[1] for r in rows if r[0] is None)  # the count row
        return [r for r in rows if r[0] is not None], sessions

    def finish(self, chunk: tuple, queried: tuple[list, int]) -> tuple[dict, int, int]:
        """The findings of a prepared chunk, given what `query` returned for it."""
        from registry.rules.engine import _add_staff

        ids, bounds, facts, contexts, judged, _ = chunk
        rows, sessions = queried
        run = db.session.connection().execute
        # the staff a staff rule may concern, and the teachers a finding names
        _add_staff(facts, ids, sorted({r[2] for r in rows if r[8]}))
        counts = {r[0]: checks.StaffCounts(r[1], r[2]) for r in run(sa.text(STAFF), bounds)}
        found = {}
        for inst_id, entry in facts.items():
            ctx = contexts[inst_id]
            ctx.staff = entry[2]
            found[inst_id] = (entry, checks.evaluate(
                entry[1], ctx, session_rules=False,
                staff_counts=counts.get(inst_id, checks.StaffCounts(0, 0))))
        make, render_session = checks.Finding, checks._render_session
        for sid, cid, tid, inst_id, start, finish, *flags in rows:
            course, ctx, rules = judged[cid]
            s = checks.SessionFacts(sid, start, finish, tid)
            out = found[inst_id][1]
            for rule, flag in zip(rules, flags, strict=True):
                if flag:
                    code, render, arg = rule
                    out.append(make(code, render_session, "session", cid, sid, tid,
                                    args=(render, course, s, ctx, arg)))
        return found, len(judged), sessions

    def _arguments(self, facts: dict, contexts: dict, judged: dict) -> dict:
        """What each course is judged by, the licence spans and vacations, as arrays."""
        names = ("c_id", "c_inst", "c_delivery", "c_latest", "c_len", "c_teacher", "c_holiday",
                 "c_rest", "c_makeup", "c_vacation", "c_licence", "c_mismatch")
        a = {k: [] for k in names + ("l_inst", "l_first", "l_last", "l_modes", "v_inst",
                                     "v_first", "v_last")}
        columns = [a[k] for k in names[3:]]
        ids, insts, modes = a["c_id"], a["c_inst"], a["c_delivery"]
        for inst_id, (inst, courses, _) in facts.items():
            ctx = contexts[inst_id] = self.world.context(inst.region_code, inst)
            for course, _ in courses:
                values, rules = self._kind(course, ctx)
                judged[course.id] = (course, ctx, rules)
                ids.append(str(course.id))
                insts.append(str(inst_id))
                modes.append(_literal(course.delivery))
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
            for first, last, spans in licence_spans(inst.licences):
                a["l_inst"].append(inst_id)
                a["l_first"].append(first)
                a["l_last"].append(last)
                a["l_modes"].append(spans)
            for first, last in self._vacation_spans(ctx.vacations):
                a["v_inst"].append(inst_id)
                a["v_first"].append(first)
                a["v_last"].append(last)
        # the course columns hold their literals already (see `_kind`)
        return {k: array(v, str if k in names else _literal) for k, v in a.items()} | \
            self.calendar

    def _kind(self, course, ctx) -> tuple[tuple, tuple]:
        """What the query needs to judge a course's sessions (thresholds and switches, in the
        order of `c`) and, per flag, (code, render, arg) for the findings. It is the rules'
        own `prepare` that says whether a rule applies, so it depends only on the parameters,
        the vacations and the course's delivery mode and kind."""
        key = (id(ctx.params), ctx.vacations, course.delivery, course.subject_based,
               course.compulsory_subject)
        hit = self._kinds.get(key)
        if hit is not None:
            return hit
        _, session_rules, day_rules = ctx.rules()
        args = {}
        for (code, prepare, _, render), p in session_rules + day_rules:
            if code == "TEACHER_UNQUALIFIED":
                # applies when the institution has staff: the query finds the teacher among them
                arg = p if course.subject_based else None
            else:
                arg = prepare(course, ctx, p)
            if arg is not None:
                args[code] = (code, render, arg)
        late = args.get(LATE[0]) or args.get(LATE[1])
        rest = args.get("SUBJECT_ON_REST_DAY")
        values = (
            None if late is None else _seconds(late[2][0]),
            None if "ONLINE_LESSON_OVER_30_MIN" not in args else _seconds(
                args["ONLINE_LESSON_OVER_30_MIN"][2]),
            "TEACHER_UNQUALIFIED" in args, "SUBJECT_ON_HOLIDAY" in args, rest is not None,
            bool(rest and rest[2].get("makeup_saturday_is_rest_day")),
            "SUBJECT_IN_VACATION" in args, "NO_ACTIVE_LICENCE" in args,
            "LICENCE_DELIVERY_MISMATCH" in args)
        rules = tuple(late if code == "LATE" else args.get(code) for code in FLAGS)
        hit = self._kinds[key] = (tuple(map(_literal, values)), rules)
        return hit

    def _vacation_spans(self, vacations: tuple) -> list:
        hit = self._vacations.get(vacations)
        if hit is None:
            hit = self._vacations[vacations] = merged((s, e) for _, s, e in vacations)
        return hit
