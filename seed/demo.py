"""Demo data: four cities, about 50 institutions, licences in every state.

Everything goes through the domain services, so the demo is audited like real use and obeys the
same rules (no brand-new licence where "no new approvals" applies: those are imports or
conversions). The data is deterministic (one seeded random) and dates are relative to today,
so an "active" licence stays active whenever the demo is loaded.

Other areas add their demo rows with a loader in their own module, listed in EXTRA_LOADERS as
"module:function". Each is called after the institutions exist as `fn(institutions)` with the
institutions this run loaded (a list of `Institution`), in the same transaction; it returns the
number of rows it made (or None). Keep loaders deterministic (use `random.Random(<constant>)`).
"""

import importlib
import random
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from registry import access, clock, identifiers, regions
from registry.db import db
from registry.institutions import licences, services
from registry.institutions.models import Institution

# "seed.staff:load", "seed.escrow:load", ... (called in this order)
EXTRA_LOADERS: list[str] = ["seed.demo_activity:load"]

SEED = 2021
ACTOR = access.SYSTEM


@dataclass(frozen=True)
class City:
    name: str             # for company names: 杭州, 北京 ...
    issuer_suffix: str    # 教育局 / 教育委员会
    districts: dict       # region code -> streets


CITIES = (
    City("杭州", "教育局", {
        "330102": ("解放路", "庆春路", "江城路"), "330105": ("湖墅南路", "莫干山路"),
        "330106": ("文三路", "文二路", "天目山路", "古墩路", "学院路"),
        "330108": ("江南大道", "滨盛路"), "330110": ("文一西路", "五常大道")}),
    City("北京", "教育委员会", {
        "110101": ("东直门内大街", "安定门外大街"), "110102": ("西单北大街", "德胜门外大街"),
        "110105": ("建国路", "望京街", "朝阳北路"), "110108": ("中关村大街", "学院路", "知春路")}),
    City("上海", "教育局", {
        "310101": ("南京东路", "西藏中路"), "310104": ("漕溪北路", "肇嘉浜路", "天钥桥路"),
        "310112": ("沪闵路", "莘庄路"), "310115": ("张杨路", "世纪大道", "锦绣路")}),
    City("成都", "教育局", {
        "510104": ("春熙路", "东大街"), "510105": ("人民中路", "青华路"),
        "510107": ("科华北路", "一环路南四段", "武侯祠大街"),
        "510108": ("建设路", "二环路东二段")}),
)

BRANDS = ("启明", "睿思", "晨曦", "远航", "博雅", "智慧树", "春雨", "青藤", "墨香", "乐跑",
          "飞扬", "星河", "童心", "小橡树", "知行", "致远", "明德", "弘毅", "卓越", "扬帆",
          "朗润", "书山", "云帆", "艺苑", "蓝鲸", "跃动", "童梦", "汇智", "思源", "雏鹰",
          "锦程", "南山", "天籁", "方圆", "格物", "彩虹", "向阳", "海豚", "青禾", "朝露",
          "鸿鹄", "嘉禾", "清风", "翰墨", "竹韵", "银杏", "北辰", "立人", "树人", "育英")

# (category, non-subject type, audiences, delivery, legal form, how the name ends)
KINDS = (
    ("subject", None, ["primary", "junior"], "offline", "nonprofit",
     "{district}{brand}文化培训学校"),
    ("subject", None, ["junior", "senior"], "offline", "nonprofit", "{district}{brand}培训学校"),
    ("subject", None, ["senior"], "blended", "nonprofit", "{district}{brand}高中文化补习学校"),
    ("non_subject", "sports", ["primary", "junior"], "offline", "for_profit",
     "{city}{brand}体育发展有限公司"),
    ("non_subject", "sports", ["primary", "junior", "senior"], "offline", "for_profit",
     "{city}{brand}游泳俱乐部有限公司"),
    ("non_subject", "arts", ["primary", "junior"], "offline", "for_profit",
     "{city}{brand}艺术培训有限公司"),
    ("non_subject", "arts", ["preschool", "primary"], "offline", "for_profit",
     "{city}{brand}少儿美术有限公司"),
    ("non_subject", "science", ["primary", "junior"], "blended", "for_profit",
     "{city}{brand}科技教育有限公司"),
    ("non_subject", "science", ["junior", "senior"], "online", "for_profit",
     "{city}{brand}编程网络科技有限公司"),
    ("non_subject", "comprehensive", ["primary", "junior"], "offline", "for_profit",
     "{city}{brand}研学实践教育有限公司"),
    ("non_subject", "other", ["primary"], "offline", "nonprofit", "{district}{brand}口才培训中心"),
    ("non_subject", "arts", ["primary", "junior", "senior"], "offline", "for_profit",
     "{city}{brand}音乐舞蹈有限公司"),
)

# What happens to each institution's licence, in turn: most are in force, and every status and
# lifecycle step appears in every city.
STORIES = ("active", "active", "renewed", "active", "suspended", "active", "expired",
           "active", "revoked", "active", "reinstated", "unlicensed")

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _org_code(rng: random.Random) -> str:
    """A GB 11714 organisation code: eight characters and its check character."""
    body = "".join(rng.choice("0123456789") for _ in range(2)) + "".join(
        rng.choice(_ORG_ALPHABET[:10] + "ABCDEFGHJKLMN") for _ in range(6))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _uscc(rng: random.Random, legal_form: str, region_code: str) -> str:
    """52 = civil-affairs registered non-profit school; 91 = a company."""
    prefix = "52" if legal_form == "nonprofit" else "91"
    return identifiers.uscc_with_check(prefix + region_code + _org_code(rng))


def _plan(rng: random.Random) -> list[dict]:
    """Every institution to load, with its story; deterministic for SEED."""
    plan, brands = [], list(BRANDS)
    rng.shuffle(brands)
    n = 0
    for city in CITIES:
        districts = list(city.districts.items())
        for i, kind in enumerate(KINDS):
            category, ns_type, audiences, delivery, legal_form, pattern = kind
            region_code, streets = districts[i % len(districts)]
            brand = brands[n % len(brands)]
            district = f"{city.name}市{regions.get(region_code).name}"  # 杭州市西湖区
            name = pattern.format(city=city.name, brand=brand, district=district)
            street = f"{rng.choice(streets)}{rng.randint(1, 399)}号"
            address = regions.full_name(region_code) + street
            if rng.random() < 0.4:
                address += f"{rng.randint(2, 12)}楼"
            plan.append({
                "data": {"uscc": _uscc(rng, legal_form, region_code), "name": name,
                         "category": category, "non_subject_type": ns_type,
                         "audiences": list(audiences), "delivery": delivery,
                         "legal_form": legal_form, "region_code": region_code,
                         "address": address},
                "story": STORIES[(i + len(plan) // len(KINDS)) % len(STORIES)],
                "issuer": district + city.issuer_suffix,
                "seq": n + 1,
            })
            n += 1
    return plan


def _licence_data(item: dict, rng: random.Random, inst: Institution, delivery: str,
                  suffix: int) -> dict:
    today = clock.today()
    if item["story"] == "expired":
        issued = today - timedelta(days=3 * 365 + rng.randint(20, 200))
        expires = today - timedelta(days=rng.randint(3, 90))
    else:
        issued = today - timedelta(days=rng.randint(200, 900))
        expires = issued + timedelta(days=3 * 365)
        if expires <= today:
            expires = today + timedelta(days=rng.randint(30, 400))
    new_allowed = licences.new_approval_refusal(inst) is None
    basis = "new" if new_allowed and rng.random() < 0.6 else (
        "conversion" if inst.legal_form == "nonprofit" and inst.category == "subject"
        else "import")
    number = f"教民1{inst.region_code}{7 + suffix}{item['seq']:07d}号"
    return {"number": number, "issuer": item["issuer"], "issued_on": issued,
            "expires_on": expires, "delivery": delivery, "basis": basis}


def _tell(item: dict, inst: Institution, rng: random.Random) -> None:
    """Issue the licence(s) and play the institution's story through the services."""
    story = item["story"]
    if story == "unlicensed":
        return
    modes = ["offline", "online"] if inst.delivery == "blended" else [inst.delivery]
    for suffix, mode in enumerate(modes):
        lic = licences.issue(ACTOR, inst, _licence_data(item, rng, inst, mode, suffix))
        if suffix:
            continue  # the story is told on the first licence
        if story == "renewed":
            licences.renew(lic, reason="到期前申请延续，经审核准予续期", term_months=36)
        elif story in ("suspended", "reinstated", "revoked"):
            licences.transition(lic, "suspend", "消防安全检查不合格，责令停业整改")
            if story == "reinstated":
                licences.transition(lic, "reinstate", "整改完成，经复查合格")
            elif story == "revoked":
                licences.transition(lic, "revoke", "整改期间擅自招生，情节严重，吊销办学许可证")
    if story == "suspended":
        services.update(ACTOR, inst, {"status": "suspended"})
    elif story == "revoked":
        services.update(ACTOR, inst, {"status": "closed"})


def load(if_empty: bool = False) -> int:
    """Load the demo; returns the number of institutions added (0 when present already)."""
    if if_empty and db.session.scalar(sa.select(Institution.id).limit(1)) is not None:
        return 0
    rng = random.Random(SEED)
    plan = _plan(rng)
    known = set(db.session.scalars(sa.select(Institution.uscc).where(
        Institution.uscc.in_([item["data"]["uscc"] for item in plan]))))
    loaded = []
    for item in plan:
        if item["data"]["uscc"] in known:
            continue
        inst = services.register(ACTOR, item["data"])
        _tell(item, inst, rng)
        loaded.append(inst)
    if loaded:
        for spec in EXTRA_LOADERS:
            module, _, name = spec.partition(":")
            getattr(importlib.import_module(module), name)(loaded)
    db.session.flush()
    return len(loaded)
