"""The Flask-SQLAlchemy `db` and the column types every model shares."""

import contextvars
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, MappedAsDataclass  # noqa: F401

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(sa.types.TypeDecorator):
    """An instant: stored as naive UTC, always handed back aware (UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for an instant")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    from registry import clock

    return clock.now()


def is_postgres(session=None) -> bool:
    return (session or db.session).get_bind().dialect.name == "postgresql"


# Tables whose rows are reference data seeded by migrations (kept by the test cleaner).
REFERENCE_TABLES: set[str] = {"alembic_version"}


def snapshot(obj, exclude: tuple[str, ...] = ()) -> dict:
    """A row's columns as a plain dict (for the audit log's before/after)."""
    mapper = sa.inspect(obj).mapper
    return {a.key: getattr(obj, a.key) for a in mapper.column_attrs if a.key not in exclude}


# --- connection checks ------------------------------------------------------------------------
_ping = contextvars.ContextVar("ping", default=True)


def ping_on_checkout(engine: sa.Engine) -> None:
    """`pool_pre_ping`, except for the checkouts of `read_retrying`: a round trip before each
    checkout finds a connection the database closed (a restart, an idle timeout, a killed
    backend), and the pool replaces it before the request uses it."""
    dialect = engine.dialect

    @sa.event.listens_for(engine, "checkout")
    def ping(dbapi_connection, record, proxy):
        if not _ping.get():
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise sa.exc.DisconnectionError() from err  # the pool connects afresh
            raise


def read_retrying(read: Callable[[sa.Connection], object]):
    """`read(conn)` on an autocommit connection checked out without the ping, and once more
    if that connection proves dead: the failure marks every pooled connection as old as it for
    replacement, so the second try runs on a fresh connection. Only for reads (running one
    twice changes nothing); one that fails twice raises as the ping would have."""
    for attempt in (1, 2):
        token = _ping.set(False)
        try:
            conn = db.engine.connect()
        finally:
            _ping.reset(token)
        try:
            with conn.execution_options(isolation_level="AUTOCOMMIT"):
                return read(conn)
        except sa.exc.DBAPIError as err:
            if attempt == 2 or not err.connection_invalidated:
                raise
        finally:
            conn.close()
    raise AssertionError("unreachable")
