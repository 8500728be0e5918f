"""White-list intervals, black-list entries and the decisions that lift them: append-only."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import JSONType, UTCDateTime, db, utcnow

REASON_CODES = ("unlicensed_operation", "illegal_fee_collection", "fled_with_fees",
                "safety_hazard", "repeated_breaches", "other")


class WhitelistInterval(db.Model):
    """One stretch of white-list membership, [listed_from, listed_until).

    An interval is added when an institution comes onto the list and closed (listed_until set,
    once) when it leaves; nothing else ever changes. `licensed_until` is the last day its
    licences covered when the interval opened: membership also ends with that date, so the
    list is right at midnight even before `registry lists refresh` writes the close.
    """

    __tablename__ = "whitelist_intervals"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"))
    listed_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    listed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    licensed_until: Mapped[date] = mapped_column(sa.Date)
    opened_by: Mapped[str] = mapped_column(sa.String(60))
    closed_by: Mapped[str | None] = mapped_column(sa.String(60))
    # the licence the white list shows while the interval is open (see `whitelist.shown`)
    licence_number: Mapped[str | None] = mapped_column(sa.String(60))
    licence_expires_on: Mapped[date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.Index("ix_whitelist_intervals_open", "listed_until", "institution_id"),
        sa.Index("ix_whitelist_intervals_institution", "institution_id", "listed_from"),
        sa.Index("ix_whitelist_intervals_listed", "institution_id",
                 postgresql_where=sa.text("listed_until IS NULL"),
                 sqlite_where=sa.text("listed_until IS NULL"),
                 postgresql_include=["licensed_until", "licence_number", "licence_expires_on"]),
    )


class BlacklistEntry(db.Model):
    """A decision to blacklist an institution, or an unlicensed operator known by name."""

    __tablename__ = "blacklist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"),
                                                       index=True)
    uscc: Mapped[str | None] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    address: Mapped[str] = mapped_column(sa.String(300))
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    reason_code: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[dict] = mapped_column(JSONType, default=dict)
    decided_by: Mapped[str] = mapped_column(sa.String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    lift: Mapped["BlacklistLift | None"] = relationship(lazy="selectin", uselist=False)

    @property
    def lifted_at(self) -> datetime | None:
        return self.lift.decided_at if self.lift else None

    @property
    def active(self) -> bool:
        return self.lift is None


class BlacklistLift(db.Model):
    """The decision that ends a black-list entry, with its reason."""

    __tablename__ = "blacklist_lifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("blacklist_entries.id"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    decided_by: Mapped[str] = mapped_column(sa.String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
