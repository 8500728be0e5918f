"""Connections the database closed (a restart, a killed backend): no request sees them."""

import pytest
import sqlalchemy as sa

from registry.db import db
from tests import factories

pytestmark = pytest.mark.postgres(reason="terminating backends needs PostgreSQL")



def _kill_pooled_connections() -> int:
    """Terminate every other backend of the test database, as a restart would."""
    outside = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    try:
        with outside.connect() as conn:
            return len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        outside.dispose()


def test_lookup_retries_once_on_a_dead_connection(client):
    inst = factories.institution()
    factories.licence(inst)
    db.session.commit()
    path = f"/api/v1/public/institutions/{inst.uscc}"
    first = client.get(path)
    assert first.status_code == 200
    db.session.remove()
    assert _kill_pooled_connections() >= 1
    invalidated = []

    def note(*args):
        invalidated.append(1)

    sa.event.listen(db.engine, "invalidate", note)
    try:
        again = client.get(path)
    finally:
        sa.event.remove(db.engine, "invalidate", note)
    assert again.status_code == 200 and again.data == first.data
    assert invalidated  # it met the dead connection, dropped it and read on a fresh one


def test_other_checkouts_are_pinged(app):
    assert db.session.scalar(sa.text("SELECT 1")) == 1
    db.session.remove()
    assert _kill_pooled_connections() >= 1
    assert db.session.scalar(sa.text("SELECT 2")) == 2  # the ping replaced the dead one
