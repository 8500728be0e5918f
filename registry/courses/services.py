"""Filing courses and their timetables; every write is judged by the rule engine."""

from datetime import timedelta

import sqlalchemy as sa

from registry import audit, clock
from registry.access import Principal, check_scope, get_in_scope
from registry.courses.models import BATCH_LIMIT, Course, CourseSession
from registry.db import db, snapshot
from registry.errors import Invalid
from registry.institutions import services as institutions
from registry.institutions.models import Institution
from registry.rules import checks, engine
from registry.staff.models import Staff

FIELDS = ("title", "subject", "audience", "delivery", "lesson_minutes", "price_per_lesson",
          "class_size", "lessons_total")


def facts(data: dict, course_id: int | None = None) -> checks.CourseFacts:
    return checks.CourseFacts(course_id, data["title"], data["subject"], data["audience"],
                              data["delivery"], data["lesson_minutes"], data["price_per_lesson"],
                              data["class_size"])


def file(actor: Principal, inst: Institution, data: dict) -> tuple[Course, list[dict]]:
    """File a course; returns it with the breaches found for it and its institution."""
    data = {k: data[k] for k in FIELDS}
    data["title"] = data["title"].strip()
    if not data["title"]:
        raise Invalid("title", "the title must not be empty")
    course = Course(institution_id=inst.id, region_code=inst.region_code, stale=False, **data)
    db.session.add(course)
    db.session.flush()
    audit.record("course.file", "course", course.id, None, snapshot(course))
    findings = engine.check_institution(inst.id)
    mine = [f for f in findings if f.course_id == course.id and f.scope == "course"
            or f.scope == "institution"]
    return course, engine.stored(mine, inst.id)


def get(actor: Principal, course_id: int) -> Course:
    return get_in_scope(actor, Course, course_id, "course")


def for_institution(actor: Principal, institution_id: int):
    institutions.get(actor, institution_id)
    return sa.select(Course).where(Course.institution_id == institution_id).order_by(Course.id)


def sessions_of(course: Course):
    return (sa.select(CourseSession).where(CourseSession.course_id == course.id)
            .order_by(CourseSession.starts_at, CourseSession.id))


def validate_sessions(sessions: list[dict], institution_id: int | None) -> dict:
    """All or nothing: the first bad session rejects the batch, its index named. Returns the
    staff facts of the teachers named."""
    if len(sessions) > BATCH_LIMIT:
        raise Invalid("sessions", f"at most {BATCH_LIMIT} sessions at once")
    teacher_ids = {s["teacher_id"] for s in sessions if s.get("teacher_id") is not None}
    teachers = {}
    if teacher_ids:
        rows = db.session.execute(sa.select(
            Staff.id, Staff.institution_id, Staff.name, Staff.role, Staff.teacher_cert_no,
            Staff.in_service_school_teacher, Staff.nationality, Staff.located_abroad,
            Staff.full_time).where(Staff.id.in_(teacher_ids)))
        for r in rows:
            teachers[r.id] = (r.institution_id, checks.StaffFacts(
                r.id, r.name, r.role, bool(r.teacher_cert_no), r.in_service_school_teacher,
                r.nationality, r.located_abroad, r.full_time))
    for i, s in enumerate(sessions):
        if s["ends_at"] <= s["starts_at"]:
            _bad(i, "ends_at", "a session must end after it starts")
        if s["ends_at"] - s["starts_at"] > timedelta(hours=24):
            _bad(i, "ends_at", "a session lasts at most 24 hours")
        tid = s.get("teacher_id")
        if tid is not None:
            hit = teachers.get(tid)
            if hit is None:
                _bad(i, "teacher_id", f"no staff member {tid}")
            if institution_id is not None and hit[0] != institution_id:
                _bad(i, "teacher_id", f"staff member {tid} is not on this institution's staff")
    return {tid: f for tid, (_, f) in teachers.items()}


def _bad(index: int, field: str, message: str):
    error = Invalid(f"sessions.{index}.{field}", f"session {index}: {message}",
                    code="invalid_session")
    error.extra = {"session_index": index}
    raise error


def add_sessions(actor: Principal, course: Course, sessions: list[dict]) -> tuple[int, list]:
    """Add a batch to the timetable (all or nothing) and judge it; returns (created, breaches)
    where each breach about a new session names its `session_index` in the batch."""
    validate_sessions(sessions, course.institution_id)
    rows = [{"course_id": course.id, "teacher_id": s.get("teacher_id"),
             "starts_at": clock.as_utc(s["starts_at"]), "ends_at": clock.as_utc(s["ends_at"])}
            for s in sessions]
    ids = []
    for start in range(0, len(rows), 1000):
        result = db.session.execute(
            sa.insert(CourseSession).returning(CourseSession.id, sort_by_parameter_order=True),
            rows[start:start + 1000])
        ids.extend(result.scalars().all())
    index_of = {sid: i for i, sid in enumerate(ids)}
    audit.record("course.add_sessions", "course", course.id, None,
                 {"created": len(ids), "first_id": ids[0] if ids else None,
                  "last_id": ids[-1] if ids else None})
    findings = engine.check_institution(course.institution_id)
    mine = [f for f in findings if f.scope == "session" and f.session_ref in index_of]
    out = engine.stored(mine, course.institution_id)
    for d in out:
        d["session_index"] = index_of[d["session_id"]]
    out.sort(key=lambda d: (d["session_index"], d["rule"]))
    return len(ids), out


def dry_run(actor: Principal, data: dict) -> list[dict]:
    """Judge a course body and its sessions as if filed; nothing is stored."""
    institution_id = data.get("institution_id")
    region = data.get("region_code")
    if institution_id is not None:
        inst = institutions.get(actor, institution_id)
        region = inst.region_code
    elif region:
        check_scope(actor, region)
    region = region or actor.region_code
    sessions = data.get("sessions") or []
    teachers = validate_sessions(sessions, institution_id)
    offset = engine.CST_OFFSET
    facts_ = [checks.SessionFacts(i, clock.as_utc(s["starts_at"]).replace(tzinfo=None) + offset,
                                  clock.as_utc(s["ends_at"]).replace(tzinfo=None) + offset,
                                  s.get("teacher_id")) for i, s in enumerate(sessions)]
    found = engine.dry_run(facts(data), facts_, institution_id, region, teachers)
    found.sort(key=lambda d: (d.get("session_index", -1), d["rule"]))
    return found
