"""Complaints: filed by the public (rate-limited), triaged by supervisors in their region."""

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from api.auth import SECURITY, principal, require
from api.extensions import limiter
from api.paging import check_if_match, paginate, with_etag
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry.complaints import services
from registry.complaints.models import CATEGORIES, STATUSES
from registry.db import db

blp = Blueprint("complaints", __name__, description="Complaints from the public")

MAX_BODY = 16 * 1024  # bytes; a complaint is a few paragraphs, not an upload


@blp.before_request
def limit_body_size():
    if request.method == "POST" and request.path.endswith("/public/complaints"):
        request.max_content_length = current_app.config.get("COMPLAINT_MAX_BYTES", MAX_BODY)


class ComplaintInSchema(Schema):
    uscc = fields.String(validate=validate.Length(max=40))
    institution_name = fields.String(validate=validate.Length(min=1, max=200))
    region_code = fields.String(validate=validate.Regexp(r"^\d{6}$"),
                                metadata={"description": "where, when the institution is not "
                                                         "registered"})
    category = fields.String(required=True, validate=one_of(CATEGORIES))
    description = fields.String(required=True, validate=validate.Length(min=5, max=5000))
    contact = fields.String(validate=validate.Length(max=100),
                            metadata={"description": "optional; encrypted, never published"})

    @validates_schema(skip_on_field_errors=False)
    def names_an_institution(self, data, **kwargs):
        if not data.get("uscc") and not data.get("institution_name"):
            raise ValidationError("Give the institution's uscc or institution_name.", "uscc")


class ComplaintReceiptSchema(Schema):
    reference = fields.String()
    status = fields.String()
    received_at = Instant()


class ComplaintSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    institution_id = fields.Integer(allow_none=True)
    uscc = fields.String(allow_none=True)
    institution_name = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    category = fields.String()
    description = fields.String()
    contact = fields.Function(services.masked_contact,
                              metadata={"description": "masked", "type": "string"})
    status = fields.String()
    note = fields.String(allow_none=True)
    breach_ids = fields.List(fields.Integer())
    blacklist_entry_id = fields.Integer(allow_none=True)
    received_at = Instant()
    updated_at = Instant()


class ComplaintPatchSchema(Schema):
    status = fields.String(validate=one_of(STATUSES))
    note = fields.String(allow_none=True, validate=validate.Length(max=5000))
    breach_ids = fields.List(fields.Integer(), validate=validate.Length(max=500))
    blacklist_entry_id = fields.Integer(allow_none=True)
    region_code = fields.String(validate=validate.Regexp(r"^\d{6}$"))


class ComplaintQuerySchema(PageArgs):
    status = fields.String(validate=one_of(STATUSES))
    category = fields.String(validate=one_of(CATEGORIES))
    institution_id = fields.Integer()


def _rate_limit() -> str:
    return current_app.config["COMPLAINT_RATE_LIMIT"]


@blp.route("/public/complaints")
class PublicComplaints(MethodView):
    decorators = [limiter.limit(_rate_limit, methods=["POST"])]

    @blp.arguments(ComplaintInSchema)
    @blp.response(202, ComplaintReceiptSchema)
    @blp.alt_response(429, description="Too many complaints from this address; retry later")
    @blp.alt_response(413, description="The body is too large")
    def post(self, data):
        """File a complaint; keep the reference to ask about it"""
        complaint = services.file(data)
        db.session.commit()
        return complaint


@blp.route("/complaints")
class Complaints(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(ComplaintQuerySchema, location="query")
    @blp.response(200, page_of(ComplaintSchema))
    @require("supervisor")
    def get(self, args):
        """Complaints in your region, newest first"""
        filters = {k: args.get(k) for k in ("status", "category", "institution_id")}
        return paginate(services.query(principal(), **filters), args)


@blp.route("/complaints/<int:complaint_id>")
class ComplaintById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, ComplaintSchema)
    @require("supervisor")
    def get(self, complaint_id):
        """One complaint (the contact masked)"""
        return with_etag(ComplaintSchema(), services.get(principal(), complaint_id))

    @blp.doc(security=SECURITY)
    @blp.arguments(ComplaintPatchSchema)
    @blp.response(200, ComplaintSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    @require("supervisor")
    def patch(self, changes, complaint_id):
        """Triage: status, note, linked breaches or black-list decision (honours If-Match)"""
        complaint = services.get(principal(), complaint_id)
        check_if_match(ComplaintSchema(), complaint)
        services.triage(principal(), complaint, changes)
        db.session.commit()
        return with_etag(ComplaintSchema(), complaint)
