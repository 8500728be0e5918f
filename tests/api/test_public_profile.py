from registry.lists import whitelist
from tests import factories


def test_profile_shows_licence_list_status_and_nothing_else(client):
    inst = factories.institution(name="西湖少儿编程", region_code="330106")
    lic = factories.licence(inst)
    resp = client.get(f"/api/v1/public/institutions/{inst.uscc}")
    assert resp.status_code == 200
    body = resp.json
    assert body["name"] == "西湖少儿编程" and body["region_name"] == "浙江省杭州市西湖区"
    assert body["list_status"] == "whitelisted" and body["whitelisted"] is True
    assert body["listed_since"] is not None
    assert [(x["number"], x["status"]) for x in body["licences"]] == [(lic.number, "active")]
    assert body["teachers"] == [] and body["courses"] == [] and body["custody"] is None
    assert set(body) == {
        "uscc", "name", "category", "non_subject_type", "region_code", "region_name", "address",
        "delivery", "status", "list_status", "whitelisted", "listed_since", "blacklist",
        "licences", "teachers", "courses", "custody", "custody_accounts"}
    assert resp.headers["Cache-Control"] == "public, max-age=60" and resp.headers["ETag"]


def test_unlicensed_institution_is_not_listed(client):
    inst = factories.institution()
    body = client.get(f"/api/v1/public/institutions/{inst.uscc}").json
    assert body["list_status"] == "not_listed" and body["listed_since"] is None
    assert not whitelist.is_listed(inst.id)


def test_unknown_uscc_is_404_problem(client):
    resp = client.get("/api/v1/public/institutions/91330106MA2XXXXXXX")
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"


def test_public_endpoints_are_documented_without_security(client):
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/public/whitelist", "/api/v1/public/blacklist",
                 "/api/v1/public/institutions/{uscc}"):
        assert "security" not in spec["paths"][path]["get"]
    assert "post" in spec["paths"]["/api/v1/public/complaints"]
    assert "security" in spec["paths"]["/api/v1/blacklist"]["post"]
