"""The calendar: built-in years, days loaded or corrected by the regulator, the weekend fallback
for a year nobody loaded, and regional vacations inherited by the regions under them."""

from datetime import datetime

import pytest
import sqlalchemy as sa

from registry import clock
from registry.audit import AuditEvent
from tests import factories

SATURDAY_2027 = "2027-03-13"


@pytest.fixture(autouse=True)
def frozen(app):
    clock.freeze(datetime(2026, 11, 23, 10, tzinfo=clock.CST))


def _check(client, headers, day, region="330106", **course):
    body = factories.course_data(**{"subject": "math", "audience": "primary",
                                    "price_per_lesson": "60.00", "region_code": region} | course)
    body["sessions"] = [{"starts_at": f"{day}T09:00:00+08:00", "ends_at": f"{day}T09:45:00+08:00"}]
    resp = client.post("/api/v1/checks/sessions", headers=headers, json=body)
    assert resp.status_code == 200, resp.json
    return resp.json["breaches"]


def test_a_saturday_in_a_year_the_calendar_lacks_is_a_rest_day_without_error(client,
                                                                            supervisor):
    [found] = _check(client, supervisor, SATURDAY_2027)
    assert found["rule"] == "SUBJECT_ON_REST_DAY"
    assert "2027年的节假日安排尚未载入" in found["message"]
    day = client.get(f"/api/v1/calendar/days/{SATURDAY_2027}", headers=supervisor).json
    assert day == {"date": SATURDAY_2027, "kind": "rest", "name": None, "calendar_loaded": False}


def test_an_admin_loads_days_of_a_missing_year(client, supervisor, admin, session):
    url = f"/api/v1/calendar/days/{SATURDAY_2027}"
    assert client.put(url, headers=supervisor, json={"kind": "workday"}).status_code == 403
    resp = client.put(url, headers=admin, json={"kind": "workday", "name": "调休上班"})
    assert resp.status_code == 200
    assert resp.json == {"date": SATURDAY_2027, "kind": "makeup", "name": "调休上班",
                         "calendar_loaded": True}
    assert _check(client, supervisor, SATURDAY_2027) == []
    client.put("/api/v1/calendar/days/2027-10-01", headers=admin,
               json={"kind": "holiday", "name": "国庆节"})
    assert [b["rule"] for b in _check(client, supervisor, "2027-10-01")] == [
        "SUBJECT_ON_HOLIDAY"]
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "calendar.set_day")) == 2


def test_a_correction_wins_over_the_built_in_calendar(client, supervisor, admin):
    assert [b["rule"] for b in _check(client, supervisor, "2026-10-01")] == [
        "SUBJECT_ON_HOLIDAY"]
    client.put("/api/v1/calendar/days/2026-10-01", headers=admin, json={"kind": "workday"})
    assert _check(client, supervisor, "2026-10-01") == []


def test_sports_on_a_holiday_is_not_flagged(client, supervisor):
    assert _check(client, supervisor, "2026-10-01", subject="sports") == []


def test_a_bad_date_is_refused(client, admin):
    resp = client.put("/api/v1/calendar/days/2027-02-30", headers=admin, json={"kind": "holiday"})
    assert resp.status_code == 422


def test_a_vacation_is_inherited_by_the_regions_under_it(client, supervisor, admin):
    resp = client.post("/api/v1/calendar/vacations", headers=admin, json={
        "region_code": "330000", "kind": "summer", "starts_on": "2027-07-05",
        "ends_on": "2027-08-31"})
    assert resp.status_code == 201, resp.json
    wednesday = "2027-07-07"
    assert [b["rule"] for b in _check(client, supervisor, wednesday)] == ["SUBJECT_IN_VACATION"]
    assert [b["rule"] for b in _check(client, supervisor, wednesday, region="330102")] == [
        "SUBJECT_IN_VACATION"]
    assert _check(client, admin, wednesday, region="110101") == []
    assert _check(client, supervisor, "2027-09-01") == []
    listed = client.get("/api/v1/calendar/vacations", headers=supervisor,
                        query_string={"region": "330106"})
    assert listed.json["total"] == 1


def test_a_supervisor_sets_vacations_only_in_its_region(client, supervisor):
    body = {"region_code": "110000", "kind": "winter", "starts_on": "2027-01-20",
            "ends_on": "2027-02-20"}
    assert client.post("/api/v1/calendar/vacations", headers=supervisor,
                       json=body).status_code == 403
    backwards = body | {"region_code": "330100", "ends_on": "2027-01-01"}
    assert client.post("/api/v1/calendar/vacations", headers=supervisor,
                       json=backwards).status_code == 422


def test_a_calendar_change_marks_the_courses_with_lessons_that_day(client, supervisor, admin,
                                                                  session):
    from registry.courses.models import Course

    inst = factories.institution(category="subject", audiences=["primary"])
    factories.licence(inst)
    course = factories.course(inst, subject="math", price_per_lesson="60.00")
    client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor, json={
        "sessions": [factories.session_at(datetime(2027, 3, 13).date(), "09:00", "09:45")]})
    assert client.get("/api/v1/breaches", headers=supervisor,
                      query_string={"rule": "SUBJECT_ON_REST_DAY"}).json["total"] == 1
    client.put(f"/api/v1/calendar/days/{SATURDAY_2027}", headers=admin,
               json={"kind": "workday"})
    session.expire_all()
    assert session.get(Course, course.id).stale is True
    from registry.rules import engine

    stats = engine.rescan(stale_only=True)
    assert stats.resolved == 1
    assert client.get("/api/v1/breaches", headers=supervisor,
                      query_string={"rule": "SUBJECT_ON_REST_DAY",
                                    "status": "resolved"}).json["total"] == 1
