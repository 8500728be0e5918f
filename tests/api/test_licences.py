"""Licences: the lifecycle state machine, expiry, renewal and the no-new-approvals policy."""

from datetime import UTC, date, datetime, timedelta

import pytest

from registry import access, audit, clock
from registry.db import db
from registry.institutions import licences as service
from tests import factories
from tests.factories import auth

TODAY = date(2026, 3, 10)


@pytest.fixture
def frozen():
    """A fixed 'today' (10:00 China Standard Time), so dates in assertions are exact."""
    clock.freeze(datetime(2026, 3, 10, 10, 0))
    return TODAY


def licence_body(**overrides) -> dict:
    body = {"number": "教民13301060000001号", "issuer": "杭州市西湖区教育局",
            "issued_on": "2025-01-01", "expires_on": "2028-01-01", "delivery": "offline",
            "basis": "new"}
    return body | overrides


def issue(client, headers, inst, **overrides):
    return client.post(f"/api/v1/institutions/{inst.id}/licences", json=licence_body(**overrides),
                       headers=headers)


def licence_in(state: str):
    """A licence in the given status: active, suspended, revoked or expired."""
    inst = factories.institution()
    if state == "expired":
        return factories.licence(inst, issued_on=TODAY - timedelta(days=800),
                                 expires_on=TODAY - timedelta(days=1))
    lic = factories.licence(inst)
    with audit.acting_as(access.SYSTEM):
        if state in ("suspended", "revoked"):
            service.transition(lic, "suspend", "setup")
        if state == "revoked":
            service.transition(lic, "revoke", "setup")
        db.session.commit()
    return lic


# --- issuing ---

def test_issued_licence_is_active_with_history_and_etag(client, supervisor, frozen):
    inst = factories.institution(category="non_subject", audiences=["primary"])
    resp = issue(client, supervisor, inst)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["status"] == "active"
    assert body["number"] == "教民13301060000001号"
    assert resp.headers["ETag"]
    assert [(h["action"], h["to_state"], h["actor"]) for h in body["history"]] == [
        ("issue", "active", "hz-supervisor")]
    got = client.get(f"/api/v1/licences/{body['id']}", headers=supervisor)
    assert got.status_code == 200
    assert got.json == body
    listed = client.get(f"/api/v1/institutions/{inst.id}", headers=supervisor).json["licences"]
    assert [lic["id"] for lic in listed] == [body["id"]]


def test_duplicate_licence_number_is_409_even_with_spaces_and_for_another_institution(
        client, supervisor, frozen):
    first, second = factories.institution(), factories.institution()
    assert issue(client, supervisor, first, basis="import").status_code == 201
    again = issue(client, supervisor, second, basis="import",
                  number="  教民13301060000001号 ")
    assert again.status_code == 409
    assert again.json["code"] == "duplicate_licence"
    assert "number" in again.json["errors"]


def test_expiry_before_issue_is_422_naming_expires_on(client, supervisor, frozen):
    resp = issue(client, supervisor, factories.institution(), basis="import",
                 issued_on="2025-01-01", expires_on="2024-12-31")
    assert resp.status_code == 422
    assert list(resp.json["errors"]) == ["expires_on"]


# --- the no-new-approvals policy ---

@pytest.mark.parametrize("category, audiences", [
    ("subject", ["primary"]),
    ("subject", ["junior"]),
    ("subject", ["primary", "junior"]),
    ("subject", ["senior"]),
    ("subject", ["preschool"]),
    ("non_subject", ["preschool"]),
    ("non_subject", ["preschool", "primary"]),
])
def test_new_licence_is_refused_where_no_new_approvals_applies(client, supervisor, frozen,
                                                              category, audiences):
    inst = factories.institution(category=category, audiences=audiences,
                                 non_subject_type="sports" if category == "non_subject" else None)
    resp = issue(client, supervisor, inst, basis="new")
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    assert resp.json["code"] == "no_new_approvals"
    assert resp.json["detail"].startswith("自2021年起不再审批")
    assert client.get(f"/api/v1/institutions/{inst.id}", headers=supervisor).json["licences"] == []


@pytest.mark.parametrize("audiences", [["primary"], ["junior"], ["senior"], ["primary", "senior"]])
def test_new_licence_for_non_subject_school_age_institution_is_allowed(client, supervisor,
                                                                       frozen, audiences):
    inst = factories.institution(category="non_subject", non_subject_type="arts",
                                 audiences=audiences)
    assert issue(client, supervisor, inst, basis="new").status_code == 201


@pytest.mark.parametrize("basis", ["renewal", "conversion", "import"])
@pytest.mark.parametrize("category, audiences", [("subject", ["primary", "junior"]),
                                                 ("non_subject", ["preschool"]),
                                                 ("subject", ["senior"])])
def test_renewal_conversion_and_import_pass_where_new_is_refused(client, supervisor, frozen,
                                                                  basis, category, audiences):
    inst = factories.institution(category=category, audiences=audiences,
                                 non_subject_type="sports" if category == "non_subject" else None)
    resp = issue(client, supervisor, inst, basis=basis)
    assert resp.status_code == 201, resp.json
    assert resp.json["basis"] == basis


# --- the state machine ---

# (status before, action) -> status after, or None when the transition is refused with 409
TABLE = {
    ("active", "suspend"): "suspended", ("active", "reinstate"): None,
    ("active", "revoke"): "revoked", ("active", "renew"): "active",
    ("suspended", "suspend"): None, ("suspended", "reinstate"): "active",
    ("suspended", "revoke"): "revoked", ("suspended", "renew"): "suspended",
    ("revoked", "suspend"): None, ("revoked", "reinstate"): None,
    ("revoked", "revoke"): None, ("revoked", "renew"): None,
    ("expired", "suspend"): None, ("expired", "reinstate"): None,
    ("expired", "revoke"): "revoked", ("expired", "renew"): "active",
}


@pytest.mark.parametrize("start, action", sorted(TABLE))
def test_every_transition_is_allowed_or_refused_with_409(client, supervisor, frozen,
                                                         start, action):
    lic = licence_in(start)
    before = client.get(f"/api/v1/licences/{lic.id}", headers=supervisor).json
    assert before["status"] == start
    body = {"reason": "检查发现问题"} if action != "renew" else {"expires_on": "2031-01-01"}
    resp = client.post(f"/api/v1/licences/{lic.id}/{action}", json=body, headers=supervisor)
    after = client.get(f"/api/v1/licences/{lic.id}", headers=supervisor).json
    expected = TABLE[(start, action)]
    if expected is None:
        assert resp.status_code == 409, resp.json
        assert resp.json["code"] == "illegal_transition"
        assert after == before
    else:
        assert resp.status_code == 200, resp.json
        assert resp.json["status"] == after["status"] == expected
        assert len(after["history"]) == len(before["history"]) + 1
        last = after["history"][-1]
        assert (last["action"], last["actor"]) == (action, "hz-supervisor")


def test_each_transition_keeps_its_reason_in_history_and_audit(client, supervisor, admin,
                                                               frozen):
    lic = licence_in("active")
    url = f"/api/v1/licences/{lic.id}"
    for action, reason in (("suspend", "消防检查不合格"), ("reinstate", "整改完成"),
                           ("revoke", "违规开展学科类培训")):
        resp = client.post(f"{url}/{action}", json={"reason": reason}, headers=supervisor)
        assert resp.status_code == 200
    history = client.get(url, headers=supervisor).json["history"]
    assert [(h["action"], h["from_state"], h["to_state"], h["reason"]) for h in history] == [
        ("issue", None, "active", None),
        ("suspend", "active", "suspended", "消防检查不合格"),
        ("reinstate", "suspended", "active", "整改完成"),
        ("revoke", "active", "revoked", "违规开展学科类培训"),
    ]
    events = client.get(f"/api/v1/audit?entity_type=licence&entity_id={lic.id}",
                        headers=admin).json["items"]
    assert [e["action"] for e in events] == ["licence.revoke", "licence.reinstate",
                                             "licence.suspend", "licence.issue"]
    revoke = events[0]
    assert (revoke["actor_name"], revoke["actor_role"]) == ("hz-supervisor", "supervisor")
    assert revoke["before"]["state"] == "active"
    assert revoke["after"]["state"] == "revoked"
    assert revoke["after"]["reason"] == "违规开展学科类培训"


def test_a_transition_needs_a_reason(client, supervisor, frozen):
    lic = licence_in("active")
    for body in ({}, {"reason": ""}):
        resp = client.post(f"/api/v1/licences/{lic.id}/suspend", json=body, headers=supervisor)
        assert resp.status_code == 422
        assert "reason" in resp.json["errors"]


def test_revoked_is_final(client, supervisor, frozen):
    lic = licence_in("revoked")
    for action in ("suspend", "reinstate", "revoke"):
        resp = client.post(f"/api/v1/licences/{lic.id}/{action}", json={"reason": "x"},
                           headers=supervisor)
        assert resp.status_code == 409
    renew = client.post(f"/api/v1/licences/{lic.id}/renew", json={"term_months": 12},
                        headers=supervisor)
    assert renew.status_code == 409
    assert client.get(f"/api/v1/licences/{lic.id}", headers=supervisor).json["status"] == "revoked"


# --- expiry, judged on today's date in Asia/Shanghai ---

def test_expiry_is_computed_from_the_date_in_china_standard_time(client, supervisor):
    clock.freeze(datetime(2026, 6, 30, 12, 0))
    lic = factories.licence(factories.institution(), expires_on=date(2026, 6, 30))
    url = f"/api/v1/licences/{lic.id}"
    clock.freeze(datetime(2026, 6, 30, 23, 59, tzinfo=clock.CST))
    assert client.get(url, headers=supervisor).json["status"] == "active"
    # 16:00 UTC on the 30th is already 00:00 on 1 July in Beijing
    clock.freeze(datetime(2026, 6, 30, 16, 0, tzinfo=UTC))
    assert client.get(url, headers=supervisor).json["status"] == "expired"


def test_suspended_licence_past_its_date_is_expired_and_revoked_stays_revoked(client, supervisor,
                                                                              frozen):
    suspended, revoked = licence_in("suspended"), licence_in("revoked")
    clock.freeze(datetime(2029, 1, 1, 10, 0))  # both expire 2028-03-09
    assert client.get(f"/api/v1/licences/{suspended.id}",
                      headers=supervisor).json["status"] == "expired"
    assert client.get(f"/api/v1/licences/{revoked.id}",
                      headers=supervisor).json["status"] == "revoked"


# --- renewal from the later of today and the old expiry ---

def test_renewal_of_a_running_licence_extends_from_the_old_expiry(client, supervisor, frozen):
    inst = factories.institution()
    lic = factories.licence(inst, expires_on=TODAY + timedelta(days=100))  # 2026-06-18
    url = f"/api/v1/licences/{lic.id}/renew"
    resp = client.post(url, json={"term_months": 12, "reason": "到期续期"}, headers=supervisor)
    assert resp.status_code == 200, resp.json
    assert resp.json["expires_on"] == "2027-06-18"
    assert resp.json["history"][-1]["expires_on"] == "2027-06-18"
    assert resp.json["history"][-1]["reason"] == "到期续期"
    short = client.post(url, json={"expires_on": "2027-06-18"}, headers=supervisor)
    assert short.status_code == 422
    assert list(short.json["errors"]) == ["expires_on"]
    assert client.post(url, json={"expires_on": "2027-06-19"},
                       headers=supervisor).json["expires_on"] == "2027-06-19"


def test_renewal_of_an_expired_licence_runs_from_today_not_the_old_date(client, supervisor,
                                                                        frozen):
    lic = licence_in("expired")  # expired 2026-03-09
    url = f"/api/v1/licences/{lic.id}/renew"
    from_old_date = client.post(url, json={"expires_on": "2026-03-10"}, headers=supervisor)
    assert from_old_date.status_code == 422
    assert "2026-03-10" in from_old_date.json["errors"]["expires_on"][0]
    resp = client.post(url, json={"term_months": 36}, headers=supervisor)
    assert resp.status_code == 200
    assert resp.json["expires_on"] == "2029-03-10"
    assert resp.json["status"] == "active"


def test_renewal_by_months_keeps_to_the_end_of_a_short_month(client, supervisor):
    clock.freeze(datetime(2026, 1, 5, 9, 0))
    lic = factories.licence(factories.institution(), expires_on=date(2026, 1, 31))
    resp = client.post(f"/api/v1/licences/{lic.id}/renew", json={"term_months": 1},
                       headers=supervisor)
    assert resp.json["expires_on"] == "2026-02-28"


@pytest.mark.parametrize("body", [{}, {"expires_on": "2030-01-01", "term_months": 12},
                                  {"term_months": 0}, {"term_months": 601}])
def test_renewal_needs_exactly_one_of_date_or_term(client, supervisor, frozen, body):
    lic = licence_in("active")
    resp = client.post(f"/api/v1/licences/{lic.id}/renew", json=body, headers=supervisor)
    assert resp.status_code == 422
    assert resp.json["errors"]


# --- listing ---

def test_licences_list_by_institution_and_status_within_the_region(client, supervisor, frozen):
    hz = factories.institution()
    active, suspended = factories.licence(hz), licence_in("suspended")
    expired = factories.licence(hz, issued_on=date(2020, 1, 1), expires_on=date(2023, 1, 1))
    factories.licence(factories.institution(region_code="330203"))  # Ningbo, out of scope
    everything = client.get("/api/v1/licences?per_page=2", headers=supervisor).json
    assert everything["total"] == 3
    assert len(everything["items"]) == 2
    mine = client.get(f"/api/v1/licences?institution_id={hz.id}", headers=supervisor).json
    assert [i["id"] for i in mine["items"]] == [active.id, expired.id]
    for status, lic in (("expired", expired), ("suspended", suspended), ("active", active)):
        page = client.get(f"/api/v1/licences?status={status}", headers=supervisor).json
        assert [i["id"] for i in page["items"]] == [lic.id]


# --- who may ---

def test_licences_need_a_token_and_the_supervisor_role(client, app, frozen):
    lic = licence_in("active")
    for method, url, body in (("get", f"/api/v1/licences/{lic.id}", None),
                              ("get", "/api/v1/licences", None),
                              ("post", f"/api/v1/licences/{lic.id}/suspend", {"reason": "x"}),
                              ("post", f"/api/v1/institutions/{lic.institution_id}/licences",
                               licence_body(number="N-2"))):
        assert getattr(client, method)(url, json=body).status_code == 401
        bank = auth(factories.token("bank", bank="ICBC"))
        resp = getattr(client, method)(url, json=body, headers=bank)
        assert resp.status_code == 403
        assert resp.json["code"] == "role_forbidden"


@pytest.mark.parametrize("region, allowed", [("330100", True), ("330000", True),
                                             ("330106", True), ("330102", False),
                                             ("330200", False), ("110000", False)])
def test_supervisor_acts_on_licences_only_in_its_region(client, app, frozen, region, allowed):
    lic = licence_in("active")  # an institution in 330106 (Xihu, Hangzhou)
    who = auth(factories.token("supervisor", region=region))
    got = client.get(f"/api/v1/licences/{lic.id}", headers=who)
    suspend = client.post(f"/api/v1/licences/{lic.id}/suspend", json={"reason": "x"}, headers=who)
    new = issue(client, who, lic.institution, number="N-3", basis="import")
    listed = client.get("/api/v1/licences", headers=who).json["total"]
    if allowed:
        assert (got.status_code, suspend.status_code, new.status_code) == (200, 200, 201)
        assert listed == 2
    else:
        assert (got.status_code, suspend.status_code, new.status_code) == (403, 403, 403)
        assert got.json["code"] == "out_of_scope"
        assert listed == 0


def test_licence_writes_honour_if_match(client, supervisor, frozen):
    lic = licence_in("active")
    url = f"/api/v1/licences/{lic.id}"
    etag = client.get(url, headers=supervisor).headers["ETag"]
    first = client.post(f"{url}/suspend", json={"reason": "检查"},
                        headers=supervisor | {"If-Match": etag})
    assert first.status_code == 200
    stale = client.post(f"{url}/reinstate", json={"reason": "整改完成"},
                        headers=supervisor | {"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json["code"] == "stale_etag"
    fresh = client.post(f"{url}/reinstate", json={"reason": "整改完成"},
                        headers=supervisor | {"If-Match": first.headers["ETag"]})
    assert fresh.status_code == 200
