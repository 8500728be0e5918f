import sqlalchemy as sa

from registry.complaints.models import Complaint
from registry.complaints.services import mask_contact
from tests import factories

FILE = "/api/v1/public/complaints"


def complaint(**overrides):
    body = {"institution_name": "某培训班", "category": "fees",
            "description": "一次性收取一年学费，拒绝退费。", "region_code": "330106"}
    return body | overrides


def post(client, body, addr="10.0.0.1"):
    return client.post(FILE, json=body, environ_base={"REMOTE_ADDR": addr})


def test_filing_returns_202_with_a_reference_and_no_token_is_needed(client, session):
    inst = factories.institution()
    resp = post(client, complaint(uscc=inst.uscc, contact="13812345678"))
    assert resp.status_code == 202, resp.json
    assert resp.json["reference"].startswith("TS")
    assert set(resp.json) == {"reference", "status", "received_at"}
    row = session.scalar(sa.select(Complaint))
    assert row.institution_id == inst.id and row.region_code == inst.region_code
    assert "13812345678" not in row.contact_enc  # encrypted at rest


def test_supervisor_sees_complaints_in_region_with_contact_masked(client, supervisor):
    post(client, complaint(contact="13812345678"))
    post(client, complaint(region_code="330203"))  # Ningbo: not this supervisor's
    items = client.get("/api/v1/complaints", headers=supervisor).json["items"]
    assert len(items) == 1
    assert items[0]["contact"] == "138****5678"


def test_triage_links_breaches_and_a_blacklist_decision(client, supervisor):
    inst = factories.institution()
    post(client, complaint(uscc=inst.uscc))
    cid = client.get("/api/v1/complaints", headers=supervisor).json["items"][0]["id"]
    entry = client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": inst.id, "reason_code": "illegal_fee_collection", "reason": "违规收费",
        "evidence": {"complaint_ids": [cid]}})
    assert entry.status_code == 201, entry.json
    assert entry.json["evidence"]["complaint_ids"] == [cid]
    resp = client.patch(f"/api/v1/complaints/{cid}", headers=supervisor, json={
        "status": "substantiated", "note": "查实", "blacklist_entry_id": entry.json["id"]})
    assert resp.status_code == 200, resp.json
    assert resp.json["blacklist_entry_id"] == entry.json["id"]
    assert resp.headers["ETag"]
    bad = client.patch(f"/api/v1/complaints/{cid}", headers=supervisor,
                       json={"breach_ids": [12345]})
    assert bad.status_code == 422 and "breach_ids" in bad.json["errors"]


def test_a_complaint_outside_the_region_is_403(client, supervisor):
    post(client, complaint(region_code="330203"))
    cid = client.get("/api/v1/complaints", headers=factories.auth(
        factories.token("admin"))).json["items"][0]["id"]
    assert client.get(f"/api/v1/complaints/{cid}", headers=supervisor).status_code == 403


def test_too_many_complaints_from_one_address_is_429_problem(client, app):
    limit = int(app.config["COMPLAINT_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert post(client, complaint(), addr="10.9.9.9").status_code == 202
    resp = post(client, complaint(), addr="10.9.9.9")
    assert resp.status_code == 429
    assert resp.mimetype == "application/problem+json"
    assert resp.json["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) > 0
    assert post(client, complaint(), addr="10.9.9.10").status_code == 202


def test_an_oversized_body_is_413_problem(client):
    resp = post(client, complaint(description="投诉" * 20_000))
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"


def test_missing_institution_and_bad_category_are_422(client):
    resp = post(client, {"category": "nope", "description": "说明情况如下"})
    assert resp.status_code == 422
    assert {"uscc", "category"} <= set(resp.json["errors"])


def test_contacts_are_masked_by_kind():
    assert mask_contact("13812345678") == "138****5678"
    assert mask_contact("parent@example.com") == "p***@example.com"
    assert mask_contact("微信abc") == "微****"
    assert mask_contact(None) is None
