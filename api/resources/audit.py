import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from api.auth import SECURITY, require
from api.paging import paginate
from api.schemas import Instant, PageArgs, Schema, page_of
from registry.audit import AuditEvent

blp = Blueprint("audit", __name__, description="The audit log (admins)")


class AuditEventSchema(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    at = Instant()
    actor_name = fields.String()
    actor_role = fields.String()
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String()
    before = fields.Raw()
    after = fields.Raw()
    prev_hash = fields.String()
    hash = fields.String()


class AuditQuerySchema(PageArgs):
    entity_type = fields.String()
    entity_id = fields.String()
    action = fields.String()
    actor = fields.String()


@blp.route("/audit")
class Audit(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, page_of(AuditEventSchema))
    @require("admin")
    def get(self, args):
        """The audit log, newest first"""
        stmt = sa.select(AuditEvent).order_by(AuditEvent.seq.desc())
        for key, column in (("entity_type", AuditEvent.entity_type),
                            ("entity_id", AuditEvent.entity_id), ("action", AuditEvent.action),
                            ("actor", AuditEvent.actor_name)):
            if args.get(key):
                stmt = stmt.where(column == args[key])
        return paginate(stmt, args)
