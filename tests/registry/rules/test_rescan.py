"""The full rescan: streamed in chunks, the same answers as the check on write, and fast."""

import random
import time
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from registry import access, audit, clock
from registry.courses.models import Course, CourseSession
from registry.db import db
from registry.rules import engine
from registry.rules.models import Breach, BreachEvent
from registry.staff.models import Staff
from tests import factories

SUBJECTS = [("math", "junior", "offline"), ("arts", "primary", "offline"),
            ("foreign_language", "primary", "online"), ("sports", "junior", "offline")]


def bulk_timetables(institutions: int, courses_each: int, sessions_each: int,
                    seed: int = 1) -> int:
    """Licensed institutions with teachers, courses and sessions, inserted in bulk."""
    rng = random.Random(seed)
    now = clock.now()
    with audit.acting_as(access.SYSTEM):
        insts = [factories.institution(category="subject", audiences=["primary", "junior"])
                 for _ in range(institutions)]
        for inst in insts:
            for delivery in ("offline", "online"):
                factories.licence(inst, issued_on=date(2025, 1, 1),
                                  expires_on=date(2028, 12, 31), delivery=delivery)
    staff_rows, course_rows = [], []
    for inst in insts:
        for k in range(3):
            staff_rows.append({
                "institution_id": inst.id, "region_code": inst.region_code, "name": f"教师{k}",
                "id_number_encrypted": "x", "id_number_index": f"{inst.id}-{k}",
                "id_number_masked": "330106********0000", "role": "teacher",
                "teacher_cert_no": None if k == 2 else "20193301234567890", "subjects": [],
                "in_service_school_teacher": False, "nationality": "CN",
                "located_abroad": False, "full_time": True, "created_at": now,
                "updated_at": now})
        for c in range(courses_each):
            subject, audience, delivery = SUBJECTS[c % len(SUBJECTS)]
            course_rows.append(factories.course_row(inst, f"课程{c}", subject, audience,
                                                    delivery, now))
    db.session.execute(sa.insert(Staff), staff_rows)
    db.session.execute(sa.insert(Course), course_rows)
    teachers: dict = {}
    for sid, inst_id in db.session.execute(sa.select(Staff.id, Staff.institution_id)):
        teachers.setdefault(inst_id, []).append(sid)
    courses = db.session.execute(sa.select(Course.id, Course.institution_id,
                                           Course.lesson_minutes)).all()
    base = datetime(2026, 9, 1, tzinfo=UTC)
    total, rows = 0, []
    for course_id, inst_id, minutes in courses:
        when = base
        for _ in range(sessions_each):
            when += timedelta(hours=rng.choice((4, 20, 24, 24, 48)), minutes=rng.choice((0, 35)))
            start = when.replace(hour=rng.choice((1, 9, 11, 12, 12)), minute=rng.choice((0, 31)))
            rows.append({"course_id": course_id, "teacher_id": rng.choice(teachers[inst_id]),
                         "starts_at": start, "ends_at": start + timedelta(minutes=minutes)})
            if len(rows) == 10_000:
                db.session.execute(sa.insert(CourseSession), rows)
                total, rows = total + len(rows), []
    if rows:
        db.session.execute(sa.insert(CourseSession), rows)
        total += len(rows)
    db.session.commit()
    return total


def _stored():
    return set(db.session.execute(sa.select(Breach.dedupe_key, Breach.status)).all())


def test_rescan_finds_the_same_breaches_as_the_check_on_write(app):
    clock.freeze(datetime(2026, 11, 23, 10, tzinfo=clock.CST))
    bulk_timetables(3, 4, 60)
    with audit.acting_as(access.SYSTEM):
        for inst_id in db.session.scalars(sa.select(Course.institution_id).distinct()):
            engine.check_institution(inst_id)
        db.session.commit()
    on_write = _stored()
    assert len(on_write) > 50
    db.session.execute(sa.delete(Breach))
    db.session.commit()
    stats = engine.rescan(chunk=2)
    assert stats.institutions == 3 and stats.sessions == 720
    assert _stored() == on_write


def test_rescan_resolves_what_no_longer_holds_and_reopens_what_returns(app):
    clock.freeze(datetime(2026, 11, 23, 10, tzinfo=clock.CST))
    bulk_timetables(2, 4, 30)
    first = engine.rescan()
    assert first.opened > 0 and first.resolved == 0
    assert engine.rescan().opened == 0
    db.session.execute(sa.update(Staff).values(teacher_cert_no="20193301234567890"))
    db.session.commit()
    cleared = engine.rescan()
    unqualified = db.session.scalar(sa.select(sa.func.count()).where(
        Breach.rule == "TEACHER_UNQUALIFIED"))
    assert cleared.resolved == unqualified > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BreachEvent)) == unqualified
    db.session.execute(sa.update(Staff).values(teacher_cert_no=None))
    db.session.commit()
    back = engine.rescan()
    assert back.reopened == unqualified and back.opened > 0


def test_rescan_of_one_region_leaves_the_others_alone(app):
    bulk_timetables(2, 2, 10)
    stats = engine.rescan(region="110000")
    assert stats.institutions == 0 and stats.sessions == 0
    assert engine.rescan(region="330100").institutions == 2


def test_a_rescan_of_100000_sessions_completes(app, capsys):
    clock.freeze(datetime(2026, 11, 23, 10, tzinfo=clock.CST))
    total = bulk_timetables(100, 4, 250, seed=3)
    assert total == 100_000
    done = []
    started = time.perf_counter()
    stats = engine.rescan(progress=done.append)
    first = time.perf_counter() - started
    again = engine.rescan()
    assert stats.sessions == sum(done) == 100_000
    assert again.opened == again.resolved == 0 and again.findings == stats.findings
    with capsys.disabled():
        print(f"\nrescan of 100,000 sessions ({db.engine.dialect.name}): first {first:.2f} s "
              f"({stats.opened} breaches opened), again {again.seconds:.2f} s "
              f"({again.sessions_per_second:,.0f} sessions/s)")
