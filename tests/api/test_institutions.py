from tests import factories
from tests.factories import auth, institution_data


def test_register_and_get_institution(client, supervisor):
    data = institution_data(name="  西湖书画培训学校  ")
    resp = client.post("/api/v1/institutions", json=data, headers=supervisor)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["name"] == "西湖书画培训学校"
    assert body["status"] == "active"
    assert resp.headers["ETag"]
    got = client.get(f"/api/v1/institutions/{body['id']}", headers=supervisor)
    assert got.status_code == 200
    assert got.json["uscc"] == data["uscc"]
    assert got.headers["ETag"] == resp.headers["ETag"]


def test_bad_uscc_is_422_naming_the_field(client, supervisor):
    data = institution_data()
    data["uscc"] = data["uscc"][:-1] + ("0" if data["uscc"][-1] != "0" else "1")
    resp = client.post("/api/v1/institutions", json=data, headers=supervisor)
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    assert "uscc" in resp.json["errors"]
    assert "check character" in resp.json["errors"]["uscc"][0]


def test_unknown_region_is_422_naming_the_field(client, admin):
    resp = client.post("/api/v1/institutions", json=institution_data(region_code="339999"),
                       headers=admin)
    assert resp.status_code == 422
    assert list(resp.json["errors"]) == ["region_code"]


def test_duplicate_uscc_is_409(client, supervisor):
    data = institution_data()
    assert client.post("/api/v1/institutions", json=data, headers=supervisor).status_code == 201
    again = client.post("/api/v1/institutions", json=data | {"name": "别的名字"},
                        headers=supervisor)
    assert again.status_code == 409
    assert again.json["code"] == "duplicate_uscc"


def test_stale_etag_is_412_and_fresh_one_applies(client, supervisor):
    created = client.post("/api/v1/institutions", json=institution_data(), headers=supervisor)
    url, etag = f"/api/v1/institutions/{created.json['id']}", created.headers["ETag"]
    first = client.patch(url, json={"address": "新地址1号"},
                         headers=supervisor | {"If-Match": etag})
    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    stale = client.patch(url, json={"address": "新地址2号"},
                         headers=supervisor | {"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json["code"] == "stale_etag"
    assert client.get(url, headers=supervisor).json["address"] == "新地址1号"


def test_list_pages_filters_and_sorts(client, supervisor):
    for i in range(5):
        factories.institution(name=f"琴行{i}", region_code="330106")
    factories.institution(name="宁波琴行", region_code="330203")  # outside Hangzhou
    resp = client.get("/api/v1/institutions?q=琴行&per_page=2&sort=-name", headers=supervisor)
    assert resp.status_code == 200
    assert resp.json["total"] == 5
    assert [i["name"] for i in resp.json["items"]] == ["琴行4", "琴行3"]


def test_no_token_is_401_and_bank_is_403(client, app):
    assert client.get("/api/v1/institutions").status_code == 401
    bank = auth(factories.token("bank", bank="ICBC"))
    resp = client.get("/api/v1/institutions", headers=bank)
    assert resp.status_code == 403
    assert client.get("/api/v1/institutions", headers=auth("nope")).status_code == 401


def test_supervisor_outside_region_is_403(client, app):
    inst = factories.institution(region_code="330203")
    hz = auth(factories.token("supervisor", region="330100"))
    assert client.get(f"/api/v1/institutions/{inst.id}", headers=hz).status_code == 403
    zj = auth(factories.token("supervisor", region="330000"))
    assert client.get(f"/api/v1/institutions/{inst.id}", headers=zj).status_code == 200


def test_malformed_json_is_400_problem(client, supervisor):
    resp = client.post("/api/v1/institutions", data="{nope", headers=supervisor,
                       content_type="application/json")
    assert resp.status_code == 400
    assert resp.json["code"] == "malformed_json"
