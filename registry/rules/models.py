"""The rule catalogue (data, with regional overrides) and the breaches found."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import REFERENCE_TABLES, JSONType, UTCDateTime, db, utcnow

SEVERITIES = ("low", "medium", "high", "critical")
BREACH_STATUSES = ("open", "confirmed", "dismissed", "resolved")


class Rule(db.Model):
    __tablename__ = "rules"

    code: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    group: Mapped[str] = mapped_column(sa.String(30))
    severity: Mapped[str] = mapped_column(sa.String(10))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RuleOverride(db.Model):
    """Parameters for one region and every region under it; the most specific region wins."""

    __tablename__ = "rule_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_code: Mapped[str] = mapped_column(sa.ForeignKey("rules.code"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool | None] = mapped_column(sa.Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("rule_code", "region_code"),)


class Breach(db.Model):
    """One rule broken by one thing (a session, a course, a staff member, an account...)."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(sa.String(60), index=True)
    severity: Mapped[str] = mapped_column(sa.String(10))
    message: Mapped[str] = mapped_column(sa.Text)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"),
                                                       index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    course_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    session_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    staff_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    account_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    details: Mapped[dict | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(12), default="open", index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BreachEvent(db.Model):
    """One status change of a breach, with its note: append-only history."""

    __tablename__ = "breach_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    breach_id: Mapped[int] = mapped_column(sa.ForeignKey("breaches.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str] = mapped_column(sa.String(12))
    note: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


REFERENCE_TABLES.update({"rules", "rule_overrides"})
