"""Blacklisting institutions and unlicensed operators, and lifting it: supervisors' decisions."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from api.auth import SECURITY, principal, require
from api.paging import paginate, with_etag
from api.schemas import Instant, PageArgs, ReasonSchema, Schema, one_of, page_of
from registry.db import db
from registry.lists import blacklist as service
from registry.lists.models import REASON_CODES

blp = Blueprint("blacklist", __name__, description="The black list (supervisors' decisions)")


class EvidenceSchema(Schema):
    breach_ids = fields.List(fields.Integer(), validate=validate.Length(max=500))
    complaint_ids = fields.List(fields.Integer(), validate=validate.Length(max=500))
    documents = fields.List(fields.String(validate=validate.Length(min=1, max=500)),
                            validate=validate.Length(max=50),
                            metadata={"description": "document references or URLs"})


class BlacklistInSchema(Schema):
    institution_id = fields.Integer(metadata={"description": "a registered institution; or "
                                                             "give name and address"})
    name = fields.String(validate=validate.Length(min=1, max=200),
                         metadata={"description": "an unlicensed operator's name"})
    address = fields.String(validate=validate.Length(min=1, max=300))
    uscc = fields.String(validate=validate.Length(max=18),
                         metadata={"description": "an unlicensed operator's code, if any"})
    region_code = fields.String(validate=validate.Regexp(r"^\d{6}$"),
                                metadata={"description": "an unlicensed operator's region; "
                                                         "defaults to the supervisor's"})
    reason_code = fields.String(required=True, validate=one_of(REASON_CODES))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    evidence = fields.Nested(EvidenceSchema, load_default=dict)

    @validates_schema
    def institution_or_operator(self, data, **kwargs):
        if data.get("institution_id") is None and not data.get("name"):
            raise ValidationError("Give institution_id, or name and address.", "institution_id")
        if data.get("institution_id") is not None and (data.get("name") or data.get("address")):
            raise ValidationError("Give institution_id or name and address, not both.", "name")
        if data.get("institution_id") is None and not data.get("address"):
            raise ValidationError("An unlicensed operator needs its address.", "address")


class LiftSchema(Schema):
    reason = fields.String()
    decided_by = fields.String()
    decided_at = Instant()


class BlacklistEntrySchema(Schema):
    id = fields.Integer()
    institution_id = fields.Integer(allow_none=True)
    uscc = fields.String(allow_none=True)
    name = fields.String()
    address = fields.String()
    region_code = fields.String()
    reason_code = fields.String()
    reason = fields.String()
    evidence = fields.Nested(EvidenceSchema)
    decided_by = fields.String()
    decided_at = Instant()
    active = fields.Boolean()
    lift = fields.Nested(LiftSchema, allow_none=True)


class BlacklistQuerySchema(PageArgs):
    on = fields.Date()
    q = fields.String()
    region = fields.String(validate=validate.Regexp(r"^\d{2,6}$"))
    institution_id = fields.Integer()
    include_lifted = fields.Boolean(load_default=False)


@blp.route("/blacklist")
class Blacklist(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(BlacklistQuerySchema, location="query")
    @blp.response(200, page_of(BlacklistEntrySchema))
    @require("supervisor")
    def get(self, args):
        """Black-list entries in your region, with evidence and decisions"""
        filters = {k: args.get(k) for k in ("on", "q", "region", "institution_id")}
        stmt = service.query(scope=principal().region_prefix,
                             include_lifted=args["include_lifted"], **filters)
        return paginate(stmt, args)

    @blp.doc(security=SECURITY)
    @blp.arguments(BlacklistInSchema)
    @blp.response(201, BlacklistEntrySchema)
    @blp.alt_response(409, description="The institution is blacklisted already")
    @require("supervisor")
    def post(self, data):
        """Blacklist an institution or an unlicensed operator (off the white list at once)"""
        entry = service.add(principal(), data)
        db.session.commit()
        return with_etag(BlacklistEntrySchema(), entry, 201)


@blp.route("/blacklist/<int:entry_id>")
class BlacklistEntry(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, BlacklistEntrySchema)
    @require("supervisor")
    def get(self, entry_id):
        """One black-list entry"""
        return with_etag(BlacklistEntrySchema(), service.get(principal(), entry_id))


@blp.route("/blacklist/<int:entry_id>/lift")
class BlacklistLift(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(ReasonSchema)
    @blp.response(200, BlacklistEntrySchema)
    @blp.alt_response(409, description="Lifted already")
    @require("supervisor")
    def post(self, data, entry_id):
        """Lift a black-list entry: a recorded decision with its reason"""
        entry = service.get(principal(), entry_id)
        service.lift(principal(), entry, data["reason"])
        db.session.commit()
        return with_etag(BlacklistEntrySchema(), entry)
