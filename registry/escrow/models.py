"""Custody of prepaid fees: banks, accounts, the ledger, alerts and the webhook outbox."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import JSONType, UTCDateTime, db, utcnow

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

INFLOWS = ("prepaid_income", "interest")
OUTFLOWS = ("release", "refund", "withdrawal", "fee")
KINDS = INFLOWS + OUTFLOWS
ALERT_KINDS = ("BALANCE_BELOW_MINIMUM", "LARGE_OUTFLOW", "RAPID_DRAIN", "BALANCE_MISMATCH",
               "PREPAID_OVER_CAP", "OUTFLOW_WHILE_BLACKLISTED")
DELIVERY_STATUSES = ("pending", "delivered", "dead")
EVENTS = ("escrow.alert",)


class Bank(db.Model):
    """A custodian bank and, for banks that do not push, where to pull its statements."""

    __tablename__ = "escrow_banks"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    statement_url: Mapped[str | None] = mapped_column(sa.String(500))
    auth_token: Mapped[str | None] = mapped_column(sa.Text)  # encrypted (registry.crypto)
    pull_cursor: Mapped[str | None] = mapped_column(sa.String(200))
    pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EscrowAccount(db.Model):
    __tablename__ = "escrow_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    bank_code: Mapped[str] = mapped_column(sa.String(40), index=True)
    account_number: Mapped[str] = mapped_column(sa.String(40))
    min_balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    large_outflow_threshold: Mapped[int | None] = mapped_column(sa.BigInteger)
    rapid_drain_window_hours: Mapped[int | None] = mapped_column(sa.Integer)
    rapid_drain_max_share_percent: Mapped[int | None] = mapped_column(sa.Integer)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    balance_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    txn_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("bank_code", "account_number",
                                          name="uq_escrow_accounts_bank_number"),)


class EscrowTransaction(db.Model):
    """One movement reported by the bank; `delta` is signed (outflows negative)."""

    __tablename__ = "escrow_transactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("escrow_accounts.id"))
    bank_code: Mapped[str] = mapped_column(sa.String(40))
    bank_txn_id: Mapped[str] = mapped_column(sa.String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    delta: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int | None] = mapped_column(sa.BigInteger)
    student_ref: Mapped[str | None] = mapped_column(sa.String(64))
    covers_lessons: Mapped[int | None] = mapped_column(sa.Integer)
    covers_until: Mapped[date | None] = mapped_column(sa.Date)
    digest: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("bank_code", "bank_txn_id", name="uq_escrow_transactions_bank_txn"),
        sa.Index("ix_escrow_transactions_account_time", "account_id", "occurred_at"),
    )


class AlertState(db.Model):
    """Whether an alert condition holds on an account now (alerts fire on its edges)."""

    __tablename__ = "escrow_alert_states"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("escrow_accounts.id"),
                                            primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(db.Model):
    """An alert; its id is its feed position (ids are committed in order, see alerts.py)."""

    __tablename__ = "escrow_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    severity: Mapped[str] = mapped_column(sa.String(10))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("escrow_accounts.id"), index=True)
    account_number: Mapped[str] = mapped_column(sa.String(40))
    bank_code: Mapped[str] = mapped_column(sa.String(40), index=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    uscc: Mapped[str] = mapped_column(sa.String(18))
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(100))


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(100), index=True)  # token name
    role: Mapped[str] = mapped_column(sa.String(20))
    bank_code: Mapped[str | None] = mapped_column(sa.String(40))
    region_code: Mapped[str | None] = mapped_column(sa.String(6))
    url: Mapped[str] = mapped_column(sa.String(500))
    events: Mapped[list] = mapped_column(JSONType, default=list)
    secret: Mapped[str] = mapped_column(sa.Text)  # encrypted (registry.crypto)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """The outbox: one event for one subscriber, written with the alert, sent at least once."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_subscriptions.id"),
                                                 index=True)
    event_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    body: Mapped[str] = mapped_column(sa.Text)  # the exact bytes signed and sent
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)
