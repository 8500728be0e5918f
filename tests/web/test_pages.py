"""The public pages through the test client: content, paging, caching, not found."""

from registry.lists import public
from tests import factories


def test_index_pages_through_the_white_list_keeping_the_search(client):
    for i in range(23):
        factories.licence(factories.institution(name=f"西湖舞蹈学校{i:02d}"))
    first = client.get("/?q=舞蹈&region=330100")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "找到 23 家白名单机构" in html and "第 1 / 2 页" in html
    assert html.count('class="name"') == 20
    second = client.get("/?q=舞蹈&region=330100&page=2").get_data(as_text=True)
    assert second.count('class="name"') == 3
    assert "rel=\"prev\"" in second and "q=%E8%88%9E%E8%B9%88" in second


def test_index_says_more_than_when_the_total_is_a_lower_bound(client, monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("api.resources.public"), "TOTAL_AHEAD", 25)
    for i in range(48):
        factories.licence(factories.institution(name=f"萧山书法学校{i:02d}"))
    html = client.get("/?q=萧山书法").get_data(as_text=True)
    assert "找到超过 25 家白名单机构" in html and "第 1 / 2+ 页" in html
    html = client.get("/?q=萧山书法&page=2").get_data(as_text=True)
    assert "找到超过 45 家白名单机构" in html and "第 2 / 3+ 页" in html and 'rel="next"' in html
    html = client.get("/?q=萧山书法&page=3").get_data(as_text=True)
    assert "找到 48 家白名单机构" in html and "第 3 / 3 页" in html and 'rel="next"' not in html


def test_pages_are_cacheable_and_answer_304(client):
    factories.licence(factories.institution())
    first = client.get("/")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_unknown_institution_page_is_404_in_chinese(client):
    resp = client.get("/institutions/91330106MA2XXXXXXX")
    assert resp.status_code == 404
    assert "未找到该机构" in resp.get_data(as_text=True)
    assert "Cache-Control" not in resp.headers or "public" not in resp.headers["Cache-Control"]


def test_profile_page_shows_blacklisting_and_list_status(client, supervisor):
    inst = factories.institution(name="违规机构")
    factories.licence(inst)
    client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": inst.id, "reason_code": "illegal_fee_collection",
        "reason": "一次性收取超过3个月费用"})
    assert public.list_status(inst.id) == "blacklisted"
    html = client.get(f"/institutions/{inst.uscc}").get_data(as_text=True)
    assert "黑名单机构" in html and "一次性收取超过3个月费用" in html
    api = client.get(f"/api/v1/public/institutions/{inst.uscc.lower()}").json
    assert api["list_status"] == "blacklisted" and api["whitelisted"] is False
    assert api["blacklist"]["reason_code"] == "illegal_fee_collection"


def test_blacklist_page_answers_for_a_past_date_and_ignores_a_bad_one(client):
    assert "目前列入黑名单 0 家" in client.get("/blacklist").get_data(as_text=True)
    assert "2020-01-01 当日" in client.get("/blacklist?on=2020-01-01").get_data(as_text=True)
    assert client.get("/blacklist?on=yesterday").status_code == 200
    assert client.get("/?page=abc&region=x&category=y").status_code == 200
