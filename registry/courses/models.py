"""A filed course (备案) and its timetable of sessions."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db, utcnow

SUBJECT_BASED = ("morality_law", "chinese", "history", "geography", "math", "foreign_language",
                 "physics", "chemistry", "biology")
NON_SUBJECT = ("sports", "arts", "science", "comprehensive", "other")
SUBJECTS = SUBJECT_BASED + NON_SUBJECT
COURSE_AUDIENCES = ("preschool", "primary", "junior", "senior")
COURSE_DELIVERY = ("offline", "online")
CLASS_SIZES = ("small", "medium", "large")
BATCH_LIMIT = 5000

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(20))
    audience: Mapped[str] = mapped_column(sa.String(10))
    delivery: Mapped[str] = mapped_column(sa.String(10))
    lesson_minutes: Mapped[int] = mapped_column(sa.Integer)
    price_per_lesson: Mapped[int] = mapped_column(sa.BigInteger)  # fen
    class_size: Mapped[str] = mapped_column(sa.String(10))
    lessons_total: Mapped[int] = mapped_column(sa.Integer)
    # set when a rule or calendar change may change its breaches; cleared by re-evaluation
    stale: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def subject_based(self) -> bool:
        return self.subject in SUBJECT_BASED


class CourseSession(db.Model):
    """One lesson of a course's timetable."""

    __tablename__ = "course_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"))
    teacher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_course_sessions_course_start", "course_id", "starts_at"),)
