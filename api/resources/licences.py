from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from api.auth import SECURITY, principal, require
from api.paging import check_if_match, paginate, with_etag
from api.schemas import Instant, PageArgs, ReasonSchema, Schema, one_of, page_of
from registry.db import db
from registry.institutions import licences as service
from registry.institutions.models import LICENCE_STATUSES

blp = Blueprint("licences", __name__, description="Licences and their lifecycle")


class LicenceEventSchema(Schema):
    action = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    reason = fields.String()
    expires_on = fields.Date()
    at = Instant()
    actor = fields.String()


class LicenceSchema(Schema):
    id = fields.Integer()
    institution_id = fields.Integer()
    number = fields.String()
    issuer = fields.String()
    issued_on = fields.Date()
    expires_on = fields.Date()
    delivery = fields.String()
    basis = fields.String()
    status = fields.String(metadata={"description": "active | suspended | revoked | expired"})
    history = fields.List(fields.Nested(LicenceEventSchema), attribute="events")


class RenewSchema(Schema):
    expires_on = fields.Date(metadata={"description": "the new expiry date; or give term_months"})
    term_months = fields.Integer(
        validate=validate.Range(min=1, max=600),
        metadata={"description": "the new term in months, counted from the later of today and "
                                 "the old expiry"})
    reason = fields.String(validate=validate.Length(max=2000))

    @validates_schema
    def one_of_date_or_term(self, data, **kwargs):
        if ("expires_on" in data) == ("term_months" in data):
            raise ValidationError("Give either expires_on or term_months.", "expires_on")


class LicenceQuerySchema(PageArgs):
    institution_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=one_of(LICENCE_STATUSES),
                           metadata={"description": "judged on today's date (Asia/Shanghai)"})


@blp.route("/licences")
class Licences(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(LicenceQuerySchema, location="query")
    @blp.response(200, page_of(LicenceSchema))
    @require("supervisor")
    def get(self, args):
        """List licences in your region, by institution and status"""
        stmt = service.query(principal(), institution_id=args.get("institution_id"),
                             status=args.get("status"))
        return paginate(stmt, args)


@blp.route("/licences/<int:licence_id>")
class LicenceById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, LicenceSchema)
    @require("supervisor")
    def get(self, licence_id):
        """One licence with its history"""
        return with_etag(LicenceSchema(), service.get(principal(), licence_id))


def _transition_view(action: str, summary: str):
    @blp.doc(security=SECURITY, summary=summary)
    @blp.arguments(ReasonSchema)
    @blp.response(200, LicenceSchema)
    @blp.alt_response(409, description="Not allowed from the licence's current state")
    @blp.alt_response(412, description="If-Match names a stale version")
    @require("supervisor")
    def post(self, data, licence_id):
        lic = service.get(principal(), licence_id)
        check_if_match(LicenceSchema(), lic)
        service.transition(lic, action, data["reason"])
        db.session.commit()
        return with_etag(LicenceSchema(), lic)

    return type(f"Licence{action.title()}", (MethodView,), {"post": post})


for _action, _summary in (("suspend", "Suspend a licence"), ("reinstate", "Reinstate a licence"),
                          ("revoke", "Revoke a licence (final)")):
    blp.route(f"/licences/<int:licence_id>/{_action}")(_transition_view(_action, _summary))


@blp.route("/licences/<int:licence_id>/renew")
class LicenceRenew(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(RenewSchema)
    @blp.response(200, LicenceSchema)
    @blp.alt_response(409, description="A revoked licence cannot be renewed")
    @blp.alt_response(412, description="If-Match names a stale version")
    @require("supervisor")
    def post(self, data, licence_id):
        """Renew a licence: the new term runs from the later of today and the old expiry"""
        lic = service.get(principal(), licence_id)
        check_if_match(LicenceSchema(), lic)
        service.renew(lic, data.get("expires_on"), data.get("reason"),
                      term_months=data.get("term_months"))
        db.session.commit()
        return with_etag(LicenceSchema(), lic)
