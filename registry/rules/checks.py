"""Every rule as a pure function over plain values.

The same functions serve the dry run, the check on write and the full rescan: the engine
(`registry.rules.engine`) only loads facts into these dataclasses and stores what comes out.
Times are naive datetimes in China Standard Time; money is integer fen; parameters are the
catalogue's, already merged for the region (`{code: {...params, "enabled": bool}}`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from registry.calendar import HOLIDAY, MAKEUP, REST, Calendar
from registry.money import format_fen, parse_yuan

SUBJECT_BASED = frozenset({"morality_law", "chinese", "history", "geography", "math",
                           "foreign_language", "physics", "chemistry", "biology"})
COMPULSORY = frozenset({"primary", "junior"})
WEEKDAYS = "一二三四五六日"
SUBJECT_NAMES = {"morality_law": "道德与法治", "chinese": "语文", "history": "历史",
                 "geography": "地理", "math": "数学", "foreign_language": "外语",
                 "physics": "物理", "chemistry": "化学", "biology": "生物"}


# --- facts ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LicenceFacts:
    issued_on: date
    expires_on: date
    state: str
    delivery: str

    def valid_on(self, day: date) -> bool:
        return self.state == "active" and self.issued_on <= day <= self.expires_on


@dataclass(slots=True)
class InstitutionFacts:
    id: int | None
    region_code: str
    category: str
    legal_form: str
    audiences: tuple = ()
    licences: tuple = ()


@dataclass(slots=True)
class StaffFacts:
    id: int
    name: str
    role: str
    has_cert: bool
    in_service: bool = False
    nationality: str = "CN"
    located_abroad: bool = False
    full_time: bool = True


@dataclass(frozen=True, slots=True)
class StaffCounts:
    """An institution's staff counted where they are stored (the bulk rescan), not listed."""

    total: int
    full_time_teachers: int


@dataclass(slots=True)
class CourseFacts:
    id: int | None
    title: str
    subject: str
    audience: str
    delivery: str
    lesson_minutes: int
    price_fen: int
    class_size: str
    subject_based: bool = field(init=False)
    compulsory_subject: bool = field(init=False)

    def __post_init__(self):
        self.subject_based = self.subject in SUBJECT_BASED
        self.compulsory_subject = self.subject_based and self.audience in COMPULSORY


@dataclass(slots=True)
class SessionFacts:
    ref: int  # the session id, or its index in a batch or dry run
    start: datetime  # naive, China Standard Time
    end: datetime
    teacher_id: int | None = None


class Finding:
    """One rule broken by one thing. The message and details are rendered only when read
    (`render(*args)`), so a rescan that finds what is stored already does not pay for them."""

    __slots__ = ("rule", "scope", "course_id", "session_ref", "staff_id", "_render", "_args",
                 "_text")

    def __init__(self, rule: str, message, scope: str, course_id: int | None = None,
                 session_ref: int | None = None, staff_id: int | None = None,
                 details: dict | None = None, args: tuple = ()):
        self.rule, self.scope, self.course_id = rule, scope, course_id
        self.session_ref, self.staff_id = session_ref, staff_id
        if callable(message):
            self._render, self._args, self._text = message, args, None
        else:
            self._render, self._args, self._text = None, (), (message, details)

    def _rendered(self) -> tuple:
        if self._text is None:
            self._text = self._render(*self._args)
        return self._text

    @property
    def message(self) -> str:
        return self._rendered()[0]

    @property
    def details(self) -> dict | None:
        return self._rendered()[1]

    def __repr__(self) -> str:
        return (f"Finding({self.rule}, {self.scope}, course={self.course_id}, "
                f"session={self.session_ref}, staff={self.staff_id})")


@dataclass
class Context:
    """What the checks may read besides the course: parameters, calendar, licences, staff."""

    params: dict
    calendar: Calendar
    vacations: tuple = ()  # (kind, starts_on, ends_on) in force in the region
    institution: InstitutionFacts | None = None
    staff: dict = field(default_factory=dict)
    _licensed: dict = field(default_factory=dict, repr=False)
    day_verdicts: dict = field(default_factory=dict, repr=False)
    _active: tuple | None = field(default=None, repr=False)
    _enabled_rules: tuple | None = field(default=None, repr=False)

    def rules(self) -> tuple:
        """(course, session, day) rules enabled here, each with its parameters (read once)."""
        if self._enabled_rules is None:
            self._enabled_rules = tuple(
                [(rule, p) for rule in table if (p := _enabled(self, rule[0])) is not None]
                for table in (COURSE_RULES, SESSION_RULES, DAY_RULES))
        return self._enabled_rules

    def licensed_deliveries(self, day: date) -> frozenset:
        """The delivery modes of the institution's licences valid on `day` (cached per day;
        the active licences' dates are picked out once per institution)."""
        hit = self._licensed.get(day)
        if hit is None:
            active = self._active
            if active is None:
                active = self._active = tuple(
                    (lic.issued_on, lic.expires_on, lic.delivery)
                    for lic in self.institution.licences if lic.state == "active")
            hit = self._licensed[day] = frozenset(
                delivery for issued, expires, delivery in active if issued <= day <= expires)
        return hit


# --- helpers ----------------------------------------------------------------------------------
def clock_time(text: str) -> timedelta:
    """'20:30' -> 20 h 30 min after midnight."""
    hours, _, minutes = str(text).partition(":")
    return timedelta(hours=int(hours), minutes=int(minutes or 0))


def ends_after(start: datetime, end: datetime, latest: timedelta) -> bool:
    """Whether a lesson ends later than `latest` on the day it starts (past midnight counts)."""
    return end - start.replace(hour=0, minute=0, second=0, microsecond=0) > latest


def _when(s: SessionFacts) -> str:
    at = s.start.isoformat(" ", "minutes")  # cheaper than strftime, which a rescan calls a lot
    return f"{at[:10]}（星期{WEEKDAYS[s.start.weekday()]}）{at[11:]}"


def _times(s: SessionFacts) -> dict:
    return {"starts_at": s.start.isoformat() + "+08:00", "ends_at": s.end.isoformat() + "+08:00"}


def _course(c: CourseFacts) -> str:
    return f"课程“{c.title}”"


def _session(rule, render, course, s, ctx=None, arg=None) -> Finding:
    """A finding about session `s`; `render(course, s, ctx, arg)` gives (message, details)."""
    return Finding(rule, _render_session, "session", course.id, s.ref, s.teacher_id,
                   args=(render, course, s, ctx, arg))


def _render_session(render, course, s, ctx, arg):
    message, details = render(course, s, ctx, arg)
    return message, _times(s) | details


# --- session rules -----------------------------------------------------------------------------
# Each is (code, prepare, test, render): prepare(course, ctx, params) -> arg, or None when the
# rule does not apply to the course; test(s, ctx, arg) -> whether session s breaks it;
# render(course, s, ctx, arg) -> (message, details). Day rules test the session's date instead
# (test(day, ctx, arg)), once per date.
def _prep_end(delivery):
    def prepare(course, ctx, p):
        if course.delivery != delivery:
            return None
        return clock_time(p["latest_end"]), str(p["latest_end"])

    return prepare


def ends_late(s, ctx, arg) -> bool:
    start = s.start  # ends_after(), inlined: it runs for every lesson in a rescan
    return s.end - start.replace(hour=0, minute=0, second=0, microsecond=0) > arg[0]


def _render_ends_late(course, s, ctx, arg):
    mode = "线下" if course.delivery == "offline" else "线上"
    return (f"{mode}{_course(course)}{_when(s)}开始的课次于{s.end:%H:%M}结束，"
            f"晚于规定的{arg[1]}。", {"latest_end": arg[1]})


def _prep_online_length(course, ctx, p):
    return timedelta(minutes=int(p["max_minutes"])) if course.delivery == "online" else None


def too_long(s, ctx, limit) -> bool:
    return s.end - s.start > limit


def _render_online_length(course, s, ctx, limit):
    minutes = (s.end - s.start).total_seconds() / 60
    return (f"线上{_course(course)}{_when(s)}开始的课次时长{minutes:g}分钟，"
            f"超过规定的{limit.total_seconds() / 60:g}分钟。", {"minutes": minutes})


def _prep_teacher(course, ctx, p):
    return p if course.subject_based and ctx.staff else None


def unqualified_teacher(s, ctx, p) -> bool:
    if s.teacher_id is None:
        return False
    teacher = ctx.staff.get(s.teacher_id)
    return teacher is not None and not teacher.has_cert


def _render_teacher(course, s, ctx, p):
    return (f"{ctx.staff[s.teacher_id].name}没有教师资格证，却担任学科类{_course(course)}"
            f"{_when(s)}开始的课次。", {})


SESSION_RULES = [
    ("OFFLINE_ENDS_AFTER_2030", _prep_end("offline"), ends_late, _render_ends_late),
    ("ONLINE_ENDS_AFTER_2100", _prep_end("online"), ends_late, _render_ends_late),
    ("ONLINE_LESSON_OVER_30_MIN", _prep_online_length, too_long,
     _render_online_length),
    ("TEACHER_UNQUALIFIED", _prep_teacher, unqualified_teacher, _render_teacher),
]


def _prep_compulsory_subject(course, ctx, p):
    return p if course.compulsory_subject else None


def is_holiday(day, ctx, p) -> bool:
    return ctx.calendar.day(day)[0] == HOLIDAY


def _render_holiday(course, s, ctx, p):
    name = ctx.calendar.day(s.start.date())[1]
    return (f"学科类{_course(course)}在法定节假日{name or ''}（{_when(s)}）开展培训。",
            {"holiday": name})


def is_rest_day(day, ctx, p) -> bool:
    kind = ctx.calendar.day(day)[0]
    return kind == REST or (kind == MAKEUP and bool(p.get("makeup_saturday_is_rest_day")))


def _render_rest_day(course, s, ctx, p):
    day = s.start.date()
    kind = ctx.calendar.day(day)[0]
    what = "调休上班日（按规定参数视为休息日）" if kind == MAKEUP else "休息日"
    message = f"学科类{_course(course)}在{what}（{_when(s)}）开展培训。"
    loaded = ctx.calendar.known(day.year)
    if not loaded:
        message += f"{day.year}年的节假日安排尚未载入，暂按周末为休息日判断。"
    return message, {"calendar_loaded": loaded, "makeup_day": kind == MAKEUP}


def _prep_vacation(course, ctx, p):
    return ctx.vacations if course.compulsory_subject and ctx.vacations else None


def vacation_on(day, vacations) -> str | None:
    for kind, start, end in vacations:
        if start <= day <= end:
            return kind
    return None


def in_vacation(day, ctx, vacations) -> bool:
    return vacation_on(day, vacations) is not None


def _render_vacation(course, s, ctx, vacations):
    kind = vacation_on(s.start.date(), vacations)
    label = "寒假" if kind == "winter" else "暑假"
    return f"学科类{_course(course)}在{label}期间（{_when(s)}）开展培训。", {"vacation": kind}


def _prep_institution(course, ctx, p):
    return p if ctx.institution is not None else None


def unlicensed(day, ctx, p) -> bool:
    return not ctx.licensed_deliveries(day)


def _render_no_licence(course, s, ctx, p):
    return f"{_course(course)}{_when(s)}开始的课次开展时，机构没有在当日有效的办学许可证。", {}


def _prep_delivery(course, ctx, p):
    return course.delivery if ctx.institution is not None else None


def delivery_unlicensed(day, ctx, delivery) -> bool:
    valid = ctx.licensed_deliveries(day)
    return bool(valid) and delivery not in valid


_MODES = {"offline": "线下", "online": "线上"}


def _render_delivery(course, s, ctx, delivery):
    valid = ctx.licensed_deliveries(s.start.date())
    return (f"{_MODES[delivery]}{_course(course)}{_when(s)}开始的课次不在机构许可证核准的"
            f"培训形式内（当日有效许可证仅允许{'、'.join(_MODES[d] for d in sorted(valid))}）。",
            {})


DAY_RULES = [
    ("SUBJECT_ON_HOLIDAY", _prep_compulsory_subject, is_holiday, _render_holiday),
    ("SUBJECT_ON_REST_DAY", _prep_compulsory_subject, is_rest_day, _render_rest_day),
    ("SUBJECT_IN_VACATION", _prep_vacation, in_vacation, _render_vacation),
    ("NO_ACTIVE_LICENCE", _prep_institution, unlicensed, _render_no_licence),
    ("LICENCE_DELIVERY_MISMATCH", _prep_delivery, delivery_unlicensed, _render_delivery),
]


# --- breaks between online lessons ------------------------------------------------------------
def short_breaks(sessions: Iterable, min_break: timedelta):
    """Pairs (earlier, later) of lessons sorted by start with less than `min_break` between
    them (an overlap counts); each item is (SessionFacts, anything)."""
    latest_end, latest = None, None
    for item in sessions:
        s = item[0]
        if latest_end is not None and s.start - latest_end < min_break:
            yield latest, item
        if latest_end is None or s.end > latest_end:
            latest_end, latest = s.end, item


def check_breaks(courses, ctx) -> list[Finding]:
    """ONLINE_BREAK_UNDER_10_MIN over all online courses: the same course, then the same
    teacher across courses. The later lesson of a pair carries the breach."""
    p = ctx.params.get("ONLINE_BREAK_UNDER_10_MIN")
    if not p or not p.get("enabled", True):
        return []
    gap = timedelta(minutes=int(p["min_break_minutes"]))
    out, seen = [], set()
    by_teacher: dict = {}

    def flag(earlier, later, why):
        (s, course), (prev, _) = later, earlier
        key = (course.id, s.ref)
        if key in seen:
            return
        seen.add(key)
        out.append(_session("ONLINE_BREAK_UNDER_10_MIN", _render_break, course, s, ctx,
                            (prev, why, gap)))

    for course, sessions in courses:
        if course.delivery != "online":
            continue
        ordered = sorted(sessions, key=_start) if not _is_sorted(sessions) else sessions
        for earlier, later in short_breaks(((s, course) for s in ordered), gap):
            flag(earlier, later, "同一课程的")
        for s in ordered:
            if s.teacher_id is not None:
                by_teacher.setdefault(s.teacher_id, []).append((s, course))
    for items in by_teacher.values():
        items.sort(key=lambda item: item[0].start)
        for earlier, later in short_breaks(items, gap):
            if earlier[1] is not later[1]:
                flag(earlier, later, "同一教师的")
    return out


def _render_break(course, s, ctx, arg):
    prev, why, gap = arg
    minutes = (s.start - prev.end).total_seconds() / 60
    return (f"线上{_course(course)}{_when(s)}开始的课次与{why}上一节课间隔{minutes:g}分钟，"
            f"少于规定的{gap.total_seconds() / 60:g}分钟。",
            {"break_minutes": minutes, "previous_ref": prev.ref})


def _start(s):
    return s.start


def _is_sorted(sessions) -> bool:
    return all(sessions[i].start <= sessions[i + 1].start for i in range(len(sessions) - 1))


# --- course rules: check(course, ctx, params) -> Finding | None -------------------------------
def _course_finding(rule, message, course, **details) -> Finding:
    return Finding(rule, message, "course", course.id, details=details or None)


def check_preschool_online(course, ctx, p):
    if course.audience != "preschool" or course.delivery != "online":
        return None
    return _course_finding("PRESCHOOL_ONLINE",
                           f"面向学龄前儿童的{_course(course)}以线上形式开展培训。", course)


def check_preschool_subject(course, ctx, p):
    if course.audience != "preschool" or not course.subject_based:
        return None
    return _course_finding("PRESCHOOL_SUBJECT",
                           f"面向学龄前儿童的{_course(course)}属于学科类培训"
                           f"（{SUBJECT_NAMES[course.subject]}）。", course)


def check_course_length(course, ctx, p):
    if course.delivery != "online" or course.lesson_minutes <= int(p["max_minutes"]):
        return None
    return _course_finding("ONLINE_LESSON_OVER_30_MIN",
                           f"线上{_course(course)}备案的每课时长{course.lesson_minutes}分钟，"
                           f"超过规定的{p['max_minutes']}分钟。", course,
                           lesson_minutes=course.lesson_minutes)


def guidance_limit(course, p) -> int | None:
    """The highest price per lesson (fen) the guidance allows, or None when it does not apply."""
    if not course.compulsory_subject:
        return None
    base = p["offline_base"] if course.delivery == "offline" else p["online_base"]
    if isinstance(base, dict):
        base = base[course.class_size]
    standard = int(p["standard_minutes"][course.delivery])
    markup = int(p["max_markup_percent"])
    return parse_yuan(str(base)) * course.lesson_minutes * (100 + markup) // (standard * 100)


def check_price(course, ctx, p):
    if not course.compulsory_subject:
        return None
    base = p["offline_base"] if course.delivery == "offline" else p["online_base"]
    if isinstance(base, dict):
        base = base[course.class_size]
    base_fen = parse_yuan(str(base))
    standard = int(p["standard_minutes"][course.delivery])
    markup = int(p["max_markup_percent"])
    # price / (base * minutes / standard) > 1 + markup / 100, in integers
    if course.price_fen * standard * 100 <= base_fen * course.lesson_minutes * (100 + markup):
        return None
    limit = guidance_limit(course, p)
    return _course_finding("PRICE_ABOVE_GUIDANCE",
                           f"学科类{_course(course)}每课时收费{format_fen(course.price_fen)}元，"
                           f"超过政府指导价上限{format_fen(limit)}元（基准价{format_fen(base_fen)}元"
                           f"，上浮不超过{markup}%）。", course,
                           price=format_fen(course.price_fen), limit=format_fen(limit),
                           base=format_fen(base_fen))


def check_non_subject_institution(course, ctx, p):
    inst = ctx.institution
    if inst is None or inst.category != "non_subject" or not course.subject_based:
        return None
    return _course_finding("NON_SUBJECT_INSTITUTION_SUBJECT_COURSE",
                           f"非学科类机构开设学科类{_course(course)}"
                           f"（{SUBJECT_NAMES[course.subject]}）。", course)


COURSE_RULES = [
    ("PRESCHOOL_ONLINE", check_preschool_online),
    ("PRESCHOOL_SUBJECT", check_preschool_subject),
    ("ONLINE_LESSON_OVER_30_MIN", check_course_length),
    ("PRICE_ABOVE_GUIDANCE", check_price),
    ("NON_SUBJECT_INSTITUTION_SUBJECT_COURSE", check_non_subject_institution),
]


# --- staff rules: check(staff, params) -> Finding | None --------------------------------------
def check_in_service(staff, p):
    if staff.role != "teacher" or not staff.in_service:
        return None
    return Finding("TEACHER_IN_SERVICE",
                   f"{staff.name}是在职中小学（幼儿园）教师，在校外培训机构任教。",
                   "staff", staff_id=staff.id)


def check_foreign_abroad(staff, p):
    if staff.nationality == "CN" or not staff.located_abroad:
        return None
    return Finding("TEACHER_FOREIGN_ABROAD",
                   f"机构聘用境外的外籍人员{staff.name}（国籍{staff.nationality}）开展培训。",
                   "staff", staff_id=staff.id, details={"nationality": staff.nationality})


STAFF_RULES = [("TEACHER_IN_SERVICE", check_in_service),
               ("TEACHER_FOREIGN_ABROAD", check_foreign_abroad)]


# --- institution rules: check(inst, courses, staff, params) -> Finding | None -----------------
def check_nonprofit(inst, courses, staff, p):
    if inst.legal_form == "nonprofit":
        return None
    registered = inst.category == "subject" and bool(COMPULSORY & set(inst.audiences))
    runs = [c for c in courses if c.compulsory_subject]
    if not registered and not runs:
        return None
    why = ("登记为面向义务教育阶段的学科类机构" if registered
           else f"开设义务教育阶段学科类{_course(runs[0])}")
    return Finding("SUBJECT_NOT_NONPROFIT", f"机构{why}，但未登记为非营利性机构。", "institution",
                   course_id=None if registered else runs[0].id)


def check_full_time_ratio(inst, courses, staff, p):
    if isinstance(staff, StaffCounts):
        total, full_time = staff.total, staff.full_time_teachers
    else:
        total = len(staff)
        full_time = sum(1 for s in staff if s.role == "teacher" and s.full_time)
    if not total:
        return None
    minimum = int(p["min_percent"])
    if full_time * 100 >= minimum * total:
        return None
    return Finding("STAFF_FULL_TIME_RATIO",
                   f"机构专职教学人员{full_time}人，占从业人员总数{total}人的"
                   f"{full_time * 100 / total:.0f}%，低于规定的{minimum}%。", "institution",
                   details={"full_time_teachers": full_time, "staff": total,
                            "min_percent": minimum})


INSTITUTION_RULES = [("SUBJECT_NOT_NONPROFIT", check_nonprofit),
                     ("STAFF_FULL_TIME_RATIO", check_full_time_ratio)]

CODES = ({c for c, *_ in SESSION_RULES} | {c for c, *_ in DAY_RULES}
         | {c for c, _ in COURSE_RULES}
         | {c for c, _ in STAFF_RULES} | {c for c, _ in INSTITUTION_RULES}
         | {"ONLINE_BREAK_UNDER_10_MIN"})


# --- the whole evaluation ---------------------------------------------------------------------
def _enabled(ctx, code):
    p = ctx.params.get(code)
    return p if p is not None and p.get("enabled", True) else None


def evaluate_course(course: CourseFacts, sessions: list, ctx: Context,
                    with_course_rules: bool = True,
                    with_session_rules: bool = True) -> list[Finding]:
    """Course and session rules for one course (the break rule is judged across courses)."""
    out = []
    course_rules, session_rules, day_rules = ctx.rules()
    if with_course_rules:
        for (_, check), p in course_rules:
            if (hit := check(course, ctx, p)) is not None:
                out.append(hit)
    if not with_session_rules:
        return out
    per_session, per_day = [], []
    for rules, active in ((session_rules, per_session), (day_rules, per_day)):
        for (code, prepare, test, render), p in rules:
            if (arg := prepare(course, ctx, p)) is not None:
                active.append((code, test, render, arg))
    if not (per_session or per_day):
        return out
    append, cid, last_day, day_hits = out.append, course.id, None, ()
    make, render_session = Finding, _render_session
    # a date's verdict depends only on the rules that apply and the delivery mode, so courses
    # of one institution share it
    verdicts = ctx.day_verdicts.setdefault(
        (tuple(code for code, *_ in per_day), course.delivery), {})
    for s in sessions:
        if per_day:
            day = s.start.date()
            if day != last_day:  # sessions come sorted: each date is looked up once
                last_day = day
                day_hits = verdicts.get(day)
                if day_hits is None:
                    day_hits = verdicts[day] = [(code, render, arg)
                                                for code, test, render, arg in per_day
                                                if test(day, ctx, arg)]
            for code, render, arg in day_hits:
                append(make(code, render_session, "session", cid, s.ref, s.teacher_id,
                            args=(render, course, s, ctx, arg)))
        for code, test, render, arg in per_session:
            if test(s, ctx, arg):
                append(make(code, render_session, "session", cid, s.ref, s.teacher_id,
                            args=(render, course, s, ctx, arg)))
    return out


def evaluate(courses: list, ctx: Context, session_rules: bool = True,
             staff_counts: StaffCounts | None = None) -> list[Finding]:
    """Every finding for one institution (or a dry run without one): `courses` is a list of
    (CourseFacts, [SessionFacts sorted by start]); the staff are `ctx.staff`.

    The bulk rescan judges the per-session rules in SQL: it passes `session_rules=False`, only
    the online sessions (for the breaks), only the staff that may break a staff rule and
    `staff_counts` for the institution's ratio."""
    out = []
    for course, sessions in courses:
        out.extend(evaluate_course(course, sessions, ctx, with_session_rules=session_rules))
    out.extend(check_breaks(courses, ctx))
    staff = list(ctx.staff.values())
    for member in staff:
        for code, check in STAFF_RULES:
            p = _enabled(ctx, code)
            if p is not None and (hit := check(member, p)) is not None:
                out.append(hit)
    if ctx.institution is not None:
        facts = [c for c, _ in courses]
        for code, check in INSTITUTION_RULES:
            p = _enabled(ctx, code)
            hit = None if p is None else check(ctx.institution, facts,
                                               staff if staff_counts is None else staff_counts, p)
            if hit is not None:
                out.append(hit)
    return out
