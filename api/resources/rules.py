from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import paginate, with_etag
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry.db import db
from registry.rules import catalogue, engine  # noqa: F401  (engine wires the listeners)
from registry.rules.models import SEVERITIES

blp = Blueprint("rules", __name__, description="The rule catalogue and regional overrides")


class OverrideSchema(Schema):
    region_code = fields.String()
    params = fields.Dict()
    enabled = fields.Boolean(allow_none=True)


class RuleSchema(Schema):
    code = fields.String()
    title = fields.String()
    description = fields.String()
    group = fields.String()
    severity = fields.String()
    enabled = fields.Boolean()
    params = fields.Dict()
    overrides = fields.Method("_overrides")
    params_in_region = fields.Dict(metadata={
        "description": "with ?region=: the parameters in force there (most specific wins)"})
    updated_at = Instant()

    def _overrides(self, rule):
        return OverrideSchema(many=True).dump(catalogue.overrides_of(rule.code))


class RuleQuerySchema(PageArgs):
    region = fields.String(validate=validate.Regexp(r"^\d{6}$"))
    group = fields.String()


class OverrideInSchema(Schema):
    region_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))
    params = fields.Dict(load_default=dict)
    enabled = fields.Boolean(allow_none=True)
    remove = fields.Boolean(load_default=False)


class RulePatchSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(min=1, max=4000))
    severity = fields.String(validate=one_of(SEVERITIES))
    enabled = fields.Boolean()
    params = fields.Dict(metadata={"description": "keys to change; unknown keys are refused"})
    overrides = fields.List(fields.Nested(OverrideInSchema), metadata={
        "description": "regional overrides to set (merged) or remove, by region code"})


def _with_region(rule, region):
    if region:
        rule.params_in_region = catalogue.params(rule.code, region)
    return rule


@blp.route("/rules")
class Rules(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(RuleQuerySchema, location="query")
    @blp.response(200, page_of(RuleSchema))
    @require("supervisor")
    def get(self, args):
        """The rule catalogue with parameters and regional overrides"""
        stmt = catalogue.all_rules()
        if args.get("group"):
            from registry.rules.models import Rule

            stmt = stmt.where(Rule.group == args["group"])
        page = paginate(stmt, args)
        page["items"] = [_with_region(r, args.get("region")) for r in page["items"]]
        return page


@blp.route("/rules/<code>")
class RuleByCode(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(RuleQuerySchema(only=("region",)), location="query")
    @blp.response(200, RuleSchema)
    @require("supervisor")
    def get(self, args, code):
        """One rule"""
        return _with_region(catalogue.rule(code), args.get("region"))

    @blp.doc(security=SECURITY)
    @blp.arguments(RulePatchSchema)
    @blp.response(200, RuleSchema)
    @require("admin")
    def patch(self, changes, code):
        """Change a rule or its regional overrides (admin; audited; marks data for rescan)"""
        principal()
        found = catalogue.update(code, changes)
        db.session.commit()
        return with_etag(RuleSchema(), found)
