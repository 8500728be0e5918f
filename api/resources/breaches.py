from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import check_if_match, paginate, with_etag
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry.db import db
from registry.rules import breaches as service
from registry.rules.models import BREACH_STATUSES, SEVERITIES

blp = Blueprint("breaches", __name__, description="Breaches of the rules and their lifecycle")


class FoundBreachSchema(Schema):
    """A breach as found by a check: stored ones carry `id` and `status`."""

    id = fields.Integer()
    status = fields.String()
    rule = fields.String(metadata={"description": "the rule code (domain.md)"})
    severity = fields.String()
    message = fields.String(metadata={"description": "a sentence in Chinese"})
    course_id = fields.Integer(allow_none=True)
    session_id = fields.Integer()
    session_index = fields.Integer(metadata={"description": "index in the batch or dry run"})
    staff_id = fields.Integer(allow_none=True)
    details = fields.Dict(allow_none=True)


class BreachEventSchema(Schema):
    from_status = fields.String()
    to_status = fields.String()
    note = fields.String()
    actor = fields.String()
    at = Instant()


class BreachSchema(Schema):
    id = fields.Integer()
    rule = fields.String()
    severity = fields.String()
    message = fields.String()
    status = fields.String()
    institution_id = fields.Integer(allow_none=True)
    region_code = fields.String(allow_none=True)
    course_id = fields.Integer(allow_none=True)
    session_id = fields.Integer(allow_none=True)
    staff_id = fields.Integer(allow_none=True)
    account_id = fields.Integer(allow_none=True)
    details = fields.Dict(allow_none=True)
    detected_at = Instant()
    updated_at = Instant()


class BreachDetailSchema(BreachSchema):
    history = fields.Method("_history")

    def _history(self, breach):
        return BreachEventSchema(many=True).dump(service.history(breach))


class BreachQuerySchema(PageArgs):
    institution_id = fields.Integer()
    rule = fields.String()
    status = fields.String(validate=one_of(BREACH_STATUSES))
    severity = fields.String(validate=one_of(SEVERITIES))
    region = fields.String(validate=validate.Regexp(r"^\d{2,6}$"))
    course_id = fields.Integer()
    session_id = fields.Integer()
    staff_id = fields.Integer()


class BreachPatchSchema(Schema):
    status = fields.String(required=True, validate=one_of(BREACH_STATUSES))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


@blp.route("/breaches")
class Breaches(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(BreachQuerySchema, location="query")
    @blp.response(200, page_of(BreachSchema))
    @require("supervisor")
    def get(self, args):
        """List breaches in your region, newest first"""
        filters = {k: args.get(k) for k in ("institution_id", "rule", "status", "region",
                                            "course_id", "session_id", "staff_id", "severity")}
        return paginate(service.query(principal(), **filters), args)


@blp.route("/breaches/<int:breach_id>")
class BreachById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, BreachDetailSchema)
    @require("supervisor")
    def get(self, breach_id):
        """One breach with the history of its status"""
        return with_etag(BreachSchema(), service.get(principal(), breach_id))

    @blp.doc(security=SECURITY)
    @blp.arguments(BreachPatchSchema)
    @blp.response(200, BreachDetailSchema)
    @blp.alt_response(409, description="Not allowed from the breach's current status")
    @blp.alt_response(412, description="If-Match names a stale version")
    @require("supervisor")
    def patch(self, data, breach_id):
        """Confirm, dismiss, resolve or reopen a breach, with a note"""
        breach = service.get(principal(), breach_id)
        check_if_match(BreachSchema(), breach)
        service.change_status(principal(), breach, data["status"], data["note"])
        db.session.commit()
        return with_etag(BreachSchema(), breach)
