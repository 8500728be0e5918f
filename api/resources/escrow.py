from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from api.auth import SECURITY, principal, require
from api.paging import paginate
from api.schemas import FeedArgs, Instant, Money, PageArgs, Schema, feed_of, page_of
from registry.db import db
from registry.escrow import accounts, alerts, ledger, mask_account
from registry.escrow.models import ALERT_KINDS, KINDS

blp = Blueprint("escrow", __name__, description="Custody of prepaid fees: accounts, "
                "bank statements and alerts")


def _number(obj):
    """Banks see their own full account numbers; everyone else sees them masked."""
    if accounts.shows_full_number(principal(), obj):
        return obj.account_number
    return mask_account(obj.account_number)


class AccountInSchema(Schema):
    institution_id = fields.Integer(required=True, validate=validate.Range(min=1))
    bank_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    account_number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    min_balance = Money(required=True)
    large_outflow_threshold = Money(allow_none=True, positive=True, metadata={
        "description": "a single outflow at or above it alerts; null: the region's threshold"})
    rapid_drain_window_hours = fields.Integer(allow_none=True,
                                              validate=validate.Range(min=1, max=24 * 90))
    rapid_drain_max_share_percent = fields.Integer(allow_none=True,
                                                   validate=validate.Range(min=1, max=100))


class AccountPatchSchema(AccountInSchema):
    def __init__(self, **kwargs):
        super().__init__(partial=True, exclude=("institution_id", "bank_code", "account_number"),
                         **kwargs)


class AccountSchema(AccountInSchema):
    id = fields.Integer(dump_only=True)
    account_number = fields.Function(_number, dump_only=True)
    region_code = fields.String(dump_only=True)
    balance = Money(dump_only=True, allow_negative=True)
    balance_as_of = Instant(dump_only=True)
    txn_count = fields.Integer(dump_only=True)
    created_at = Instant(dump_only=True)


class AccountQuerySchema(PageArgs):
    institution_id = fields.Integer()


class Movements(fields.List):
    """A list of objects passed through as decoded: the ledger checks every field of every
    item and names it, so copying each of up to 10,000 dicts here would only cost time."""

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list and all(type(item) is dict for item in value):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class StatementSchema(Schema):
    account_number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    transactions = Movements(fields.Dict(), required=True, validate=validate.Length(
        min=1, max=ledger.MAX_BATCH), metadata={
        "description": "up to 10,000 movements, all or nothing; each has bank_txn_id, "
        "occurred_at, kind, amount (positive yuan string), and optionally balance_after, "
        "student_ref, covers_lessons, covers_until; kind is one of "
        + ", ".join(KINDS) + "; occurred_at is ISO 8601 (no offset: +08:00)"})


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(ALERT_KINDS)})
    severity = fields.String()
    account_number = fields.Function(_number)
    bank_code = fields.String()
    institution_id = fields.Integer()
    uscc = fields.String()
    created_at = Instant()
    details = fields.Dict()
    acknowledged_at = Instant(allow_none=True)
    account_id = fields.Integer()
    region_code = fields.String()
    acknowledged_by = fields.String(allow_none=True)


class StatementResultSchema(Schema):
    accepted = fields.Integer(metadata={"description": "new transactions applied"})
    duplicates = fields.Integer(metadata={"description": "replayed transactions ignored"})
    duplicate_ids = fields.List(fields.String())
    balance = Money(allow_negative=True)
    balance_as_of = Instant()
    alerts = fields.List(fields.Nested(AlertSchema))


class AlertQuerySchema(FeedArgs):
    pass


@blp.route("/escrow/accounts")
class Accounts(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(AccountQuerySchema, location="query")
    @blp.response(200, page_of(AccountSchema))
    @require("supervisor", "bank")
    def get(self, args):
        """Custody accounts you may see"""
        stmt = accounts.visible(principal())
        if args.get("institution_id"):
            stmt = stmt.where(accounts.EscrowAccount.institution_id == args["institution_id"])
        return paginate(stmt.order_by(accounts.EscrowAccount.id), args)

    @blp.doc(security=SECURITY)
    @blp.arguments(AccountInSchema)
    @blp.response(201, AccountSchema)
    @blp.alt_response(409, description="The account is registered already")
    @require("supervisor", "bank")
    def post(self, data):
        """Register a custody account (a bank only at its own bank code)"""
        account = accounts.open_account(principal(), data)
        db.session.commit()
        return account


@blp.route("/escrow/accounts/<int:account_id>")
class AccountById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, AccountSchema)
    @require("supervisor", "bank")
    def get(self, account_id):
        """One custody account with its balance"""
        return accounts.get(principal(), account_id)

    @blp.doc(security=SECURITY)
    @blp.arguments(AccountPatchSchema)
    @blp.response(200, AccountSchema)
    @require("supervisor", "bank")
    def patch(self, changes, account_id):
        """Set the account's own thresholds (null falls back to the region's)"""
        account = accounts.update(principal(), accounts.get(principal(), account_id), changes)
        db.session.commit()
        return account


@blp.route("/escrow/statements")
class Statements(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(StatementSchema)
    @blp.response(200, StatementResultSchema)
    @blp.alt_response(409, description="A bank_txn_id was reported before with other content "
                                       "(code bank_txn_id_reused); nothing is stored")
    @blp.alt_response(422, description="Invalid fields, named; nothing is stored")
    @require("bank")
    def post(self, data):
        """Report movements on a custody account (idempotent on bank_txn_id)"""
        result = ledger.ingest(principal(), data["account_number"], data["transactions"])
        body = {"accepted": result.accepted, "duplicates": result.duplicates,
                "duplicate_ids": result.duplicate_ids, "balance": result.account.balance,
                "balance_as_of": result.account.balance_as_of, "alerts": result.alerts}
        db.session.commit()  # read first: the commit expires the account (a query to reread)
        return body


@blp.route("/escrow/alerts")
class Alerts(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(AlertQuerySchema, location="query")
    @blp.response(200, feed_of(AlertSchema))
    @require("supervisor", "bank")
    def get(self, args):
        """The alert feed: store `next_after` and ask again; nothing is missed or repeated"""
        items, next_after = alerts.feed(principal(), args["after"], args["limit"])
        return {"items": items, "next_after": next_after}


@blp.route("/escrow/alerts/<int:alert_id>")
class AlertById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, AlertSchema)
    @require("supervisor", "bank")
    def get(self, alert_id):
        """One alert"""
        return alerts.get(principal(), alert_id)


@blp.route("/escrow/alerts/<int:alert_id>/ack")
class AlertAck(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, AlertSchema)
    @require("supervisor", "bank")
    def post(self, alert_id):
        """Acknowledge an alert (again: no change)"""
        alert = alerts.acknowledge(principal(), alert_id)
        db.session.commit()
        return alert
