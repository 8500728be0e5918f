"""One error envelope: problem+json with a stable code, and never a 500 for client input."""

import pytest

from tests import factories

PROBLEM = "application/problem+json"


def assert_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM
    body = resp.json
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"] and body["type"]
    return body


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_unknown_institution_and_licence_ids_are_404_problems(client, supervisor):
    assert_problem(client.get("/api/v1/institutions/9999", headers=supervisor), 404, "not_found")
    assert_problem(client.get("/api/v1/licences/9999", headers=supervisor), 404, "not_found")
    resp = client.post("/api/v1/licences/9999/suspend", json={"reason": "x"}, headers=supervisor)
    assert_problem(resp, 404, "not_found")


def test_id_too_large_for_the_database_is_404_not_500(client, supervisor):
    resp = client.get(f"/api/v1/institutions/{10**30}", headers=supervisor)
    assert_problem(resp, 404, "not_found")


def test_wrong_method_is_405_problem_with_allow_header(client, supervisor):
    resp = client.delete("/api/v1/institutions", headers=supervisor)
    assert_problem(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]


def test_body_over_the_size_limit_is_413_problem(app, client, supervisor, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    resp = client.post("/api/v1/institutions", headers=supervisor,
                       json=factories.institution_data(address="路" * 2000))
    assert_problem(resp, 413, "payload_too_large")


def test_text_plain_body_is_415_problem(client, supervisor):
    resp = client.post("/api/v1/institutions", data="uscc=1", headers=supervisor,
                       content_type="text/plain")
    assert_problem(resp, 415, "unsupported_media_type")
    form = client.post("/api/v1/institutions", data={"uscc": "1"}, headers=supervisor)
    assert_problem(form, 415, "unsupported_media_type")


def test_json_with_charset_is_accepted(client, supervisor):
    import json

    resp = client.post("/api/v1/institutions", headers=supervisor,
                       data=json.dumps(factories.institution_data()),
                       content_type="application/json; charset=utf-8")
    assert resp.status_code == 201


@pytest.mark.parametrize("body", ["{nope", '{"name": "a",}', "\xff\xfe",
                                  "[" * 50_000, '{"n": 1' + "0" * 5000 + "}"])
def test_malformed_json_is_400_problem(client, supervisor, body):
    resp = client.post("/api/v1/institutions", data=body, headers=supervisor,
                       content_type="application/json")
    assert_problem(resp, 400, "malformed_json")


def test_validation_errors_name_each_field(client, supervisor):
    resp = client.post("/api/v1/institutions", json={"name": 5, "colour": "red"},
                       headers=supervisor)
    body = assert_problem(resp, 422, "validation_failed")
    assert {"name", "colour", "uscc", "region_code"} <= set(body["errors"])
    assert all(isinstance(m, list) and m for m in body["errors"].values())


# --- fuzz: odd JSON values at every field of every write; never a 500 ---

ODD_VALUES = [None, 0, -1, 1.5, 10**30, True, "", " ", "\u0000", "x" * 20_000, "😀" * 300,
              [], ["a"], {}, {"a": 1}, "9999-99-99", "2024-02-30", "<script>"]
ODD_BODIES = [None, [], [1, 2], "text", 42, True, {}]


def _assert_no_500(resp):
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    if resp.status_code >= 400:
        assert resp.mimetype == PROBLEM
        assert resp.json["code"]


def _variants(good: dict):
    for field in good:
        for odd in ODD_VALUES:
            yield good | {field: odd}
    yield good | {"unexpected_field": "x"}
    yield from ODD_BODIES


def test_odd_values_at_register_institution_never_500(client, admin):
    for body in _variants(factories.institution_data()):
        _assert_no_500(client.post("/api/v1/institutions", json=body, headers=admin))


def test_odd_values_at_patch_institution_never_500(client, admin):
    inst = factories.institution()
    good = {k: v for k, v in factories.institution_data().items() if k != "uscc"}
    for body in _variants(good):
        _assert_no_500(client.patch(f"/api/v1/institutions/{inst.id}", json=body,
                                    headers=admin))


def test_odd_values_at_licence_endpoints_never_500(client, admin):
    inst = factories.institution()
    lic = factories.licence(inst)
    good = {"number": "教民330106000001号", "issuer": "西湖区教育局", "issued_on": "2024-01-01",
            "expires_on": "2027-01-01", "delivery": "offline", "basis": "import"}
    for body in _variants(good):
        _assert_no_500(client.post(f"/api/v1/institutions/{inst.id}/licences", json=body,
                                   headers=admin))
    for action in ("suspend", "reinstate", "revoke"):
        for body in _variants({"reason": "检查发现问题"}):
            if action == "revoke" and body == {"reason": "检查发现问题"}:
                continue  # keep the licence alive for the other bodies
            _assert_no_500(client.post(f"/api/v1/licences/{lic.id}/{action}", json=body,
                                       headers=admin))
    for body in _variants({"expires_on": "2035-01-01", "reason": "续期"}):
        _assert_no_500(client.post(f"/api/v1/licences/{lic.id}/renew", json=body,
                                   headers=admin))


def test_odd_query_strings_never_500(client, admin):
    for query in ("page=0", "page=x", "per_page=201", "per_page=-1", "sort=password",
                  "q=%00", "region=abc", "status=gone", "category=", f"page={10**30}",
                  "q=" + "x" * 5000, "uscc=%00"):
        _assert_no_500(client.get(f"/api/v1/institutions?{query}", headers=admin))
        _assert_no_500(client.get(f"/api/v1/audit?{query}", headers=admin))
