"""The rule catalogue: read by supervisors, changed by admins (audited), regional overrides
keyed by region-code prefix with the most specific winning."""

from datetime import date, datetime

import sqlalchemy as sa

from registry.audit import AuditEvent
from registry.clock import CST, freeze
from registry.rules import catalogue, checks
from tests import factories

WEDNESDAY = "2026-12-02"


def _late_lesson_check(client, headers, region, end="20:15"):
    body = factories.course_data(region_code=region, sessions=[
        {"starts_at": f"{WEDNESDAY}T19:30:00+08:00", "ends_at": f"{WEDNESDAY}T{end}:00+08:00"}])
    resp = client.post("/api/v1/checks/sessions", headers=headers, json=body)
    assert resp.status_code == 200, resp.json
    return [b["rule"] for b in resp.json["breaches"]]


def test_the_catalogue_lists_every_rule_code_with_its_parameters(client, supervisor):
    resp = client.get("/api/v1/rules", headers=supervisor, query_string={"per_page": 200})
    assert resp.status_code == 200
    by_code = {r["code"]: r for r in resp.json["items"]}
    assert set(by_code) >= checks.CODES
    assert by_code["OFFLINE_ENDS_AFTER_2030"]["params"] == {"latest_end": "20:30"}
    assert by_code["SUBJECT_ON_REST_DAY"]["params"] == {"makeup_saturday_is_rest_day": False}
    price = by_code["PRICE_ABOVE_GUIDANCE"]
    assert price["params"]["offline_base"]["small"] == "80.00" and price["description"]
    assert {"region_code": "110000", "params": {"applies_to": "all"}, "enabled": None} in \
        by_code["PREPAID_OVER_5000"]["overrides"]


def test_only_an_admin_changes_a_rule_and_the_change_is_audited(client, supervisor, admin,
                                                                session):
    url = "/api/v1/rules/ONLINE_LESSON_OVER_30_MIN"
    assert client.patch(url, headers=supervisor, json={"params": {"max_minutes": 40}}) \
        .status_code == 403
    resp = client.patch(url, headers=admin, json={"params": {"max_minutes": 40},
                                                  "severity": "high"})
    assert resp.status_code == 200, resp.json
    assert resp.json["params"] == {"max_minutes": 40} and resp.json["severity"] == "high"
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "rule.update")).one()
    assert event.before["params"] == {"max_minutes": 30}
    assert event.after["params"] == {"max_minutes": 40}
    assert event.actor_name == "admin"


def test_unknown_or_mistyped_parameters_are_refused(client, admin):
    url = "/api/v1/rules/OFFLINE_ENDS_AFTER_2030"
    assert client.patch(url, headers=admin, json={"params": {"latest": "20:00"}}) \
        .status_code == 422
    assert client.patch(url, headers=admin, json={"params": {"latest_end": 2000}}) \
        .status_code == 422
    assert client.patch(url, headers=admin, json={"params": {"latest_end": "25:00"}}) \
        .status_code == 422
    assert client.patch("/api/v1/rules/NOPE", headers=admin, json={}).status_code == 404


def test_a_regional_override_changes_the_answer_in_that_region_only(client, supervisor, admin):
    assert _late_lesson_check(client, supervisor, "330106") == []
    resp = client.patch("/api/v1/rules/OFFLINE_ENDS_AFTER_2030", headers=admin, json={
        "overrides": [{"region_code": "330106", "params": {"latest_end": "20:00"}}]})
    assert resp.status_code == 200, resp.json
    assert resp.json["overrides"] == [{"region_code": "330106",
                                       "params": {"latest_end": "20:00"}, "enabled": None}]
    assert _late_lesson_check(client, supervisor, "330106") == ["OFFLINE_ENDS_AFTER_2030"]
    assert _late_lesson_check(client, supervisor, "330102") == []
    assert _late_lesson_check(client, admin, "110101") == []


def test_the_most_specific_override_wins(client, supervisor, admin):
    client.patch("/api/v1/rules/OFFLINE_ENDS_AFTER_2030", headers=admin, json={"overrides": [
        {"region_code": "330000", "params": {"latest_end": "20:00"}},
        {"region_code": "330106", "params": {"latest_end": "20:45"}}]})
    assert catalogue.params("OFFLINE_ENDS_AFTER_2030", "330106")["latest_end"] == "20:45"
    assert catalogue.params("OFFLINE_ENDS_AFTER_2030", "330102")["latest_end"] == "20:00"
    assert _late_lesson_check(client, supervisor, "330106", end="20:40") == []
    assert _late_lesson_check(client, supervisor, "330102", end="20:40") == [
        "OFFLINE_ENDS_AFTER_2030"]
    shown = client.get("/api/v1/rules/OFFLINE_ENDS_AFTER_2030", headers=supervisor,
                       query_string={"region": "330102"})
    assert shown.json["params_in_region"]["latest_end"] == "20:00"


def test_an_override_can_switch_a_rule_off_in_a_region_and_be_removed(client, supervisor,
                                                                      admin):
    url = "/api/v1/rules/OFFLINE_ENDS_AFTER_2030"
    client.patch(url, headers=admin, json={"overrides": [
        {"region_code": "330106", "enabled": False}]})
    assert _late_lesson_check(client, supervisor, "330106", end="21:00") == []
    client.patch(url, headers=admin, json={"overrides": [
        {"region_code": "330106", "remove": True}]})
    assert _late_lesson_check(client, supervisor, "330106", end="21:00") == [
        "OFFLINE_ENDS_AFTER_2030"]


def test_custody_parameters_keep_working(app):
    assert catalogue.params("PREPAID_OVER_5000", "110105")["applies_to"] == "all"
    assert catalogue.params("PREPAID_OVER_5000", "330106")["applies_to"] == "non_subject"


def test_a_rule_change_marks_data_for_re_evaluation_and_a_rescan_catches_up(
        client, supervisor, admin, app, session):
    freeze(datetime(2026, 11, 23, 10, tzinfo=CST))
    inst = factories.institution()
    factories.licence(inst)
    course = factories.course(inst)
    client.post(f"/api/v1/courses/{course.id}/sessions", headers=supervisor, json={"sessions": [
        factories.session_at(date(2026, 12, 2), "19:30", "20:15")]})
    client.patch("/api/v1/rules/OFFLINE_ENDS_AFTER_2030", headers=admin, json={
        "params": {"latest_end": "20:00"}})
    session.expire_all()
    assert session.get(type(course), course.id).stale is True
    assert client.get("/api/v1/breaches", headers=supervisor).json["total"] == 0
    result = app.test_cli_runner().invoke(args=["rules", "rescan", "--stale-only"])
    assert result.exit_code == 0, result.output
    assert "1 institutions" in result.output and "1 opened" in result.output
    found = client.get("/api/v1/breaches", headers=supervisor).json["items"]
    assert [b["rule"] for b in found] == ["OFFLINE_ENDS_AFTER_2030"]
    session.expire_all()
    assert session.get(type(course), course.id).stale is False
