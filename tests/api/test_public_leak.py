"""No public response ever carries a resident ID number, a phone number or a full account
number: plant them in every record that can hold one, then walk every public endpoint and page."""

import re

import pytest
from stdnum.cn import ric

from registry import access, audit, crypto, identifiers
from registry.db import db
from tests import factories

PUBLIC_API = "/api/v1/public/"


def resident_id(region: str, born: str, seq: int) -> str:
    body = f"{region}{born}{seq:03d}"
    return body + ric.calc_check_digit(body)


IDS = [resident_id("330106", "19850412", 123), resident_id("330108", "19920201", 7),
       resident_id("110101", "19791231", 481)]
PHONES = ["13912345678", "18657101234", "15005717788"]
ACCOUNTS = ["6222020200112233445", "6217001210078899001"]


def _plant_staff(inst):
    from registry.staff.models import Staff

    for i, (number, phone) in enumerate(zip(IDS, PHONES, strict=False)):
        db.session.add(Staff(
            institution_id=inst.id, region_code=inst.region_code, name=f"王老师{i}",
            id_number_encrypted=crypto.encrypt(number),
            id_number_index=crypto.blind_index(number),
            id_number_masked=identifiers.mask_ric(number), role="teacher",
            teacher_cert_no=f"2019330{i:010d}"[:17], subjects=["arts"], full_time=True))
        db.session.add(Staff(
            institution_id=inst.id, region_code=inst.region_code, name=f"职员{i}",
            id_number_encrypted=crypto.encrypt(phone + "x"),
            id_number_index=crypto.blind_index(phone), id_number_masked="330106********0000",
            role="staff", subjects=[]))
    db.session.commit()


def _plant_courses(inst):
    from registry.courses.models import Course

    db.session.add(Course(institution_id=inst.id, region_code=inst.region_code, title="少儿素描",
                          subject="arts", audience="primary", delivery="offline",
                          lesson_minutes=45, price_per_lesson=12000, class_size="small",
                          lessons_total=20))
    db.session.commit()


def _plant_accounts(inst):
    from registry.escrow import accounts

    with audit.acting_as(access.SYSTEM):
        for number in ACCOUNTS:
            accounts.open_account(access.SYSTEM, {"institution_id": inst.id,
                                                  "bank_code": "ICBC", "account_number": number,
                                                  "min_balance": 0})
        db.session.commit()


@pytest.fixture
def planted(client, supervisor):
    inst = factories.institution(name="西湖少儿美术学校")
    factories.licence(inst)
    other = factories.institution(name="被拉黑的培训班")
    factories.licence(other)
    _plant_staff(inst)
    _plant_courses(inst)
    _plant_accounts(inst)
    for i, (number, phone) in enumerate(zip(IDS, PHONES, strict=False)):
        text = f"老师身份证{number}，电话{phone}，账户{ACCOUNTS[0]}"
        resp = client.post(f"{PUBLIC_API}complaints", environ_base={"REMOTE_ADDR": f"10.1.1.{i}"},
                           json={"uscc": inst.uscc, "category": "fees", "description": text,
                                 "contact": phone})
        assert resp.status_code == 202, resp.json
    entry = client.post("/api/v1/blacklist", headers=supervisor, json={
        "institution_id": other.id, "reason_code": "illegal_fee_collection",
        "reason": "违规收费", "evidence": {"complaint_ids": [1, 2]}})
    assert entry.status_code == 201, entry.json
    return inst, other


def _public_urls(app, inst) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        public_api = rule.rule.startswith(PUBLIC_API)
        page = rule.endpoint.startswith("web.") and rule.endpoint != "web.static"
        if not (public_api or page):
            continue
        args = {}
        for name in rule.arguments:
            assert name == "uscc", f"the leak walk does not know how to fill <{name}> in {rule}"
            args[name] = inst.uscc
        urls.append(rule.build(args, append_unknown=False)[1])
    return urls


SECRETS = IDS + PHONES + ACCOUNTS


def leaks(body: str) -> list[str]:
    """Every planted secret, phone-like number and valid resident ID number in a response."""
    found = [secret for secret in SECRETS if secret in body]
    found += re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", body)
    found += [t for t in re.findall(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])", body)
              if ric.is_valid(t)]
    return found


def walk(app, client, inst, other) -> dict[str, list[str]]:
    urls = _public_urls(app, inst)
    assert f"/api/v1/public/institutions/{inst.uscc}" in urls and "/" in urls
    urls += [f"/api/v1/public/institutions/{other.uscc}", f"/institutions/{other.uscc}",
             "/api/v1/public/whitelist?q=美术", "/?q=美术", "/blacklist?on=2099-01-01",
             "/api/v1/public/blacklist?on=2099-01-01", "/api/v1/openapi.json"]
    out = {}
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        out[url] = leaks(resp.get_data(as_text=True))
    return out


def test_no_public_response_carries_personal_data(app, client, planted):
    inst, other = planted
    found = walk(app, client, inst, other)
    assert len(found) >= 10
    assert {url: hits for url, hits in found.items() if hits} == {}
    profile = client.get(f"/api/v1/public/institutions/{inst.uscc}").json
    assert [t["name"] for t in profile["teachers"]] == ["王老师0", "王老师1", "王老师2"]
    assert profile["courses"][0]["price_per_lesson"] == "120.00"
    assert profile["custody"]["account_number"].endswith(ACCOUNTS[-1][-4:])


def test_the_walk_would_notice_a_leak(app, client, planted, supervisor):
    inst, other = planted
    client.patch(f"/api/v1/institutions/{inst.id}", headers=supervisor,
                 json={"address": f"文三路1号（电话{PHONES[0]}）"})
    found = walk(app, client, inst, other)
    assert found[f"/institutions/{inst.uscc}"] == [PHONES[0], PHONES[0]]
