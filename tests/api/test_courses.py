"""Courses, timetables and the dry run: breaches found on every write, the same as the dry run
and the rescan."""

import random
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from registry import clock
from registry.courses.models import CourseSession
from registry.rules import engine
from registry.rules.models import Breach
from tests import factories

TODAY = datetime(2026, 11, 23, 10, 0, tzinfo=clock.CST)
SCHOOL_DAY = date(2026, 12, 2)  # a Wednesday
SATURDAY = date(2026, 12, 5)


@pytest.fixture(autouse=True)
def frozen(app):
    clock.freeze(TODAY)


def _licensed(**fields):
    inst = factories.institution(**fields)
    factories.licence(inst)
    return inst


def test_filing_a_course_answers_with_the_breaches_found(client, supervisor):
    inst = _licensed()
    resp = client.post(f"/api/v1/institutions/{inst.id}/courses", headers=supervisor,
                       json=factories.course_data(audience="preschool", delivery="online",
                                                  lesson_minutes=20))
    assert resp.status_code == 201, resp.json
    assert resp.json["price_per_lesson"] == "50.00"
    assert [b["rule"] for b in resp.json["breaches"]] == ["PRESCHOOL_ONLINE"]
    b = resp.json["breaches"][0]
    assert b["course_id"] == resp.json["id"] and b["severity"] == "high" and b["status"] == "open"
    assert "学龄前" in b["message"]


def test_filing_a_clean_course_answers_with_no_breaches(client, supervisor):
    inst = _licensed()
    resp = client.post(f"/api/v1/institutions/{inst.id}/courses", headers=supervisor,
                       json=factories.course_data())
    assert resp.status_code == 201 and resp.json["breaches"] == []
    listed = client.get(f"/api/v1/institutions/{inst.id}/courses", headers=supervisor)
    assert listed.json["total"] == 1


def test_sessions_are_added_and_their_breaches_name_the_index(client, supervisor):
    inst = _licensed()
    course = factories.course(inst)
    batch = [factories.session_at(SCHOOL_DAY, "18:00", "18:45"),
             factories.session_at(SCHOOL_DAY, "19:46", "20:31"),
             factories.session_at(SCHOOL_DAY + timedelta(days=1), "19:45", "20:30")]
    resp = client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                       json={"sessions": batch})
    assert resp.status_code == 201, resp.json
    assert resp.json["created"] == 3
    [found] = resp.json["breaches"]
    assert (found["rule"], found["session_index"]) == ("OFFLINE_ENDS_AFTER_2030", 1)
    assert found["session_id"] and "20:31" in found["message"]
    page = client.get(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                      query_string={"per_page": 2})
    assert page.json["total"] == 3 and len(page.json["items"]) == 2
    assert page.json["items"][0]["starts_at"] == "2026-12-02T18:00:00+08:00"


def test_one_bad_session_rejects_the_whole_batch_naming_its_index(client, supervisor, session):
    inst = _licensed()
    course = factories.course(inst)
    batch = [factories.session_at(SCHOOL_DAY) for _ in range(5)]
    batch[3] = factories.session_at(SCHOOL_DAY, "19:00", "18:00")
    resp = client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                       json={"sessions": batch})
    assert resp.status_code == 422
    assert resp.json["session_index"] == 3 and "sessions.3.ends_at" in resp.json["errors"]
    other = factories.institution()
    outsider = factories.staff(other)
    batch[3] = factories.session_at(SCHOOL_DAY, teacher_id=outsider.id)
    resp = client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                       json={"sessions": batch})
    assert resp.status_code == 422 and resp.json["session_index"] == 3
    batch[3] = {"starts_at": "not a time", "ends_at": "2026-12-02T18:00:00"}
    resp = client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                       json={"sessions": batch})
    assert resp.status_code == 422 and "3" in resp.json["errors"]["sessions"]
    assert session.scalar(sa.select(sa.func.count()).select_from(CourseSession)) == 0


def test_a_batch_over_5000_sessions_is_refused(client, supervisor):
    inst = _licensed()
    course = factories.course(inst)
    batch = [factories.session_at(SCHOOL_DAY)] * 5001
    resp = client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                       json={"sessions": batch})
    assert resp.status_code == 422


def test_dry_run_stores_nothing_and_judges_the_institution_when_named(client, supervisor,
                                                                     session):
    inst = factories.institution()  # no licence
    body = factories.course_data(sessions=[factories.session_at(SCHOOL_DAY)])
    without = client.post("/api/v1/checks/sessions", headers=supervisor, json=body)
    assert without.status_code == 200, without.json
    assert without.json == {"checked": 1, "breaches": []}
    with_inst = client.post("/api/v1/checks/sessions", headers=supervisor,
                            json=body | {"institution_id": inst.id})
    assert [(b["rule"], b["session_index"]) for b in with_inst.json["breaches"]] == [
        ("NO_ACTIVE_LICENCE", 0)]
    assert session.scalar(sa.select(sa.func.count()).select_from(Breach)) == 0


def test_dry_run_judges_non_profit_status_and_subject_courses(client, supervisor):
    inst = _licensed(category="non_subject", legal_form="for_profit", uscc=factories.uscc("91"))
    body = factories.course_data(subject="math", audience="junior", institution_id=inst.id,
                                 sessions=[factories.session_at(SATURDAY)])
    found = client.post("/api/v1/checks/sessions", headers=supervisor, json=body).json
    rules = sorted(b["rule"] for b in found["breaches"])
    assert rules == ["NON_SUBJECT_INSTITUTION_SUBJECT_COURSE", "SUBJECT_NOT_NONPROFIT",
                     "SUBJECT_ON_REST_DAY"]
    assert all(b["message"] and b["severity"] for b in found["breaches"])


def test_a_teacher_losing_the_certificate_flags_their_sessions(client, supervisor, session):
    inst = _licensed(category="subject", audiences=["senior"])
    teacher = factories.staff(inst)
    course = factories.course(inst, subject="math", audience="senior")
    batch = [factories.session_at(SCHOOL_DAY + timedelta(days=i), teacher_id=teacher.id)
             for i in range(3)]
    resp = client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                       json={"sessions": batch})
    assert resp.json["breaches"] == []
    lost = client.patch(f"/api/v1/staff/{teacher.id}", headers=supervisor,
                        json={"teacher_cert_no": None})
    assert lost.status_code == 200 and lost.json["qualification"] is None
    flagged = client.get("/api/v1/breaches", headers=supervisor,
                         query_string={"rule": "TEACHER_UNQUALIFIED", "status": "open"})
    assert flagged.json["total"] == 3
    assert {b["staff_id"] for b in flagged.json["items"]} == {teacher.id}
    client.patch(f"/api/v1/staff/{teacher.id}", headers=supervisor,
                 json={"teacher_cert_no": "20193301234567890"})
    resolved = client.get("/api/v1/breaches", headers=supervisor,
                          query_string={"rule": "TEACHER_UNQUALIFIED", "status": "resolved"})
    assert resolved.json["total"] == 3


def test_a_licence_suspension_flags_the_sessions_and_reinstatement_resolves_them(
        client, supervisor):
    inst = factories.institution()
    lic = factories.licence(inst)
    course = factories.course(inst)
    client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor,
                json={"sessions": [factories.session_at(SCHOOL_DAY)]})
    client.post(f"/api/v1/licences/{lic.id}/suspend", headers=supervisor,
                json={"reason": "检查"})
    open_ = client.get("/api/v1/breaches", headers=supervisor,
                       query_string={"rule": "NO_ACTIVE_LICENCE"}).json["items"]
    assert [b["status"] for b in open_] == ["open"]
    client.post(f"/api/v1/licences/{lic.id}/reinstate", headers=supervisor,
                json={"reason": "整改完成"})
    after = client.get(f"/api/v1/breaches/{open_[0]['id']}", headers=supervisor).json
    assert after["status"] == "resolved"
    assert after["history"][-1]["to_status"] == "resolved"


def _timetable(rng: random.Random, n: int, teachers: list[int]) -> list[dict]:
    """Random lessons around the edges of the rules: late ends, short breaks, weekends,
    holidays (National Day 2026; 2027 is outside the built-in calendar), long online lessons."""
    out, day = [], date(2026, 9, 26)
    for _ in range(n):
        day += timedelta(days=rng.choice((0, 0, 0, 1)))
        start = datetime(day.year, day.month, day.day, rng.choice((8, 17, 18, 19, 20)),
                         rng.choice((0, 10, 25, 31, 40, 50)))
        length = rng.choice((25, 30, 30, 31, 45))
        end = start + timedelta(minutes=length)
        out.append({"starts_at": start.isoformat() + "+08:00",
                    "ends_at": end.isoformat() + "+08:00",
                    "teacher_id": rng.choice(teachers)})
    return out


def test_dry_run_write_and_rescan_agree_on_a_generated_timetable(client, supervisor, admin,
                                                                session):
    inst = factories.institution(category="subject", audiences=["junior"])
    factories.licence(inst, delivery="offline")  # online lessons mismatch it
    teachers = [factories.staff(inst).id, factories.staff(inst, teacher_cert_no=None).id,
                factories.staff(inst).id]
    client.post("/api/v1/calendar/vacations", headers=supervisor, json={
        "region_code": "330100", "kind": "winter", "starts_on": "2027-01-20",
        "ends_on": "2027-02-20"})
    rng = random.Random(2026)
    bodies = [factories.course_data(subject="math", audience="junior", delivery="online",
                                    lesson_minutes=30, price_per_lesson="20.00"),
              factories.course_data(subject="physics", audience="junior")]
    dry, written, index_of = set(), set(), {}
    for n, body in enumerate(bodies):
        timetable = _timetable(rng, 2000, teachers)
        check = client.post("/api/v1/checks/sessions", headers=supervisor,
                            json=body | {"institution_id": inst.id, "sessions": timetable})
        assert check.status_code == 200, check.json
        dry |= {(n, b["rule"], b["session_index"]) for b in check.json["breaches"]
                if "session_index" in b}
        course_id = client.post(f"/api/v1/institutions/{inst.id}/courses", headers=supervisor,
                                json=body).json["id"]
        resp = client.post(f"/api/v1/courses/{course_id}/sessions", headers=supervisor,
                           json={"sessions": timetable})
        assert resp.status_code == 201
        written |= {(n, b["rule"], b["session_index"]) for b in resp.json["breaches"]}
        ids = session.scalars(sa.select(CourseSession.id).where(
            CourseSession.course_id == course_id).order_by(CourseSession.id)).all()
        index_of |= {sid: (n, i) for i, sid in enumerate(ids)}
    assert len(dry) > 500
    assert {rule for _, rule, _ in dry} >= {
        "ONLINE_LESSON_OVER_30_MIN", "ONLINE_BREAK_UNDER_10_MIN", "ONLINE_ENDS_AFTER_2100",
        "OFFLINE_ENDS_AFTER_2030", "SUBJECT_ON_REST_DAY", "SUBJECT_ON_HOLIDAY",
        "SUBJECT_IN_VACATION", "TEACHER_UNQUALIFIED", "LICENCE_DELIVERY_MISMATCH"}
    assert dry == written

    session.execute(sa.delete(Breach))
    session.commit()
    stats = engine.rescan(chunk=1)
    assert stats.sessions == 4000
    rows = session.execute(sa.select(Breach.rule, Breach.session_id).where(
        Breach.session_id.is_not(None))).all()
    rescanned = {(index_of[sid][0], rule, index_of[sid][1]) for rule, sid in rows}
    assert rescanned == dry
