"""API tokens: who may call, in which role and scope. Only a hash of a token is stored."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry import regions
from registry.db import UTCDateTime, db, utcnow
from registry.errors import Conflict, Forbidden, Invalid, NotFound

ROLES = ("admin", "supervisor", "bank")


class Token(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    region_code: Mapped[str | None] = mapped_column(sa.String(6))
    bank_code: Mapped[str | None] = mapped_column(sa.String(40))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Principal:
    """The caller of a request or command, as the domain sees it."""

    name: str
    role: str
    region_code: str | None = None
    bank_code: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def covers(self, region_code: str | None) -> bool:
        if self.role == "admin":
            return True
        if self.role != "supervisor" or not region_code or not self.region_code:
            return False
        return regions.covers(self.region_code, region_code)

    @property
    def region_prefix(self) -> str | None:
        """The region-code prefix a supervisor's queries are limited to; None for no limit."""
        if self.role == "admin":
            return None
        return regions.prefix(self.region_code) if self.region_code else "\x00"


SYSTEM = Principal(name="system", role="admin")


def check_scope(actor: Principal, region_code: str | None) -> None:
    """403 unless the actor's region covers `region_code`."""
    if not actor.covers(region_code):
        raise Forbidden(f"region {region_code} is outside your scope", code="out_of_scope")


def get_in_scope(actor: Principal, model, row_id: int, noun: str):
    """A row by id that carries a `region_code`: 404 when missing, 403 outside the scope."""
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(f"no {noun} {row_id}")
    check_scope(actor, row.region_code)
    return row


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(name: str, role: str, region_code: str | None = None,
           bank_code: str | None = None) -> tuple[Token, str]:
    """Make a token; returns the row and the secret, which is shown once and never stored."""
    if role not in ROLES:
        raise Invalid("role", f"role must be one of {', '.join(ROLES)}")
    if role == "supervisor" and not (region_code and regions.exists(region_code)):
        raise Invalid("region", "a supervisor needs an existing region code")
    if role == "bank" and not bank_code:
        raise Invalid("bank", "a bank token needs a bank code")
    if db.session.scalar(sa.select(Token.id).where(Token.name == name)):
        raise Conflict(f"a token named {name!r} exists already", code="duplicate")
    raw = "rgt_" + secrets.token_urlsafe(32)
    token = Token(name=name, role=role, region_code=region_code if role == "supervisor" else None,
                  bank_code=bank_code if role == "bank" else None, token_hash=_hash(raw))
    db.session.add(token)
    db.session.flush()
    return token, raw


def revoke(name: str) -> Token:
    token = db.session.scalar(sa.select(Token).where(Token.name == name))
    if token is None:
        raise NotFound(f"no token named {name!r}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def authenticate(raw: str) -> Principal | None:
    token = db.session.scalar(
        sa.select(Token).where(Token.token_hash == _hash(raw), Token.revoked_at.is_(None)))
    if token is None:
        return None
    return Principal(token.name, token.role, token.region_code, token.bank_code)
