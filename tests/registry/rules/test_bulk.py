"""The bulk rescan's SQL judges every session as the Python checks do, on generated timetables
with breaches of every kind, regional overrides, loaded calendar days, vacations, a year the
calendar does not know and sessions stored in UTC but judged in China Standard Time."""

import json
import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from registry import access, audit, clock
from registry.calendar import CalendarDay, Vacation
from registry.courses.models import Course, CourseSession
from registry.db import db, is_postgres
from registry.institutions.models import Licence
from registry.rules import bulk, checks, engine
from registry.rules.models import Breach, RuleOverride
from registry.staff.models import Staff
from tests import factories

REGIONS = ("330106", "110101", "310101")
# (subject, audience, delivery): compulsory subjects, non-subject, preschool, high school
COURSES = [("math", "junior", "offline"), ("physics", "primary", "online"),
           ("arts", "primary", "offline"), ("chinese", "preschool", "online"),
           ("foreign_language", "senior", "offline"), ("chemistry", "junior", "online")]
# (delivery, state, issued, expires) per licence; one list per institution, cycled
LICENCES = [
    [("offline", "active", date(2020, 1, 1), date(2030, 12, 31))],
    [("offline", "active", date(2020, 1, 1), date(2030, 12, 31)),
     ("online", "active", date(2024, 9, 20), date(2027, 2, 10))],
    [("online", "active", date(2024, 1, 1), date(2024, 9, 30)),
     ("offline", "active", date(2024, 10, 8), date(2026, 12, 31))],
    [("offline", "suspended", date(2020, 1, 1), date(2030, 12, 31))],
    [("offline", "revoked", date(2020, 1, 1), date(2030, 12, 31)),
     ("online", "active", date(2027, 1, 1), date(2027, 12, 31))],
    [],
]
# around the 2024 National Day holiday and the 14 September make-up Saturday (built into the
# calendar), early 2027 (days loaded below) and spring 2028 (nothing known: weekends rest)
PERIODS = [(date(2024, 9, 2), 50), (date(2027, 1, 4), 80), (date(2028, 3, 1), 40)]
STARTS = ["08:00", "16:00", "18:30", "19:45", "20:00", "20:20", "20:45", "21:00", "22:10",
          "23:40", "06:50", "07:59:59"]


def generated(seed: int = 7) -> list[int]:
    """Institutions with licences, staff, courses and sessions (inserted in bulk)."""
    rng = random.Random(seed)
    now = clock.now()
    insts = []
    with audit.acting_as(access.SYSTEM):
        for n in range(12):
            region = REGIONS[n % 3]
            insts.append(factories.institution(
                uscc=factories.uscc(region=region), region_code=region,
                category="subject" if n % 4 else "non_subject",
                audiences=["primary", "junior"], legal_form="nonprofit" if n % 5 else "company"))
    rows = []
    for n, inst in enumerate(insts):
        for k, (delivery, state, issued, expires) in enumerate(LICENCES[n % len(LICENCES)]):
            rows.append({"institution_id": inst.id, "number": f"教民{inst.id:06d}{k}号",
                         "issuer": "教育局", "issued_on": issued, "expires_on": expires,
                         "delivery": delivery, "basis": "import", "state": state,
                         "created_at": now, "updated_at": now})
    db.session.execute(sa.insert(Licence), rows)
    staff, courses = [], []
    for n, inst in enumerate(insts):
        for k in range(4 if n % 6 else 0):  # some institutions have no staff at all
            staff.append({
                "institution_id": inst.id, "region_code": inst.region_code, "name": f"教师{k}",
                "id_number_encrypted": "x", "id_number_index": f"{inst.id}-{k}",
                "id_number_masked": "330106********0000", "role": "teacher" if k else "admin",
                "teacher_cert_no": (None, "", "20193301234567890")[k % 3], "subjects": [],
                "in_service_school_teacher": k == 3 and n % 2 == 0,
                "nationality": "US" if k == 2 and n % 3 == 0 else "CN",
                "located_abroad": k == 2, "full_time": k == 3 or n % 2 == 0,
                "created_at": now, "updated_at": now})
        for c, (subject, audience, delivery) in enumerate(COURSES):
            if (n + c) % 3 == 2:
                continue
            courses.append(factories.course_row(inst, f"课程{c}", subject, audience, delivery,
                                                now))
    db.session.execute(sa.insert(Staff), staff)
    db.session.execute(sa.insert(Course), courses)
    teachers: dict = {}
    for sid, inst_id in db.session.execute(sa.select(Staff.id, Staff.institution_id)):
        teachers.setdefault(inst_id, []).append(sid)
    everyone = [t for ts in teachers.values() for t in ts]
    sessions = []
    for course_id, inst_id, delivery in db.session.execute(
            sa.select(Course.id, Course.institution_id, Course.delivery)):
        own = teachers.get(inst_id, [])
        for first, days in PERIODS:
            for _ in range(30):
                day = first + timedelta(days=rng.randrange(days))
                h, m, *s = (int(x) for x in rng.choice(STARTS).split(":"))
                start = datetime(day.year, day.month, day.day, h, m, s[0] if s else 0)
                minutes = rng.choice((25, 30, 30, 31, 45, 50)) if delivery == "online" else \
                    rng.choice((45, 60, 90))
                end = start + timedelta(minutes=minutes, seconds=rng.choice((0, 0, 1)))
                teacher = rng.choice(own + [None] + everyone[:1]) if own else None
                # stored as UTC: eight hours earlier than the lesson's time in China
                sessions.append({"course_id": course_id, "teacher_id": teacher,
                                 "starts_at": (start - timedelta(hours=8)).replace(tzinfo=UTC),
                                 "ends_at": (end - timedelta(hours=8)).replace(tzinfo=UTC)})
                if delivery == "online" and rng.random() < 0.3:  # a second lesson soon after
                    gap = timedelta(minutes=rng.choice((0, 5, 9, 10, 15)))
                    later = end + gap
                    sessions.append({
                        "course_id": course_id, "teacher_id": teacher,
                        "starts_at": (later - timedelta(hours=8)).replace(tzinfo=UTC),
                        "ends_at": (later + timedelta(minutes=30, hours=-8)).replace(
                            tzinfo=UTC)})
    db.session.execute(sa.insert(CourseSession), sessions)
    # the regulator's calendar for 2027, vacations, and regional parameters
    db.session.execute(sa.insert(CalendarDay), [
        {"day": date(2027, 1, 1), "kind": "holiday", "name": "元旦", "updated_at": now},
        {"day": date(2027, 2, 8), "kind": "holiday", "name": "春节", "updated_at": now},
        {"day": date(2027, 2, 9), "kind": "holiday", "name": "春节", "updated_at": now},
        {"day": date(2027, 2, 13), "kind": "holiday", "name": "春节", "updated_at": now},
        {"day": date(2027, 2, 20), "kind": "workday", "name": "春节", "updated_at": now},
        {"day": date(2027, 1, 16), "kind": "workday", "name": None, "updated_at": now}])
    db.session.execute(sa.insert(Vacation), [
        {"region_code": "330000", "kind": "winter", "starts_on": date(2027, 1, 25),
         "ends_on": date(2027, 2, 20), "created_at": now},
        {"region_code": "330100", "kind": "winter", "starts_on": date(2027, 2, 15),
         "ends_on": date(2027, 2, 28), "created_at": now},
        {"region_code": "110000", "kind": "summer", "starts_on": date(2024, 9, 1),
         "ends_on": date(2024, 9, 6), "created_at": now}])
    db.session.execute(sa.insert(RuleOverride), [
        {"rule_code": "OFFLINE_ENDS_AFTER_2030", "region_code": "330000",
         "params": {"latest_end": "20:00"}, "enabled": None, "updated_at": now},
        {"rule_code": "ONLINE_LESSON_OVER_30_MIN", "region_code": "330100",
         "params": {"max_minutes": 25}, "enabled": None, "updated_at": now},
        {"rule_code": "SUBJECT_ON_REST_DAY", "region_code": "110000",
         "params": {"makeup_saturday_is_rest_day": True}, "enabled": None, "updated_at": now},
        {"rule_code": "NO_ACTIVE_LICENCE", "region_code": "310000", "params": {},
         "enabled": False, "updated_at": now},
        {"rule_code": "ONLINE_ENDS_AFTER_2100", "region_code": "310101",
         "params": {"latest_end": "22:30"}, "enabled": None, "updated_at": now}])
    db.session.commit()
    return sorted(inst.id for inst in insts)


def _python(ids: list[int]) -> dict:
    """{dedupe key: (message, details)} from `checks.evaluate` over every fact loaded."""
    world, out = engine.World(), {}
    for inst_id, (inst, courses, staff) in engine._facts(ids).items():
        for f in checks.evaluate(courses, world.context(inst.region_code, inst, staff)):
            out[engine.dedupe_key(f, inst_id)] = (f.message, f.details)
    return out


def test_sql_and_python_find_the_same_breaches(app):
    clock.freeze(datetime(2026, 11, 23, 10, tzinfo=clock.CST))
    ids = generated()
    expected = _python(ids)
    rules = {key.split(":")[0] for key in expected}
    assert rules >= {
        "OFFLINE_ENDS_AFTER_2030", "ONLINE_ENDS_AFTER_2100", "ONLINE_LESSON_OVER_30_MIN",
        "TEACHER_UNQUALIFIED", "SUBJECT_ON_HOLIDAY", "SUBJECT_ON_REST_DAY",
        "SUBJECT_IN_VACATION", "NO_ACTIVE_LICENCE", "LICENCE_DELIVERY_MISMATCH",
        "ONLINE_BREAK_UNDER_10_MIN", "TEACHER_IN_SERVICE", "TEACHER_FOREIGN_ABROAD",
        "STAFF_FULL_TIME_RATIO", "PRESCHOOL_ONLINE", "PRESCHOOL_SUBJECT",
        "NON_SUBJECT_INSTITUTION_SUBJECT_COURSE", "SUBJECT_NOT_NONPROFIT"}
    details = [d for key, (_, d) in expected.items() if key.startswith("SUBJECT_ON_REST_DAY")]
    assert {d["calendar_loaded"] for d in details} == {True, False}
    assert any(d["makeup_day"] for d in details)  # the Beijing override
    assert len(expected) > 300

    if is_postgres():
        judge, found = bulk.Judge(engine.World()), {}
        for k in range(0, len(ids), 5):
            for inst_id, (_, findings) in judge(ids[k:k + 5])[0].items():
                for f in findings:
                    found[engine.dedupe_key(f, inst_id)] = (f.message, f.details)
        assert set(found) == set(expected)
        assert found == expected

    # chunks after the first are judged while the one before is stored (on PostgreSQL)
    stats = engine.rescan(chunk=4)  # SQL on PostgreSQL, Python on SQLite
    stored = {r[0]: [r[1], r[2]] for r in db.session.execute(
        sa.select(Breach.dedupe_key, Breach.message, Breach.details))}
    assert stored == json.loads(json.dumps(expected))  # details as JSON gives them back
    assert stats.findings == len(expected) and stats.sessions == db.session.scalar(
        sa.select(sa.func.count()).select_from(CourseSession))
    again = engine.rescan(chunk=5)
    assert again.opened == again.resolved == 0 and again.findings == stats.findings


def test_a_rescan_judges_what_its_session_has_not_committed(app):
    clock.freeze(datetime(2026, 11, 23, 10, tzinfo=clock.CST))
    ids = generated()
    late = datetime(2027, 3, 3, 14, 40, tzinfo=UTC)  # 22:40 in China, a Wednesday
    courses = db.session.scalars(sa.select(Course.id).where(Course.institution_id.in_(ids[4:])))
    db.session.execute(sa.insert(CourseSession), [
        {"course_id": c, "teacher_id": None, "starts_at": late,
         "ends_at": late + timedelta(minutes=25)} for c in courses])
    added = set(db.session.scalars(sa.select(CourseSession.id).where(
        CourseSession.starts_at == late)))
    expected = _python(ids)
    assert len(added) > 3 and {int(key.split(":s")[1]) for key in expected if key.split(
        ":")[0] in ("OFFLINE_ENDS_AFTER_2030", "ONLINE_ENDS_AFTER_2100")} >= added
    # on PostgreSQL the chunks after the second are judged in SQL on a second connection
    stats = engine.rescan(chunk=4)
    stored = set(db.session.scalars(sa.select(Breach.dedupe_key)))
    assert stored == set(expected) and stats.findings == len(expected)


def test_new_breaches_are_stored_as_given(app):
    now = clock.now()
    text = "课程“a\\tb\\\\N”\t\n\r\\ 结束"
    row = {"rule": "ONLINE_ENDS_AFTER_2100", "severity": "high", "message": text,
           "dedupe_key": "X:s1\t", "institution_id": None, "region_code": "330106",
           "course_id": 7, "session_id": 1, "staff_id": None,
           "details": {"note": text, "n": 2, "none": None}, "status": "open",
           "detected_at": now, "updated_at": now}
    engine._insert([row, row | {"dedupe_key": "X:s2", "details": None}])
    got = {b.dedupe_key: b for b in db.session.scalars(sa.select(Breach))}
    assert set(got) == {"X:s1\t", "X:s2"}
    b = got["X:s1\t"]
    assert (b.message, b.details, b.course_id, b.staff_id) == (text, row["details"], 7, None)
    assert b.detected_at == b.updated_at == now.replace(microsecond=b.detected_at.microsecond)
    assert abs(b.detected_at - now) < timedelta(milliseconds=1)
    assert got["X:s2"].details is None


def test_licence_spans_follow_the_licences_valid_each_day():
    lic = checks.LicenceFacts
    spans = bulk.licence_spans([
        lic(date(2024, 1, 1), date(2024, 12, 31), "active", "offline"),
        lic(date(2024, 6, 1), date(2025, 5, 31), "active", "online"),
        lic(date(2023, 1, 1), date(2030, 1, 1), "revoked", "online"),
        lic(date(2026, 1, 1), date.max, "active", "offline")])
    assert spans == [(date(2024, 1, 1), date(2024, 5, 31), ",offline,"),
                     (date(2024, 6, 1), date(2024, 12, 31), ",offline,online,"),
                     (date(2025, 1, 1), date(2025, 5, 31), ",online,"),
                     (date(2026, 1, 1), date.max, ",offline,")]
    ctx = checks.Context({}, None, institution=checks.InstitutionFacts(
        1, "330106", "subject", "nonprofit", (), tuple(lic(*s) for s in [
            (date(2024, 1, 1), date(2024, 12, 31), "active", "offline"),
            (date(2024, 6, 1), date(2025, 5, 31), "active", "online")])))
    day = date(2023, 12, 1)
    while day < date(2025, 8, 1):
        inside = [modes for first, last, modes in bulk.licence_spans(ctx.institution.licences)
                  if first <= day <= last]
        valid = ctx.licensed_deliveries(day)
        assert inside == ([f",{','.join(sorted(valid))},"] if valid else [])
        day += timedelta(days=1)


def test_merged_spans():
    d = date
    assert bulk.merged([(d(2027, 2, 15), d(2027, 2, 28)), (d(2027, 1, 25), d(2027, 2, 20)),
                        (d(2027, 3, 1), d(2027, 3, 2)), (d(2027, 7, 1), d(2027, 8, 31))]) == [
        (d(2027, 1, 25), d(2027, 3, 2)), (d(2027, 7, 1), d(2027, 8, 31))]
