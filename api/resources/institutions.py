from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import check_if_match, paginate, with_etag
from api.resources.licences import LicenceSchema
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry.db import db
from registry.institutions import licences as licence_service
from registry.institutions import services
from registry.institutions.models import (
    AUDIENCES,
    CATEGORIES,
    INSTITUTION_DELIVERY,
    INSTITUTION_STATUSES,
    LEGAL_FORMS,
    LICENCE_BASES,
    LICENCE_DELIVERY,
    NON_SUBJECT_TYPES,
)

blp = Blueprint("institutions", __name__, description="The register of training institutions")


class InstitutionInSchema(Schema):
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=40),
                         metadata={"description": "统一社会信用代码 (GB 32100), 18 characters"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category = fields.String(required=True, validate=one_of(CATEGORIES))
    non_subject_type = fields.String(allow_none=True, validate=one_of(NON_SUBJECT_TYPES))
    audiences = fields.List(fields.String(validate=one_of(AUDIENCES)), required=True,
                            validate=validate.Length(min=1, max=4))
    delivery = fields.String(required=True, validate=one_of(INSTITUTION_DELIVERY))
    legal_form = fields.String(required=True, validate=one_of(LEGAL_FORMS))
    region_code = fields.String(required=True, validate=validate.Regexp(
        r"^\d{6}$", error="Must be a 6-digit GB/T 2260 region code."))
    address = fields.String(required=True, validate=validate.Length(min=1, max=300))
    status = fields.String(validate=one_of(INSTITUTION_STATUSES))


class InstitutionPatchSchema(InstitutionInSchema):
    """Any subset of the fields; the USCC identifies the institution and does not change."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, exclude=("uscc",), **kwargs)


class LicenceBriefSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    delivery = fields.String()
    status = fields.String()
    issued_on = fields.Date()
    expires_on = fields.Date()


class InstitutionSchema(InstitutionInSchema):
    id = fields.Integer(dump_only=True)
    status = fields.String()
    licences = fields.List(fields.Nested(LicenceBriefSchema), dump_only=True)
    created_at = Instant(dump_only=True)
    updated_at = Instant(dump_only=True)


SORTS = [s for f in sorted(services.SORTABLE) for s in (f, "-" + f)]


class InstitutionQuerySchema(PageArgs):
    q = fields.String(metadata={"description": "name contains"})
    uscc = fields.String()
    region = fields.String(validate=validate.Regexp(r"^\d{2,6}$"),
                           metadata={"description": "region code; includes the regions under it"})
    category = fields.String(validate=one_of(CATEGORIES))
    status = fields.String(validate=one_of(INSTITUTION_STATUSES))
    sort = fields.String(load_default="id", validate=one_of(SORTS))


class LicenceInSchema(Schema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    issuer = fields.String(required=True, validate=validate.Length(min=1, max=200))
    issued_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)
    delivery = fields.String(required=True, validate=one_of(LICENCE_DELIVERY))
    basis = fields.String(required=True, validate=one_of(LICENCE_BASES))


@blp.route("/institutions")
class Institutions(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(InstitutionQuerySchema, location="query")
    @blp.response(200, page_of(InstitutionSchema))
    @require("supervisor")
    def get(self, args):
        """List institutions in your region"""
        filters = {k: args.get(k) for k in ("q", "uscc", "region", "category", "status")}
        return paginate(services.query(principal(), sort=args["sort"], **filters), args)

    @blp.doc(security=SECURITY)
    @blp.arguments(InstitutionInSchema)
    @blp.response(201, InstitutionSchema)
    @blp.alt_response(409, description="The USCC is registered already")
    @require("supervisor")
    def post(self, data):
        """Register an institution"""
        inst = services.register(principal(), data)
        db.session.commit()
        return with_etag(InstitutionSchema(), inst, 201)


@blp.route("/institutions/<int:institution_id>")
class InstitutionById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, InstitutionSchema)
    @require("supervisor")
    def get(self, institution_id):
        """One institution"""
        return with_etag(InstitutionSchema(), services.get(principal(), institution_id))

    @blp.doc(security=SECURITY)
    @blp.arguments(InstitutionPatchSchema)
    @blp.response(200, InstitutionSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    @require("supervisor")
    def patch(self, changes, institution_id):
        """Change an institution (honours If-Match)"""
        inst = services.get(principal(), institution_id)
        check_if_match(InstitutionSchema(), inst)
        services.update(principal(), inst, changes)
        db.session.commit()
        return with_etag(InstitutionSchema(), inst)


@blp.route("/institutions/<int:institution_id>/licences")
class InstitutionLicences(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(LicenceInSchema)
    @blp.response(201, LicenceSchema)
    @blp.alt_response(409, description="The licence number exists already")
    @blp.alt_response(422, description="Refused by the no-new-approvals policy "
                                       "(code no_new_approvals) or invalid fields")
    @require("supervisor")
    def post(self, data, institution_id):
        """Issue or import a licence"""
        inst = services.get(principal(), institution_id)
        lic = licence_service.issue(principal(), inst, data)
        db.session.commit()
        return with_etag(LicenceSchema(), lic, 201)
