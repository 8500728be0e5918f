from datetime import date, datetime

from registry import clock
from registry.lists import whitelist
from tests import factories

LISTED = "/api/v1/public/whitelist"


def at(day: str, hour: int = 10):
    clock.freeze(datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=clock.CST))


def listed_names(client, **params):
    resp = client.get(LISTED, query_string=params)
    assert resp.status_code == 200, resp.json
    return [i["name"] for i in resp.json["items"]]


def test_each_change_moves_the_institution_and_history_answers_for_past_dates(
        client, supervisor):
    at("2026-03-02")
    inst = factories.institution(name="西湖美术培训学校")
    lic = factories.licence(inst, issued_on=date(2025, 3, 1), expires_on=date(2026, 3, 10))
    assert listed_names(client) == ["西湖美术培训学校"]

    at("2026-03-03")
    assert client.post(f"/api/v1/licences/{lic.id}/suspend", json={"reason": "整改"},
                       headers=supervisor).status_code == 200
    assert listed_names(client) == []

    at("2026-03-04")
    client.post(f"/api/v1/licences/{lic.id}/reinstate", json={"reason": "整改完成"},
                headers=supervisor)
    assert listed_names(client) == ["西湖美术培训学校"]

    at("2026-03-05")
    entry = client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": inst.id, "reason_code": "illegal_fee_collection",
        "reason": "超期收费", "evidence": {"documents": ["杭西教罚〔2026〕3号"]}})
    assert entry.status_code == 201, entry.json
    assert listed_names(client) == []

    at("2026-03-06")
    lifted = client.post(f"/api/v1/blacklist/{entry.json['id']}/lift",
                         json={"reason": "已退费整改"}, headers=supervisor)
    assert lifted.status_code == 200, lifted.json
    assert listed_names(client) == ["西湖美术培训学校"]

    at("2026-03-07")
    client.patch(f"/api/v1/institutions/{inst.id}", json={"status": "suspended"},
                 headers=supervisor)
    assert listed_names(client) == []
    at("2026-03-08")
    client.patch(f"/api/v1/institutions/{inst.id}", json={"status": "active"},
                 headers=supervisor)
    assert listed_names(client) == ["西湖美术培训学校"]

    at("2026-03-11", hour=9)  # the licence ran out at midnight; cron has not run yet
    assert listed_names(client) == []
    assert whitelist.refresh() == {"checked": 1, "listed_before": 0, "listed_after": 0}
    assert whitelist.refresh()["checked"] == 0  # idempotent

    history = {d: whitelist.is_listed(inst.id, on=date(2026, 3, d)) for d in range(1, 12)}
    assert history == {1: False, 2: True, 3: False, 4: True, 5: False, 6: True, 7: False,
                       8: True, 9: True, 10: True, 11: False}


def test_refresh_closes_an_expired_licence_at_the_midnight_it_ran_out(app, session):
    at("2026-05-01")
    inst = factories.institution()
    factories.licence(inst, issued_on=date(2025, 5, 1), expires_on=date(2026, 5, 10))
    at("2026-05-20")  # cron was down for ten days
    whitelist.refresh()
    interval = whitelist.open_interval(inst.id)
    assert interval is None
    closed = session.scalars(whitelist.sa.select(whitelist.WhitelistInterval)).one()
    assert closed.listed_until == datetime(2026, 5, 11, tzinfo=clock.CST)
    assert closed.closed_by == "licence_expired"


def test_a_licence_whose_term_starts_later_is_listed_by_refresh(app):
    at("2026-06-01")
    inst = factories.institution()
    factories.licence(inst, issued_on=date(2026, 6, 5), expires_on=date(2028, 6, 4))
    assert not whitelist.is_listed(inst.id)
    at("2026-06-05", hour=0)
    assert whitelist.refresh()["listed_after"] == 1
    assert whitelist.is_listed(inst.id)


def test_renewing_keeps_the_institution_listed_without_a_gap(client, supervisor):
    at("2026-07-01")
    inst = factories.institution()
    lic = factories.licence(inst, issued_on=date(2025, 7, 1), expires_on=date(2026, 7, 10))
    resp = client.post(f"/api/v1/licences/{lic.id}/renew", json={"expires_on": "2029-07-10"},
                       headers=supervisor)
    assert resp.status_code == 200, resp.json
    at("2026-07-15")
    assert whitelist.refresh()["checked"] == 0
    assert whitelist.is_listed(inst.id)
    assert whitelist.is_listed(inst.id, on=date(2026, 7, 1))
    assert whitelist.listed_since(inst.id) == datetime(2026, 7, 1, 10, tzinfo=clock.CST)


def test_revoked_licence_takes_the_institution_off(client, supervisor):
    inst = factories.institution(name="撤证机构")
    lic = factories.licence(inst)
    assert listed_names(client) == ["撤证机构"]
    client.post(f"/api/v1/licences/{lic.id}/revoke", json={"reason": "违法办学"},
                headers=supervisor)
    assert listed_names(client) == []


def test_search_by_chinese_name_region_prefix_category_and_uscc(client):
    a = factories.institution(name="西湖书法学堂", region_code="330106")
    b = factories.institution(name="滨江围棋学堂", region_code="330108")
    c = factories.institution(name="上城编程中心", region_code="330102", category="subject",
                              non_subject_type=None, audiences=["senior"])
    d = factories.institution(name="宁波书法学堂", region_code="330203")
    factories.institution(name="无证书法学堂", region_code="330106")  # no licence
    for inst in (a, b, c, d):
        factories.licence(inst)
    assert listed_names(client, q="书法") == ["宁波书法学堂", "西湖书法学堂"]
    assert listed_names(client, q="学堂", region="3301") == ["滨江围棋学堂", "西湖书法学堂"]
    assert listed_names(client, region="330100") == sorted(
        ["西湖书法学堂", "滨江围棋学堂", "上城编程中心"])
    assert listed_names(client, category="subject") == ["上城编程中心"]
    assert listed_names(client, q=a.uscc.lower()) == ["西湖书法学堂"]
    assert listed_names(client, q="100%") == []
    page = client.get(LISTED, query_string={"per_page": 2, "page": 2}).json
    assert page["total"] == 4 and len(page["items"]) == 2 and page["page"] == 2
    item = client.get(LISTED, query_string={"q": "滨江"}).json["items"][0]
    assert item["region_name"] == "浙江省杭州市滨江区"
    assert item["licence_number"] and item["licence_expires_on"]


def test_bad_search_arguments_are_422_naming_the_field(client):
    resp = client.get(LISTED, query_string={"region": "hz", "category": "x"})
    assert resp.status_code == 422
    assert set(resp.json["errors"]) == {"region", "category"}


def test_public_paging_stops_at_ten_thousand_rows(client):
    assert client.get(LISTED, query_string={"page": 50, "per_page": 200}).status_code == 200
    deep = client.get(LISTED, query_string={"page": 51, "per_page": 200})
    assert deep.status_code == 422 and list(deep.json["errors"]) == ["page"]


def test_public_reads_carry_etag_and_cache_control_and_answer_304(client):
    factories.licence(factories.institution())
    first = client.get(LISTED)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = client.get(LISTED, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    factories.licence(factories.institution())
    assert client.get(LISTED, headers={"If-None-Match": etag}).status_code == 200
