"""Fixtures: app -> client -> db. The schema is built through the migrations.

SQLite by default; with TEST_DATABASE_URL set, a fresh PostgreSQL database is created on that
server for this run (one per xdist worker) and dropped afterwards.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

from registry import clock, migrate
from registry.db import REFERENCE_TABLES, db
from tests import factories


def _postgres_database(base_url: str):
    url = sa.make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"registry_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """Tests marked `postgres` (row locks, commit order, plans) skip on SQLite, saying why."""
    marker = request.node.get_closest_marker("postgres")
    if marker is not None and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip(f"{marker.kwargs.get('reason', 'needs PostgreSQL')} (set TEST_DATABASE_URL)")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'registry.sqlite3'}"
        return
    url, drop = _postgres_database(base)
    yield url
    drop()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from api.app import create_app

    instance = tmp_path_factory.mktemp("instance")
    os.environ["REGISTRY_INSTANCE"] = str(instance)
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    with application.app_context():
        migrate.upgrade(db.engine)
        application.extensions["reference_rows"] = _snapshot_reference()
        yield application
        db.session.remove()
        db.engine.dispose()


def _snapshot_reference() -> dict:
    rows = {}
    for table in db.metadata.sorted_tables:  # parents before children, for the restore
        if table.name not in REFERENCE_TABLES or table.name == "alembic_version":
            continue
        rows[table.name] = [dict(r._mapping) for r in db.session.execute(sa.select(table))]
    return rows


def _reset(app) -> None:
    db.session.rollback()
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "alembic_version"]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(t.delete())
            if conn.execute(sa.text(
                    "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first():
                conn.execute(sa.text("DELETE FROM sqlite_sequence"))
        for name, rows in app.extensions["reference_rows"].items():
            if rows:
                conn.execute(db.metadata.tables[name].insert(), rows)
                if conn.dialect.name == "postgresql" and "id" in db.metadata.tables[name].c:
                    # RESTART IDENTITY set the sequence back to 1; move it past the rows put back
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM \"{name}\"))"))


@pytest.fixture(autouse=True)
def _clean(request):
    """Every test starts from the migrated schema with only its reference data."""
    yield
    clock.freeze(None)
    if "app" in request.fixturenames:
        _reset(request.getfixturevalue("app"))  # in the app context the `app` fixture pushed
        from api.extensions import limiter

        limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    """The database session, for tests that look behind the API."""
    return db.session


@pytest.fixture
def admin(app):
    return factories.auth(factories.token("admin", name="admin"))


@pytest.fixture
def supervisor(app):
    """A supervisor of Hangzhou (330100), which covers Xihu district (330106)."""
    return factories.auth(factories.token("supervisor", region="330100", name="hz-supervisor"))
