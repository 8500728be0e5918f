"""Staff members. The resident ID number is stored encrypted, with a keyed hash to find the same
person across institutions and a masked copy for display; the plain number is never stored."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import JSONType, UTCDateTime, db, utcnow

ROLES = ("teacher", "staff")


class Staff(db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    id_number_encrypted: Mapped[str] = mapped_column(sa.Text)
    id_number_index: Mapped[str] = mapped_column(sa.String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(sa.String(18))
    role: Mapped[str] = mapped_column(sa.String(10))
    teacher_cert_no: Mapped[str | None] = mapped_column(sa.String(17))
    subjects: Mapped[list] = mapped_column(JSONType, default=list)
    in_service_school_teacher: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    nationality: Mapped[str] = mapped_column(sa.String(2), default="CN")
    located_abroad: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    full_time: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("institution_id", "id_number_index"),)

    @property
    def id_number(self) -> str:
        """Masked: the whole number never leaves the domain."""
        return self.id_number_masked

    @property
    def qualification(self) -> str | None:
        """教师资格证 when the teacher holds one (public: no number)."""
        return "教师资格证" if self.teacher_cert_no else None


AUDIT_EXCLUDE = ("id_number_encrypted", "id_number_index")
