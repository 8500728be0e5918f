"""Every rule code: a case that breaks it and the nearest case that does not (pure functions)."""

from datetime import date, datetime, timedelta

import pytest

from registry.calendar import Calendar
from registry.rules import checks
from registry.rules.checks import (
    Context,
    CourseFacts,
    InstitutionFacts,
    LicenceFacts,
    SessionFacts,
    StaffFacts,
)

PARAMS = {
    "OFFLINE_ENDS_AFTER_2030": {"latest_end": "20:30"},
    "ONLINE_ENDS_AFTER_2100": {"latest_end": "21:00"},
    "ONLINE_LESSON_OVER_30_MIN": {"max_minutes": 30},
    "ONLINE_BREAK_UNDER_10_MIN": {"min_break_minutes": 10},
    "SUBJECT_ON_HOLIDAY": {},
    "SUBJECT_ON_REST_DAY": {"makeup_saturday_is_rest_day": False},
    "SUBJECT_IN_VACATION": {},
    "PRESCHOOL_ONLINE": {},
    "PRESCHOOL_SUBJECT": {},
    "SUBJECT_NOT_NONPROFIT": {},
    "NO_ACTIVE_LICENCE": {},
    "LICENCE_DELIVERY_MISMATCH": {},
    "NON_SUBJECT_INSTITUTION_SUBJECT_COURSE": {},
    "TEACHER_UNQUALIFIED": {},
    "TEACHER_IN_SERVICE": {},
    "TEACHER_FOREIGN_ABROAD": {},
    "STAFF_FULL_TIME_RATIO": {"min_percent": 50},
    "PRICE_ABOVE_GUIDANCE": {"offline_base": {"small": "80.00", "medium": "60.00",
                                              "large": "40.00"},
                             "online_base": "20.00", "max_markup_percent": 10,
                             "standard_minutes": {"offline": 45, "online": 30}},
}
WEDNESDAY = date(2026, 3, 11)  # an ordinary school day
NATIONAL_DAY = date(2024, 10, 1)  # statutory holiday
MAKEUP_SATURDAY = date(2024, 9, 14)  # worked in lieu of the Mid-autumn holiday
SATURDAY_2027 = date(2027, 3, 13)  # a year chinesecalendar 1.11 does not know


def params(**changes):
    out = {code: dict(p) | {"enabled": True} for code, p in PARAMS.items()}
    for code, values in changes.items():
        out[code].update(values)
    return out


def ctx(**kwargs):
    kwargs.setdefault("params", params())
    kwargs.setdefault("calendar", Calendar())
    return Context(**kwargs)


def course(**overrides):
    data = dict(id=1, title="少儿美术", subject="arts", audience="primary", delivery="offline",
                lesson_minutes=45, price_fen=5000, class_size="medium")
    data.update(overrides)
    return CourseFacts(**data)


def lesson(day=WEDNESDAY, start="18:00", end="18:45", ref=0, teacher=None):
    def at(text):
        h, m = map(int, text.split(":")[:2])
        s = int(text.split(":")[2]) if text.count(":") == 2 else 0
        return datetime(day.year, day.month, day.day) + timedelta(hours=h, minutes=m, seconds=s)

    return SessionFacts(ref, at(start), at(end), teacher)


def rules_of(c, sessions, context=None):
    return sorted(f.rule for f in checks.evaluate([(c, sessions)], context or ctx()))


def licensed(delivery="offline", category="non_subject", legal_form="nonprofit",
             audiences=("primary", "junior"), state="active"):
    lic = LicenceFacts(date(2020, 1, 1), date(2030, 12, 31), state, delivery)
    return InstitutionFacts(1, "330106", category, legal_form, audiences, (lic,))


# --- time rules --------------------------------------------------------------------------------
def test_offline_lesson_ending_2030_passes():
    assert rules_of(course(), [lesson(start="19:45", end="20:30")]) == []


def test_offline_lesson_ending_2031_is_flagged():
    assert rules_of(course(), [lesson(start="19:46", end="20:31")]) == ["OFFLINE_ENDS_AFTER_2030"]


def test_offline_lesson_ending_one_second_after_2030_is_flagged():
    assert rules_of(course(), [lesson(start="19:45", end="20:30:01")]) == [
        "OFFLINE_ENDS_AFTER_2030"]


def test_offline_lesson_running_past_midnight_is_flagged():
    s = lesson(start="07:00", end="07:45")
    s.start, s.end = s.start.replace(hour=23, minute=50), s.start + timedelta(days=1, minutes=-400)
    assert rules_of(course(), [s]) == ["OFFLINE_ENDS_AFTER_2030"]


def test_online_lesson_ending_2100_passes_and_2101_is_flagged():
    c = course(delivery="online", lesson_minutes=30)
    assert rules_of(c, [lesson(start="20:30", end="21:00")]) == []
    assert rules_of(c, [lesson(start="20:31", end="21:01")]) == ["ONLINE_ENDS_AFTER_2100"]


def test_online_lesson_of_30_minutes_passes_and_31_is_flagged():
    c = course(delivery="online", lesson_minutes=30)
    assert rules_of(c, [lesson(start="18:00", end="18:30")]) == []
    assert rules_of(c, [lesson(start="18:00", end="18:31")]) == ["ONLINE_LESSON_OVER_30_MIN"]


def test_online_course_filed_with_31_minute_lessons_is_flagged():
    assert rules_of(course(delivery="online", lesson_minutes=30), []) == []
    assert rules_of(course(delivery="online", lesson_minutes=31), []) == [
        "ONLINE_LESSON_OVER_30_MIN"]


def test_online_break_of_10_minutes_passes_and_9_is_flagged():
    c = course(delivery="online", lesson_minutes=30)
    ok = [lesson(start="18:00", end="18:30", ref=0), lesson(start="18:40", end="19:10", ref=1)]
    short = [lesson(start="18:00", end="18:30", ref=0), lesson(start="18:39", end="19:09", ref=1)]
    assert rules_of(c, ok) == []
    found = checks.evaluate([(c, short)], ctx())
    assert [(f.rule, f.session_ref) for f in found] == [("ONLINE_BREAK_UNDER_10_MIN", 1)]


def test_online_break_counts_the_same_teacher_across_courses():
    a = course(id=1, delivery="online", lesson_minutes=30)
    b = course(id=2, delivery="online", lesson_minutes=30)
    first = [lesson(start="18:00", end="18:30", ref=10, teacher=7)]
    other_teacher = [lesson(start="18:35", end="19:05", ref=11, teacher=8)]
    same_teacher = [lesson(start="18:35", end="19:05", ref=11, teacher=7)]
    assert checks.evaluate([(a, first), (b, other_teacher)], ctx()) == []
    found = checks.evaluate([(a, first), (b, same_teacher)], ctx())
    assert [(f.rule, f.course_id, f.session_ref) for f in found] == [
        ("ONLINE_BREAK_UNDER_10_MIN", 2, 11)]


def test_break_rule_does_not_apply_offline():
    c = course()
    assert rules_of(c, [lesson(start="18:00", end="18:45", ref=0),
                        lesson(start="18:45", end="19:30", ref=1)]) == []


# --- calendar rules ----------------------------------------------------------------------------
MATH = dict(subject="math", audience="junior")


def test_subject_lesson_on_a_statutory_holiday_is_flagged_and_sports_is_not():
    assert rules_of(course(**MATH), [lesson(day=NATIONAL_DAY)]) == ["SUBJECT_ON_HOLIDAY"]
    assert rules_of(course(subject="sports", audience="junior"), [lesson(day=NATIONAL_DAY)]) == []


def test_subject_lesson_on_a_school_day_passes():
    assert rules_of(course(**MATH), [lesson(day=WEDNESDAY)]) == []


def test_subject_lesson_on_a_weekend_is_flagged_as_rest_day():
    saturday = date(2026, 3, 14)
    assert rules_of(course(**MATH), [lesson(day=saturday)]) == ["SUBJECT_ON_REST_DAY"]


def test_senior_secondary_subject_lesson_on_a_rest_day_is_not_flagged():
    assert rules_of(course(subject="math", audience="senior"),
                    [lesson(day=date(2026, 3, 14))]) == []


def test_makeup_saturday_is_a_working_day_by_default():
    assert rules_of(course(**MATH), [lesson(day=MAKEUP_SATURDAY)]) == []


def test_makeup_saturday_is_a_rest_day_when_the_switch_is_on():
    switched = ctx(params=params(SUBJECT_ON_REST_DAY={"makeup_saturday_is_rest_day": True}))
    assert rules_of(course(**MATH), [lesson(day=MAKEUP_SATURDAY)], switched) == [
        "SUBJECT_ON_REST_DAY"]


def test_saturday_in_a_year_the_calendar_lacks_is_a_rest_day_and_says_so():
    found = checks.evaluate([(course(**MATH), [lesson(day=SATURDAY_2027)])], ctx())
    assert [f.rule for f in found] == ["SUBJECT_ON_REST_DAY"]
    assert "2027年的节假日安排尚未载入" in found[0].message
    assert found[0].details["calendar_loaded"] is False


def test_weekday_in_a_year_the_calendar_lacks_is_a_school_day():
    assert rules_of(course(**MATH), [lesson(day=date(2027, 3, 10))]) == []


def test_loaded_days_win_over_the_weekend_fallback():
    cal = Calendar({date(2027, 3, 13): ("workday", "调休"), date(2027, 3, 10): ("holiday", "测试")})
    assert rules_of(course(**MATH), [lesson(day=SATURDAY_2027)], ctx(calendar=cal)) == []
    assert rules_of(course(**MATH), [lesson(day=date(2027, 3, 10))], ctx(calendar=cal)) == [
        "SUBJECT_ON_HOLIDAY"]
    assert cal.known(2027)


def test_subject_lesson_in_vacation_is_flagged_and_the_day_after_is_not():
    holidays = (("summer", date(2026, 7, 4), date(2026, 8, 31)),)
    inside, after = lesson(day=date(2026, 8, 31)), lesson(day=date(2026, 9, 1))
    assert rules_of(course(**MATH), [inside], ctx(vacations=holidays)) == ["SUBJECT_IN_VACATION"]
    assert rules_of(course(**MATH), [after], ctx(vacations=holidays)) == []
    assert rules_of(course(subject="arts", audience="junior"), [inside],
                    ctx(vacations=holidays)) == []


# --- preschool rules ---------------------------------------------------------------------------
def test_online_course_for_preschool_children_is_flagged_and_offline_is_not():
    assert rules_of(course(audience="preschool", delivery="online", lesson_minutes=20), []) == [
        "PRESCHOOL_ONLINE"]
    assert rules_of(course(audience="preschool"), []) == []


def test_subject_course_for_preschool_children_is_flagged_and_arts_is_not():
    assert rules_of(course(audience="preschool", subject="foreign_language"), []) == [
        "PRESCHOOL_SUBJECT"]
    assert rules_of(course(audience="preschool", subject="arts"), []) == []


# --- licence and institution rules -------------------------------------------------------------
def test_lesson_without_a_valid_licence_is_flagged():
    inst = licensed()
    assert rules_of(course(), [lesson()], ctx(institution=inst)) == []
    expired = InstitutionFacts(1, "330106", "non_subject", "nonprofit", ("primary",),
                               (LicenceFacts(date(2020, 1, 1), WEDNESDAY - timedelta(days=1),
                                             "active", "offline"),))
    assert rules_of(course(), [lesson()], ctx(institution=expired)) == ["NO_ACTIVE_LICENCE"]
    assert rules_of(course(), [lesson()], ctx(institution=licensed(state="suspended"))) == [
        "NO_ACTIVE_LICENCE"]


def test_lesson_on_the_last_day_of_the_licence_passes():
    inst = InstitutionFacts(1, "330106", "non_subject", "nonprofit", ("primary",),
                            (LicenceFacts(date(2020, 1, 1), WEDNESDAY, "active", "offline"),))
    assert rules_of(course(), [lesson()], ctx(institution=inst)) == []


def test_online_lesson_under_an_offline_licence_is_flagged():
    c = course(delivery="online", lesson_minutes=30)
    s = [lesson(start="18:00", end="18:30")]
    assert rules_of(c, s, ctx(institution=licensed("online"))) == []
    assert rules_of(c, s, ctx(institution=licensed("offline"))) == ["LICENCE_DELIVERY_MISMATCH"]


def test_non_subject_institution_filing_a_subject_course_is_flagged():
    c = course(subject="math", audience="senior")
    assert rules_of(c, [], ctx(institution=licensed(category="subject"))) == []
    assert rules_of(c, [], ctx(institution=licensed(category="non_subject"))) == [
        "NON_SUBJECT_INSTITUTION_SUBJECT_COURSE"]


def test_for_profit_subject_institution_for_the_compulsory_stage_is_flagged():
    ok = licensed(category="subject", legal_form="nonprofit")
    bad = licensed(category="subject", legal_form="for_profit")
    senior = licensed(category="subject", legal_form="for_profit", audiences=("senior",))
    assert rules_of(course(**MATH, price_fen=100), [], ctx(institution=ok)) == []
    assert rules_of(course(**MATH, price_fen=100), [], ctx(institution=bad)) == [
        "SUBJECT_NOT_NONPROFIT"]
    assert rules_of(course(subject="math", audience="senior"), [], ctx(institution=senior)) == []


# --- staff rules -------------------------------------------------------------------------------
def teacher(id=7, **overrides):
    data = dict(id=id, name="张老师", role="teacher", has_cert=True)
    data.update(overrides)
    return StaffFacts(**data)


def test_subject_lesson_by_a_teacher_without_certificate_is_flagged():
    c = course(subject="math", audience="senior")
    s = [lesson(teacher=7)]
    assert rules_of(c, s, ctx(staff={7: teacher()})) == []
    assert rules_of(c, s, ctx(staff={7: teacher(has_cert=False)})) == ["TEACHER_UNQUALIFIED"]
    assert rules_of(course(), s, ctx(staff={7: teacher(has_cert=False)})) == []


def test_serving_school_teacher_is_flagged():
    assert rules_of(course(), [], ctx(staff={7: teacher(in_service=True)})) == [
        "TEACHER_IN_SERVICE"]
    assert rules_of(course(), [], ctx(staff={7: teacher(role="staff", in_service=True)})) == []


def test_foreigner_located_abroad_is_flagged_and_in_china_is_not():
    assert rules_of(course(), [], ctx(staff={7: teacher(nationality="US",
                                                         located_abroad=True)})) == [
        "TEACHER_FOREIGN_ABROAD"]
    assert rules_of(course(), [], ctx(staff={7: teacher(nationality="US")})) == []


def test_full_time_teachers_at_half_the_staff_pass_and_below_is_flagged():
    half = {1: teacher(1), 2: teacher(2, role="staff", full_time=False)}
    below = half | {3: teacher(3, full_time=False)}
    assert rules_of(course(), [], ctx(institution=licensed(), staff=half)) == []
    assert rules_of(course(), [], ctx(institution=licensed(), staff=below)) == [
        "STAFF_FULL_TIME_RATIO"]


# --- price -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "delivery", "minutes", "highest"), [
    ("small", "offline", 45, 8800), ("medium", "offline", 45, 6600),
    ("large", "offline", 45, 4400), ("medium", "offline", 90, 13200),
    ("large", "online", 30, 2200),
])
def test_price_at_10_percent_above_guidance_passes_and_one_fen_more_is_flagged(
        size, delivery, minutes, highest):
    base = dict(subject="math", audience="primary", class_size=size, delivery=delivery,
                lesson_minutes=minutes)
    assert rules_of(course(**base, price_fen=highest), []) == []
    assert rules_of(course(**base, price_fen=highest + 1), []) == ["PRICE_ABOVE_GUIDANCE"]


def test_guidance_price_does_not_bind_non_subject_courses():
    assert rules_of(course(price_fen=1_000_000), []) == []


# --- parameters --------------------------------------------------------------------------------
def test_a_disabled_rule_finds_nothing():
    off = ctx(params=params(OFFLINE_ENDS_AFTER_2030={"enabled": False}))
    assert rules_of(course(), [lesson(start="20:00", end="21:00")], off) == []


def test_a_stricter_end_time_parameter_changes_the_answer():
    strict = ctx(params=params(OFFLINE_ENDS_AFTER_2030={"latest_end": "20:00"}))
    assert rules_of(course(), [lesson(start="19:15", end="20:00")], strict) == []
    assert rules_of(course(), [lesson(start="19:16", end="20:01")], strict) == [
        "OFFLINE_ENDS_AFTER_2030"]


def test_every_engine_rule_code_has_a_check():
    assert set(PARAMS) == checks.CODES


def test_findings_carry_a_chinese_message_and_what_they_concern():
    found = checks.evaluate([(course(**MATH), [lesson(day=NATIONAL_DAY, ref=5, teacher=7)])],
                            ctx())
    f = found[0]
    assert (f.rule, f.course_id, f.session_ref, f.staff_id) == ("SUBJECT_ON_HOLIDAY", 1, 5, 7)
    assert "国庆节" in f.message and "法定节假日" in f.message
