"""The public pages: white-list search, an institution's profile, the black list."""

from datetime import date

from flask import render_template, request, url_for

from api.resources.public import MAX_DEPTH, cache_publicly, paginate_counted, whitelist_item
from api.web import web
from registry import clock, regions
from registry.db import db
from registry.errors import NotFound
from registry.institutions.models import CATEGORIES
from registry.lists import blacklist, public, whitelist
from registry.money import format_fen

PER_PAGE = 20

LABELS = {
    "subject": "学科类", "non_subject": "非学科类",
    "sports": "体育", "arts": "文化艺术", "science": "科技", "comprehensive": "综合实践",
    "other": "其他",
    "offline": "线下", "online": "线上", "blended": "线上线下",
    "active": "有效", "suspended": "暂停", "revoked": "已吊销", "expired": "已过期",
    "closed": "已关闭",
    "whitelisted": "白名单", "blacklisted": "黑名单", "not_listed": "未列入白名单",
    "unlicensed_operation": "无证办学", "illegal_fee_collection": "违规收费",
    "fled_with_fees": "卷款跑路", "safety_hazard": "安全隐患",
    "repeated_breaches": "屡查屡犯",
    "morality_law": "道德与法治", "chinese": "语文", "history": "历史", "geography": "地理",
    "math": "数学", "foreign_language": "外语", "physics": "物理", "chemistry": "化学",
    "biology": "生物",
    "small": "小班（10人以下）", "medium": "中班（10–35人）", "large": "大班（35人以上）",
    "preschool": "学龄前", "primary": "小学", "junior": "初中", "senior": "高中",
}
INSTITUTION_STATUS = {"active": "正常", "suspended": "停业整顿", "closed": "已关闭"}

web.after_request(cache_publicly)


@web.context_processor
def helpers():
    return {"label": lambda code: LABELS.get(code, code or ""), "yuan": format_fen,
            "institution_status": lambda s: INSTITUTION_STATUS.get(s, s),
            "cst": lambda t: clock.as_cst(t).strftime("%Y-%m-%d") if t else ""}


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), MAX_DEPTH // PER_PAGE))
    except ValueError:
        return 1


def _provinces() -> list:
    return sorted((r for r in regions.all_regions().values() if r.level == "province"),
                  key=lambda r: r.code)


def _pages(total: int, page: int, endpoint: str, args: dict, exact: bool = True) -> dict:
    """The pager; when `total` is only a lower bound, `last` is the last page counted so far."""
    last = max(1, min(-(-total // PER_PAGE), MAX_DEPTH // PER_PAGE))
    keep = {k: v for k, v in args.items() if v}
    return {"page": page, "last": last, "total": total, "exact": exact,
            "prev": url_for(endpoint, **keep, page=page - 1) if page > 1 else None,
            "next": url_for(endpoint, **keep, page=page + 1) if page < last else None}


@web.route("/")
def index():
    """Search the white list."""
    q = request.args.get("q", "").strip()[:100]
    region = request.args.get("region", "").strip()
    region = region if region.isdigit() and 2 <= len(region) <= 6 else ""
    category = request.args.get("category", "")
    category = category if category in CATEGORIES else ""
    page = _page_number()
    stmt = whitelist.search(q=q, region=region, category=category)
    found = paginate_counted(stmt, {"page": page, "per_page": PER_PAGE}, q)
    total, rows = found["total"], found["items"]
    args = {"q": q, "region": region, "category": category}
    return render_template(
        "web/index.html", items=[whitelist_item(i) for i in rows], args=args,
        searched=bool(q or region or category), provinces=_provinces(),
        region_name=regions.full_name(region.ljust(6, "0")) if region else "",
        pages=_pages(total, page, "web.index", args, found["total_exact"]))


@web.route("/institutions/<uscc>")
def institution(uscc):
    """An institution's public profile."""
    try:
        profile = public.profile(uscc)
    except NotFound:
        return render_template("web/not_found.html", uscc=uscc[:40]), 404
    return render_template("web/institution.html", p=profile)


@web.route("/blacklist")
def blacklist_page():
    """The black list, now or on a past date."""
    page = _page_number()
    on_text = request.args.get("on", "")
    try:
        on = date.fromisoformat(on_text) if on_text else None
    except ValueError:
        on, on_text = None, ""
    stmt = blacklist.query(on=on)
    total = db.session.scalar(db.select(db.func.count()).select_from(
        stmt.order_by(None).subquery()))
    entries = db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("web/blacklist.html", entries=entries, on=on_text,
                           pages=_pages(total, page, "web.blacklist_page", {"on": on_text}))
