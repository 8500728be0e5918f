"""Institutions and their licences."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry import clock
from registry.db import JSONType, UTCDateTime, db, utcnow

CATEGORIES = ("subject", "non_subject")
NON_SUBJECT_TYPES = ("sports", "arts", "science", "comprehensive", "other")
AUDIENCES = ("preschool", "primary", "junior", "senior")
COMPULSORY = ("primary", "junior")
INSTITUTION_DELIVERY = ("offline", "online", "blended")
LEGAL_FORMS = ("nonprofit", "for_profit")
INSTITUTION_STATUSES = ("active", "suspended", "closed")

LICENCE_DELIVERY = ("offline", "online")
LICENCE_BASES = ("new", "renewal", "conversion", "import")
LICENCE_STATES = ("active", "suspended", "revoked")
LICENCE_STATUSES = ("active", "suspended", "revoked", "expired")


class Institution(db.Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    category: Mapped[str] = mapped_column(sa.String(20), index=True)
    non_subject_type: Mapped[str | None] = mapped_column(sa.String(20))
    audiences: Mapped[list] = mapped_column(JSONType, default=list)
    delivery: Mapped[str] = mapped_column(sa.String(10))
    legal_form: Mapped[str] = mapped_column(sa.String(20))
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    address: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(20), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    licences: Mapped[list["Licence"]] = relationship(
        back_populates="institution", order_by="Licence.id", lazy="selectin")

    # name search ("contains") served by a trigram index on PostgreSQL, and for 1-2 character
    # patterns, which have no trigram, by an index of the name's characters (plain on SQLite)
    __table_args__ = (sa.Index("ix_institutions_name_trgm", "name", postgresql_using="gin",
                               postgresql_ops={"name": "gin_trgm_ops"}),
                      sa.Index("ix_institutions_name_chars",
                               sa.func.string_to_array(sa.text("name"), sa.null()),
                               postgresql_using="gin"))

    @property
    def serves_compulsory(self) -> bool:
        return any(a in COMPULSORY for a in self.audiences or ())


class Licence(db.Model):
    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    issuer: Mapped[str] = mapped_column(sa.String(200))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    expires_on: Mapped[date] = mapped_column(sa.Date, index=True)
    delivery: Mapped[str] = mapped_column(sa.String(10))
    basis: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[str] = mapped_column(sa.String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    institution: Mapped[Institution] = relationship(back_populates="licences")
    # Loaded only where the history is shown (one licence, or licences.query's selectinload).
    events: Mapped[list["LicenceEvent"]] = relationship(
        order_by="LicenceEvent.id", cascade="all, delete-orphan")

    def status_on(self, day: date) -> str:
        """active | suspended | revoked | expired, on a given date (revoked is final)."""
        if self.state == "revoked":
            return "revoked"
        if self.expires_on < day:
            return "expired"
        return self.state

    @property
    def status(self) -> str:
        return self.status_on(clock.today())

    def valid_on(self, day: date) -> bool:
        return self.state == "active" and self.issued_on <= day <= self.expires_on


class LicenceEvent(db.Model):
    """One row per lifecycle step of a licence: append-only history."""

    __tablename__ = "licence_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(sa.ForeignKey("licences.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    from_state: Mapped[str | None] = mapped_column(sa.String(20))
    to_state: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(100))
