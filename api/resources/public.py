"""The public endpoints: no token, cacheable, and no field that could carry personal data."""

import hashlib

import sqlalchemy as sa
from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from api.paging import paginate
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry.db import db
from registry.institutions.models import CATEGORIES
from registry.lists import blacklist, profiles, public, whitelist

blp = Blueprint("public", __name__, description="Public look-ups: white list, black list, "
                                                "profiles (no token needed)")

CACHE_SECONDS = 60
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_RANGE")


def cache_publicly(response):
    """ETag and Cache-Control on successful public reads; 304 when If-None-Match matches."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if response.direct_passthrough:
        return response
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    if "Vary" in response.headers:
        response.vary.add("Accept-Encoding")
    else:  # the common case, without parsing a header set
        response.headers["Vary"] = "Accept-Encoding"
    if "ETag" not in response.headers:
        body = response.get_data()
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    environ = request.environ
    if not any(h in environ for h in CONDITIONAL):
        # nothing to answer conditionally (make_conditional would only add a Date header,
        # which the server writes itself)
        return response
    return response.make_conditional(request)


blp.after_request(cache_publicly)

REGION = validate.Regexp(r"^\d{2,6}$", error="Must be a region code (2 to 6 digits).")
MAX_DEPTH = 10_000  # rows: deep offsets cost the database; past them, narrow the search
TOTAL_AHEAD = 1_000  # white-list matches counted past a page's start (see paginate_counted)


class PublicPageArgs(PageArgs):
    @validates_schema
    def not_too_deep(self, data, **kwargs):
        if (data["page"] - 1) * data["per_page"] >= MAX_DEPTH:
            raise ValidationError(f"Public lists page through the first {MAX_DEPTH} results; "
                                  "narrow the search.", "page")


class WhitelistArgs(PublicPageArgs):
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "name contains (中文), or the exact USCC"})
    region = fields.String(validate=REGION,
                           metadata={"description": "region code; includes regions under it"})
    category = fields.String(validate=one_of(CATEGORIES))


class PublicInstitutionSchema(Schema):
    uscc = fields.String()
    name = fields.String()
    category = fields.String()
    non_subject_type = fields.String(allow_none=True)
    region_code = fields.String()
    region_name = fields.String()
    address = fields.String()
    delivery = fields.String()


class PublicLicenceSchema(Schema):
    number = fields.String()
    issuer = fields.String()
    delivery = fields.String()
    status = fields.String(metadata={"description": "active | suspended | revoked | expired"})
    issued_on = fields.Date()
    expires_on = fields.Date()


class WhitelistItemSchema(PublicInstitutionSchema):
    licence_number = fields.String()
    licence_expires_on = fields.Date()


class PublicTeacherSchema(Schema):
    name = fields.String()
    qualified = fields.Boolean(metadata={"description": "holds a teacher qualification "
                                                        "certificate (教师资格证)"})
    qualification = fields.String(allow_none=True)
    subjects = fields.List(fields.String())


class PublicCourseSchema(Schema):
    title = fields.String()
    subject = fields.String()
    audience = fields.String(allow_none=True)
    delivery = fields.String()
    lesson_minutes = fields.Integer()
    price_per_lesson = fields.String(metadata={"description": "yuan, two decimals"})
    class_size = fields.String()


class PublicCustodySchema(Schema):
    bank_code = fields.String()
    bank_name = fields.String(allow_none=True)
    account_number = fields.String(metadata={"description": "masked"})


class PublicBlacklistReasonSchema(Schema):
    reason_code = fields.String()
    reason = fields.String()
    decided_at = Instant()


class PublicProfileSchema(PublicInstitutionSchema):
    status = fields.String(metadata={"description": "active | suspended | closed"})
    list_status = fields.String(metadata={"description": "whitelisted | blacklisted | "
                                                         "not_listed"})
    whitelisted = fields.Boolean()
    listed_since = Instant(allow_none=True)
    blacklist = fields.Nested(PublicBlacklistReasonSchema, allow_none=True)
    licences = fields.List(fields.Nested(PublicLicenceSchema))
    teachers = fields.List(fields.Nested(PublicTeacherSchema))
    courses = fields.List(fields.Nested(PublicCourseSchema))
    custody = fields.Nested(PublicCustodySchema, allow_none=True)
    custody_accounts = fields.List(fields.Nested(PublicCustodySchema))


class BlacklistArgs(PublicPageArgs):
    on = fields.Date(metadata={"description": "answer for a past date (YYYY-MM-DD)"})
    q = fields.String(validate=validate.Length(max=100))
    region = fields.String(validate=REGION)


class PublicBlacklistEntrySchema(Schema):
    id = fields.Integer()
    uscc = fields.String(allow_none=True)
    name = fields.String()
    address = fields.String()
    region_code = fields.String()
    reason_code = fields.String()
    reason = fields.String()
    decided_at = Instant()
    lifted_at = Instant(allow_none=True)


class WhitelistPageSchema(page_of(WhitelistItemSchema)):
    total_exact = fields.Boolean(metadata={"description": (
        f"false when more than `total` institutions match: matches are counted up to "
        f"{TOTAL_AHEAD} past the page's start; narrow the search for an exact count")})


def whitelist_item(row) -> dict:
    """One white-list row (`whitelist.search`) as the public sees it."""
    return public.summary(row) | {"licence_number": row.licence_number,
                                  "licence_expires_on": row.licence_expires_on}


@blp.route("/public/whitelist")
class Whitelist(MethodView):
    @blp.arguments(WhitelistArgs(), location="query")  # an instance: a class is built per request
    @blp.response(200, WhitelistPageSchema)
    def get(self, args):
        """Search the white list (approved institutions in good standing)"""
        stmt = whitelist.search(q=args.get("q"), region=args.get("region"),
                                category=args.get("category"))
        page = paginate_counted(stmt, args, args.get("q"))
        # dumped by hand: the schema documents the page, but marshmallow took a fifth of the
        # request's Python time for these plain values (a test checks both agree)
        return jsonify(page | {"items": [whitelist_json(r) for r in page["items"]]})


def whitelist_json(row) -> dict:
    """`whitelist_item` as WhitelistItemSchema dumps it (dates in ISO 8601)."""
    item = whitelist_item(row)
    expires = item["licence_expires_on"]
    return item | {"licence_expires_on": expires.isoformat() if expires else None}


def paginate_counted(stmt, args: dict, q: str | None = None) -> dict:
    """`paginate` for the white list's plain rows: the total is counted no further than
    TOTAL_AHEAD rows past the page's start, so a broad search ("培训" matches half the list)
    costs a bounded count, not one over every match. Past that bound `total` is the bound and
    `total_exact` false. (COUNT(*) OVER () over every match was measured slower at national
    scale: it materialises them all before the top-N sort.)

    A name search that is not known to be broad reads the page and the count in one statement,
    over the matches cut at the bound: when they stop short of it they are all the matches, so
    the page is sorted from all of them and the count is exact, in one pass over the names
    where a page and a count took two; past the bound, the page walks the name order by itself.
    For a broad word, or none, the page comes first and the total is counted only when the
    page cannot tell it (a full page, or one past the end)."""
    page, per_page = args["page"], args["per_page"]
    offset = (page - 1) * per_page
    bound = offset + max(TOTAL_AHEAD, per_page)
    with whitelist.custom_plans():
        if q and q.strip() and not whitelist.is_broad_word(q.strip()):
            cut = stmt.order_by(None).limit(bound + 1).subquery()
            items = db.session.execute(
                sa.select(cut, sa.func.count().over().label("matches"))
                .order_by(cut.c.name, cut.c.id).limit(per_page).offset(offset)).all()
            matches = items[0].matches if items else 0
            if matches <= bound and (items or page == 1):
                return {"items": items, "page": page, "per_page": per_page, "total": matches,
                        "total_exact": True}
            if matches > bound:  # counted already: only the page is wanted
                items = db.session.execute(stmt.limit(per_page).offset(offset)).all()
                return {"items": items, "page": page, "per_page": per_page, "total": bound,
                        "total_exact": False}
        items = db.session.execute(stmt.limit(per_page).offset(offset)).all()
        exact = True
        if 0 < len(items) < per_page or (page == 1 and not items):
            total = offset + len(items)
        else:
            total = db.session.scalar(sa.select(sa.func.count()).select_from(
                stmt.with_only_columns(sa.literal(1)).order_by(None).limit(bound + 1)
                .subquery()))
            if total > bound:
                total, exact = bound, False
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "total_exact": exact}


@blp.route("/public/blacklist")
class Blacklist(MethodView):
    @blp.arguments(BlacklistArgs, location="query")
    @blp.response(200, page_of(PublicBlacklistEntrySchema))
    def get(self, args):
        """The black list now, or as it stood at the end of a past date (?on=)"""
        return paginate(blacklist.query(on=args.get("on"), q=args.get("q"),
                                        region=args.get("region")), args)


@blp.route("/public/institutions/<string:uscc>")
class Profile(MethodView):
    @blp.response(200, PublicProfileSchema)
    @blp.alt_response(404, description="No institution with this USCC")
    def get(self, uscc):
        """An institution's public profile: licence, lists, teachers, courses, custody bank"""
        body, tag = profiles.lookup(uscc)  # the stored bytes: the schema documents them
        response = Response(body, mimetype="application/json")
        response.set_etag(tag)
        return response
