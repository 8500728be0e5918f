"""The white-list search answers exactly what the straightforward query answers, and the licence
it shows (kept on the white-list row) follows every change that can move it."""

import importlib
import random
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from registry import access, audit, clock, regions
from registry.db import db
from registry.institutions.models import Institution
from registry.lists.models import WhitelistInterval
from seed import national
from tests import factories

public_api = importlib.import_module("api.resources.public")  # the package names its blueprint
LISTED = "/api/v1/public/whitelist"


def at(day: str, hour: int = 10):
    clock.freeze(datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=clock.CST))


def expected(q=None, region=None, category=None) -> list[dict]:
    """The straightforward answer: ORM institutions on an open interval, a plain LIKE, and the
    licence picked from their licences as the white list always picked it."""
    stmt = (sa.select(Institution)
            .join(WhitelistInterval, WhitelistInterval.institution_id == Institution.id)
            .where(WhitelistInterval.listed_until.is_(None),
                   WhitelistInterval.licensed_until >= clock.today()))
    if q:
        stmt = stmt.where(sa.or_(Institution.name.like(f"%{q}%"),
                                 Institution.uscc == q.upper()))
    if region:
        stmt = stmt.where(Institution.region_code.like(regions.prefix(region) + "%"))
    if category:
        stmt = stmt.where(Institution.category == category)
    return [item(inst) for inst in db.session.scalars(stmt.order_by(Institution.name,
                                                                    Institution.id))]


def item(inst) -> dict:
    lic = max((lic for lic in inst.licences if lic.status == "active"),
              key=lambda lic: lic.expires_on, default=None)
    return {"uscc": inst.uscc, "name": inst.name, "category": inst.category,
            "non_subject_type": inst.non_subject_type, "region_code": inst.region_code,
            "region_name": regions.full_name(inst.region_code), "address": inst.address,
            "delivery": inst.delivery, "licence_number": lic.number if lic else None,
            "licence_expires_on": lic.expires_on.isoformat() if lic else None}


def searched(client, **params) -> list[dict]:
    """Every page of the search, 200 at a time; each page's total checked on the way."""
    items, page = [], 1
    while True:
        resp = client.get(LISTED, query_string=params | {"page": page, "per_page": 200})
        assert resp.status_code == 200, resp.json
        body = resp.json
        items += body["items"]
        if len(body["items"]) < 200:
            assert body["total"] == len(items) and body["total_exact"]
            return items
        page += 1


def test_search_answers_what_a_plain_like_answers_on_generated_data(client):
    with audit.acting_as(access.SYSTEM):
        national.generate(0.002, seed=5)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
    listed = [r[0] for r in db.session.execute(sa.select(Institution).join(
        WhitelistInterval, WhitelistInterval.institution_id == Institution.id).where(
        WhitelistInterval.listed_until.is_(None)).order_by(Institution.id)).all()]
    unlisted = db.session.scalars(sa.select(Institution).where(
        Institution.id.not_in([i.id for i in listed]))).all()
    assert len(listed) > 200 and unlisted
    rnd = random.Random(7)
    queries = set()
    for inst in rnd.sample(listed, 25) + rnd.sample(unlisted, 5):
        for size in (1, 2, 3, 4):
            start = rnd.randrange(len(inst.name) - size + 1)
            queries.add(inst.name[start:start + size])
    queries |= {"培训", "艺术", "市", "中心", "没有", "x"}
    checked = 0
    for q in sorted(queries):
        want = expected(q=q)
        assert searched(client, q=q) == want, q
        checked += bool(want)
    assert checked > 90
    # an exact USCC (any case) finds its institution, listed or not
    assert [i["uscc"] for i in searched(client, q=listed[3].uscc.lower())] == [listed[3].uscc]
    assert searched(client, q=unlisted[0].uscc) == []
    # region prefixes, a category, and both with a name
    province, city = listed[0].region_code[:2], listed[1].region_code[:4]
    for params in ({"region": province}, {"region": city}, {"category": "subject"},
                   {"category": "non_subject", "region": province},
                   {"q": "培训", "region": province}, {"q": "学校", "category": "subject"},
                   {"q": listed[2].name[-3:], "region": listed[2].region_code}):
        want = expected(**params)
        assert want and searched(client, **params) == want, params
    assert searched(client) == expected()


def test_the_shown_licence_follows_every_change(client, supervisor, session):
    at("2026-03-02")
    inst = factories.institution(name="钱塘书法培训学校")
    inst_id = inst.id

    def check():
        db.session.expire_all()
        want = expected(q="钱塘书法")
        resp = client.get(LISTED, query_string={"q": "钱塘书法"}).json
        assert resp["items"] == want
        return want[0]["licence_number"] if want else None

    def post(path, **body):
        resp = client.post(path, json=body, headers=supervisor)
        assert resp.status_code in (200, 201), resp.json
        return resp.json

    a = factories.licence(inst, number="教民A号", issued_on=date(2025, 3, 1),
                          expires_on=date(2027, 3, 1))
    assert check() == "教民A号"
    b = factories.licence(inst, number="教民B号", issued_on=date(2025, 6, 1),
                          expires_on=date(2028, 3, 1))
    assert check() == "教民B号"  # issued: runs longest
    post(f"/api/v1/licences/{b.id}/suspend", reason="整改")
    assert check() == "教民A号"  # suspended: the other one is shown
    post(f"/api/v1/licences/{b.id}/reinstate", reason="整改完成")
    assert check() == "教民B号"
    post(f"/api/v1/licences/{a.id}/renew", expires_on="2029-03-01")
    assert check() == "教民A号"  # renewed past B
    # a licence whose term starts later is shown once it runs longest, as it always was
    factories.licence(inst, number="教民C号", issued_on=date(2026, 4, 1),
                      expires_on=date(2030, 3, 1))
    assert check() == "教民C号"
    # equal expiry: the older licence
    d = factories.licence(inst, number="教民D号", issued_on=date(2025, 1, 1),
                          expires_on=date(2030, 3, 1))
    assert check() == "教民C号"
    post(f"/api/v1/licences/{d.id}/revoke", reason="注销")
    assert check() == "教民C号"
    entry = post("/api/v1/blacklist", institution_id=inst_id, reason_code="illegal_fee_collection",
                 reason="超期收费", evidence={"documents": ["杭西教罚〔2026〕3号"]})
    assert check() is None
    post(f"/api/v1/blacklist/{entry['id']}/lift", reason="已退费整改")
    assert check() == "教民C号"
    post(f"/api/v1/licences/{a.id}/revoke", reason="注销")
    assert check() == "教民C号"
    # C runs from 2026-04-01; B (to 2028-03-01) keeps the institution listed until then
    at("2026-04-01", hour=1)
    assert client.get(LISTED, query_string={"q": "钱塘"}).json["total"] == 1
    runner = client.application.test_cli_runner()
    assert runner.invoke(args=["lists", "refresh"]).exit_code == 0
    assert check() == "教民C号"
    post(f"/api/v1/licences/{b.id}/revoke", reason="注销")
    assert check() == "教民C号"
    # the last licence runs out: off the list at midnight, and refresh closes the interval
    at("2030-03-02", hour=9)
    assert check() is None
    assert runner.invoke(args=["lists", "refresh"]).exit_code == 0
    assert check() is None
    rows = session.execute(sa.select(WhitelistInterval.licence_number,
                                     WhitelistInterval.listed_until)
                           .where(WhitelistInterval.institution_id == inst_id)).all()
    assert all(until is not None for _, until in rows)
    assert all(number in ("教民A号", "教民B号", "教民C号") for number, _ in rows)


def test_totals_are_exact_up_to_a_bound_past_the_page(client, monkeypatch):
    monkeypatch.setattr(public_api, "TOTAL_AHEAD", 3)
    for n in range(10):
        factories.licence(factories.institution(name=f"余杭舞蹈{n:02d}"))

    def page(p, per_page=2, **params):
        body = client.get(LISTED, query_string={"q": "余杭舞蹈", "page": p,
                                                "per_page": per_page} | params).json
        return [i["name"][-2:] for i in body["items"]], body["total"], body["total_exact"]

    assert page(1) == (["00", "01"], 3, False)  # more than 3 (counted 3 past the start)
    assert page(3) == (["04", "05"], 7, False)
    assert page(4) == (["06", "07"], 9, False)
    assert page(5) == (["08", "09"], 10, True)
    assert page(6) == ([], 10, True)
    assert page(2, per_page=4) == (["04", "05", "06", "07"], 8, False)
    assert page(1, per_page=20) == ([f"{n:02d}" for n in range(10)], 10, True)
    assert page(1, q="余杭舞蹈07") == (["07"], 1, True)


@pytest.mark.parametrize("per_page", [1, 3])
def test_a_full_page_at_the_end_is_counted_exactly(client, per_page):
    for n in range(3):
        factories.licence(factories.institution(name=f"富阳围棋{n}"))
    body = client.get(LISTED, query_string={"q": "富阳围棋", "per_page": per_page}).json
    assert body["total"] == 3 and body["total_exact"] is True


def test_the_page_is_what_its_schema_dumps_in_the_schemas_order(client):
    factories.licence(factories.institution(name="临平编程中心", category="subject",
                                            non_subject_type=None, audiences=["senior"]))
    factories.licence(factories.institution(name="临平美术中心"))
    args = {"q": "临平", "page": 1, "per_page": 1}
    resp = client.get(LISTED, query_string=args)
    page = public_api.paginate_counted(public_api.whitelist.search(q="临平"), args)
    page["items"] = [public_api.whitelist_item(r) for r in page["items"]]
    dumped = public_api.WhitelistPageSchema().dump(page)
    assert resp.json == dumped and list(resp.json) == list(dumped)
    assert list(resp.json["items"][0]) == list(dumped["items"][0])
    assert resp.json["items"][0]["non_subject_type"] is None
    assert resp.json["total"] == 2 and resp.json["total_exact"] is True
