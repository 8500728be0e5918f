from datetime import datetime

from registry import clock
from registry.lists import blacklist
from tests import factories

PUBLIC = "/api/v1/public/blacklist"


def at(day: str):
    clock.freeze(datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=clock.CST))


def test_unlicensed_operator_is_blacklisted_by_name_and_address(client, supervisor):
    resp = client.post("/api/v1/blacklist", headers=supervisor, json={
        "name": "某某家教工作室", "address": "杭州市西湖区某小区3幢", "region_code": "330106",
        "reason_code": "unlicensed_operation", "reason": "无证开展学科类培训"})
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["institution_id"] is None and body["active"] is True
    assert body["decided_by"] == "hz-supervisor"
    items = client.get(PUBLIC).json["items"]
    assert [(i["name"], i["reason_code"]) for i in items] == [
        ("某某家教工作室", "unlicensed_operation")]
    assert "evidence" not in items[0] and "decided_by" not in items[0]


def test_past_date_answers_from_history(client, supervisor):
    at("2026-04-01")
    inst = factories.institution(name="卷款机构")
    factories.licence(inst)
    entry = client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": inst.id, "reason_code": "fled_with_fees", "reason": "卷款跑路"}).json
    at("2026-04-10")
    assert client.post(f"/api/v1/blacklist/{entry['id']}/lift", headers=supervisor,
                       json={"reason": "已全额退费"}).status_code == 200

    def names(on=None):
        return [i["name"] for i in client.get(
            PUBLIC, query_string={"on": on} if on else {}).json["items"]]

    assert names("2026-03-31") == []
    assert names("2026-04-01") == ["卷款机构"]
    assert names("2026-04-09") == ["卷款机构"]
    assert names("2026-04-10") == []
    assert names() == []
    assert blacklist.entry_on(inst.id, datetime(2026, 4, 5, tzinfo=clock.CST)).id == entry["id"]


def test_evidence_must_exist_in_your_region(client, supervisor):
    inst = factories.institution()
    resp = client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": inst.id, "reason_code": "repeated_breaches", "reason": "屡查屡犯",
        "evidence": {"breach_ids": [999]}})
    assert resp.status_code == 422
    assert "evidence" in resp.json["errors"]


def test_blacklisting_twice_and_lifting_twice_are_409(client, supervisor):
    inst = factories.institution()
    body = {"institution_id": inst.id, "reason_code": "safety_hazard", "reason": "消防隐患"}
    first = client.post("/api/v1/blacklist", headers=supervisor, json=body)
    again = client.post("/api/v1/blacklist", headers=supervisor, json=body)
    assert again.status_code == 409 and again.json["code"] == "already_blacklisted"
    url = f"/api/v1/blacklist/{first.json['id']}/lift"
    assert client.post(url, headers=supervisor, json={"reason": "已整改"}).status_code == 200
    twice = client.post(url, headers=supervisor, json={"reason": "再次"})
    assert twice.status_code == 409 and twice.json["code"] == "already_lifted"


def test_institution_outside_the_region_is_403(client, supervisor):
    inst = factories.institution(region_code="330203")  # Ningbo
    resp = client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": inst.id, "reason_code": "other", "reason": "其他"})
    assert resp.status_code == 403


def test_neither_institution_nor_operator_is_422(client, supervisor):
    resp = client.post("/api/v1/blacklist", headers=supervisor,
                       json={"reason_code": "other", "reason": "其他"})
    assert resp.status_code == 422
    assert "institution_id" in resp.json["errors"]


def test_published_text_with_a_phone_number_is_refused(client, supervisor):
    resp = client.post("/api/v1/blacklist", headers=supervisor, json={
        "name": "某工作室", "address": "某路1号", "reason_code": "other",
        "reason": "负责人电话13912345678"})
    assert resp.status_code == 422
    assert list(resp.json["errors"]) == ["reason"]


def test_public_blacklist_needs_no_token_and_lifting_needs_one(client):
    assert client.get(PUBLIC).status_code == 200
    assert client.post("/api/v1/blacklist/1/lift", json={"reason": "x"}).status_code == 401


def test_blacklisting_is_audited(client, supervisor, admin):
    inst = factories.institution()
    entry = client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": inst.id, "reason_code": "other", "reason": "其他"}).json
    events = client.get("/api/v1/audit", query_string={"entity_type": "blacklist_entry",
                                                      "entity_id": entry["id"]},
                        headers=admin).json["items"]
    assert [e["action"] for e in events] == ["blacklist.add"]


def test_is_blacklisted_follows_the_entry_and_its_lift(app):
    from registry import access, audit
    from registry.db import db

    inst = factories.institution()
    assert not blacklist.is_blacklisted(inst.id)
    with audit.acting_as(access.SYSTEM):
        entry = blacklist.add(access.SYSTEM, {"institution_id": inst.id, "reason_code": "other",
                                              "reason": "其他"})
        assert blacklist.is_blacklisted(inst.id)
        blacklist.lift(access.SYSTEM, entry, "已整改")
        db.session.commit()
    assert not blacklist.is_blacklisted(inst.id)
