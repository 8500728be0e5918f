from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import paginate
from api.schemas import Instant, PageArgs, Schema, one_of, page_of
from registry.db import db
from registry.escrow import webhooks as service
from registry.escrow.models import DELIVERY_STATUSES, EVENTS

blp = Blueprint("webhooks", __name__, description="Webhooks: alerts pushed to your URL, signed "
                "with X-Registry-Signature: sha256=<hex HMAC-SHA256 of the raw body>")


class WebhookInSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=500))
    events = fields.List(fields.String(validate=one_of(EVENTS)), required=True,
                         validate=validate.Length(min=1, max=len(EVENTS)))
    secret = fields.String(load_only=True, validate=validate.Length(min=16, max=200), metadata={
        "description": "your signing secret; omit it and one is generated"})


class WebhookSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    created_at = Instant()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "shown once: verify signatures with it"})


class DeliveryQuerySchema(PageArgs):
    status = fields.String(validate=one_of(DELIVERY_STATUSES))


class DeliverySchema(Schema):
    id = fields.Integer()
    subscription_id = fields.Integer()
    event_id = fields.String()
    event = fields.String()
    status = fields.String(metadata={"description": "pending | delivered | dead"})
    attempts = fields.Integer()
    next_attempt_at = Instant()
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = Instant()
    delivered_at = Instant(allow_none=True)


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(WebhookSchema))
    @require("supervisor", "bank")
    def get(self, args):
        """Your webhook subscriptions"""
        return paginate(service.owned(principal()), args)

    @blp.doc(security=SECURITY)
    @blp.arguments(WebhookInSchema)
    @blp.response(201, WebhookCreatedSchema)
    @require("supervisor", "bank")
    def post(self, data):
        """Subscribe a URL to events; the response carries the signing secret"""
        sub, secret = service.subscribe(principal(), data["url"], data["events"],
                                        data.get("secret"))
        db.session.commit()
        return {"id": sub.id, "url": sub.url, "events": sub.events, "active": sub.active,
                "created_at": sub.created_at, "secret": secret}


@blp.route("/webhooks/<int:webhook_id>")
class WebhookById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, WebhookSchema)
    @require("supervisor", "bank")
    def get(self, webhook_id):
        """One subscription"""
        return service.get(principal(), webhook_id)

    @blp.doc(security=SECURITY)
    @blp.response(204)
    @require("supervisor", "bank")
    def delete(self, webhook_id):
        """Unsubscribe (pending deliveries become dead letters)"""
        service.unsubscribe(principal(), webhook_id)
        db.session.commit()


@blp.route("/webhooks/deliveries")
class Deliveries(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, page_of(DeliverySchema))
    @require("supervisor", "bank")
    def get(self, args):
        """Deliveries to your URLs; `status=dead` lists the dead letters"""
        return paginate(service.deliveries(principal(), args.get("status")), args)


@blp.route("/webhooks/deliveries/<int:delivery_id>/retry")
class DeliveryRetry(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DeliverySchema)
    @require("supervisor", "bank")
    def post(self, delivery_id):
        """Queue a dead letter again"""
        row = service.retry(principal(), delivery_id)
        db.session.commit()
        return row
