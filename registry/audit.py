"""The audit log: every write appends an event whose hash chains to the one before."""

import contextvars
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.access import SYSTEM, Principal
from registry.db import JSONType, UTCDateTime, db, is_postgres, utcnow

_actor: contextvars.ContextVar[Principal] = contextvars.ContextVar("actor", default=SYSTEM)
_CHAIN_LOCK = 0x4155444954  # pg advisory lock key: one writer extends the chain at a time
GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_name: Mapped[str] = mapped_column(sa.String(100))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(60))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)


@contextmanager
def acting_as(principal: Principal) -> Iterator[None]:
    token = _actor.set(principal)
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(principal: Principal) -> None:
    _actor.set(principal)


def current_actor() -> Principal:
    return _actor.get()


def record(action: str, entity_type: str, entity_id, before: dict | None = None,
           after: dict | None = None) -> AuditEvent:
    """Append one event in the caller's transaction. Personal data must be masked by the caller."""
    session = db.session
    if is_postgres(session):
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    last = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    actor = current_actor()
    event = AuditEvent(
        seq=seq, at=utcnow(), actor_name=actor.name, actor_role=actor.role, action=action,
        entity_type=entity_type, entity_id=None if entity_id is None else str(entity_id),
        before=_plain(before), after=_plain(after), prev_hash=prev,
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


def _plain(value):
    """JSON-safe copy: dates and instants as ISO strings."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_iso, ensure_ascii=False))


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _digest(event: AuditEvent) -> str:
    body = json.dumps(
        [event.seq, event.prev_hash, event.at.isoformat(timespec="microseconds"),
         event.actor_name, event.actor_role, event.action, event.entity_type, event.entity_id,
         event.before, event.after],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS


def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first event edited, deleted or reordered."""
    prev, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    while True:
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return VerifyResult(True, checked, head_seq=last_seq, head_hash=prev)
        for event in rows:
            if event.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq,
                                    f"event {expected_seq} is missing (next is {event.seq})")
            if event.prev_hash != prev:
                return VerifyResult(False, checked, event.seq,
                                    f"event {event.seq} does not follow the event before it")
            if _digest(event) != event.hash:
                return VerifyResult(False, checked, event.seq,
                                    f"event {event.seq} was altered after it was written")
            prev, expected_seq, last_seq = event.hash, event.seq + 1, event.seq
            checked += 1
        db.session.expunge_all()


def check_anchor(result: VerifyResult, seq: int, digest: str) -> VerifyResult:
    """The chain cannot show events cut off its end; an anchor noted earlier (seq and hash of
    the head then) can: that event must still be there with the same hash."""
    if not result.ok:
        return result
    if seq > result.head_seq:
        return VerifyResult(False, result.checked, result.head_seq + 1,
                            f"the log ends at event {result.head_seq}, before the anchor "
                            f"{seq}: events were deleted from its end",
                            result.head_seq, result.head_hash)
    found = db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == seq))
    if found != digest:
        return VerifyResult(False, result.checked, seq,
                            f"event {seq} does not have the anchored hash",
                            result.head_seq, result.head_hash)
    return result
