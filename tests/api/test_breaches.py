"""Breaches: one rule on one thing is one breach; listed with filters and pages; a lifecycle
open -> confirmed or dismissed -> resolved, each change with its note."""

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from registry import clock
from registry.rules import breaches, engine
from registry.rules.models import Breach
from tests import factories

SCHOOL_DAY = date(2026, 12, 2)


@pytest.fixture(autouse=True)
def frozen(app):
    clock.freeze(datetime(2026, 11, 23, 10, tzinfo=clock.CST))


def _late_sessions(client, headers, inst, n=3):
    course = factories.course(inst)
    batch = [factories.session_at(SCHOOL_DAY, "20:00", "20:45") for _ in range(n)]
    resp = client.post(f"/api/v1/courses/{course.id}/sessions", headers=headers,
                       json={"sessions": batch})
    assert resp.status_code == 201
    return course, resp.json["breaches"]


def test_a_breach_is_confirmed_then_resolved_with_notes_in_its_history(client, supervisor):
    inst = factories.institution()
    factories.licence(inst)
    _, found = _late_sessions(client, supervisor, inst, n=1)
    url = f"/api/v1/breaches/{found[0]['id']}"
    first = client.get(url, headers=supervisor)
    assert first.json["status"] == "open" and first.json["history"] == []
    confirmed = client.patch(url, headers=supervisor | {"If-Match": first.headers["ETag"]},
                             json={"status": "confirmed", "note": "已电话核实"})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    stale = client.patch(url, headers=supervisor | {"If-Match": first.headers["ETag"]},
                         json={"status": "resolved", "note": "整改"})
    assert stale.status_code == 412
    resolved = client.patch(url, headers=supervisor, json={"status": "resolved",
                                                          "note": "机构已调整课表"})
    assert [(h["from_status"], h["to_status"], h["note"]) for h in resolved.json["history"]] == [
        ("open", "confirmed", "已电话核实"), ("confirmed", "resolved", "机构已调整课表")]
    assert resolved.json["history"][0]["actor"] == "hz-supervisor"


def test_an_illegal_status_change_is_a_conflict_and_a_note_is_required(client, supervisor):
    inst = factories.institution()
    factories.licence(inst)
    _, found = _late_sessions(client, supervisor, inst, n=1)
    url = f"/api/v1/breaches/{found[0]['id']}"
    assert client.patch(url, headers=supervisor, json={"status": "dismissed"}).status_code == 422
    client.patch(url, headers=supervisor, json={"status": "dismissed", "note": "误报"})
    resp = client.patch(url, headers=supervisor, json={"status": "confirmed", "note": "x"})
    assert resp.status_code == 409 and resp.json["code"] == "illegal_transition"
    assert resp.json["allowed"] == ["resolved", "open"]
    again = client.patch(url, headers=supervisor, json={"status": "dismissed", "note": "x"})
    assert again.status_code == 409


def test_one_rule_on_one_session_is_one_breach_however_often_it_is_judged(client, supervisor,
                                                                         session):
    inst = factories.institution()
    factories.licence(inst)
    _late_sessions(client, supervisor, inst, n=2)
    engine.rescan()
    engine.rescan()
    engine.check_institution(inst.id)
    assert session.scalar(sa.select(sa.func.count()).select_from(Breach)) == 2


def test_a_dismissed_breach_stays_dismissed_on_rescan(client, supervisor, session):
    inst = factories.institution()
    factories.licence(inst)
    _, found = _late_sessions(client, supervisor, inst, n=1)
    client.patch(f"/api/v1/breaches/{found[0]['id']}", headers=supervisor,
                 json={"status": "dismissed", "note": "经核实为录入错误"})
    engine.rescan()
    assert session.get(Breach, found[0]["id"]).status == "dismissed"


def test_breaches_are_listed_with_filters_and_pages_within_the_region(client, supervisor,
                                                                     admin):
    xihu = factories.institution()
    factories.licence(xihu)
    beijing = factories.institution(region_code="110101")
    factories.licence(beijing)
    _late_sessions(client, supervisor, xihu, n=3)
    _late_sessions(client, admin, beijing, n=2)
    everyone = client.get("/api/v1/breaches", headers=admin).json
    assert everyone["total"] == 5
    mine = client.get("/api/v1/breaches", headers=supervisor,
                      query_string={"per_page": 2, "page": 2}).json
    assert mine["total"] == 3 and len(mine["items"]) == 1 and mine["page"] == 2
    assert all(b["institution_id"] == xihu.id for b in mine["items"])
    by_inst = client.get("/api/v1/breaches", headers=admin,
                         query_string={"institution_id": beijing.id,
                                       "rule": "OFFLINE_ENDS_AFTER_2030", "status": "open"}).json
    assert by_inst["total"] == 2
    other = by_inst["items"][0]["id"]
    assert client.get(f"/api/v1/breaches/{other}", headers=supervisor).status_code == 403
    assert client.get("/api/v1/breaches", headers=supervisor,
                      query_string={"status": "bogus"}).status_code == 422


def test_custody_records_breaches_through_the_same_table(app, session):
    inst = factories.institution()
    first = breaches.record("PREPAID_OVER_5000", "一次性收费超过5000元", "PREPAID_OVER_5000:x1",
                            institution_id=inst.id, region_code=inst.region_code, account_id=1)
    again = breaches.record("PREPAID_OVER_5000", "一次性收费超过5000元", "PREPAID_OVER_5000:x1",
                            institution_id=inst.id, region_code=inst.region_code, account_id=1)
    assert first.id == again.id and first.severity == "high"
    engine.check_institution(inst.id)  # the rule engine leaves custody's breaches alone
    assert session.get(Breach, first.id).status == "open"
