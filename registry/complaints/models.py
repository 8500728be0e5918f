"""Complaints from the public, and their triage."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import JSONType, UTCDateTime, db, utcnow

CATEGORIES = ("unlicensed", "subject_training", "fees", "refund", "teacher", "safety", "other")
STATUSES = ("received", "investigating", "substantiated", "unfounded", "closed")


class Complaint(db.Model):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(24), unique=True)
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"),
                                                       index=True)
    uscc: Mapped[str | None] = mapped_column(sa.String(18))
    institution_name: Mapped[str | None] = mapped_column(sa.String(200))
    region_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)
    category: Mapped[str] = mapped_column(sa.String(30))
    description: Mapped[str] = mapped_column(sa.Text)
    contact_enc: Mapped[str | None] = mapped_column(sa.Text)  # personal data, encrypted
    status: Mapped[str] = mapped_column(sa.String(20), default="received", index=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
    breach_ids: Mapped[list] = mapped_column(JSONType, default=list)
    blacklist_entry_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("blacklist_entries.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
