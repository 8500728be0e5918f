"""What the in-process bench tools share: a throwaway PostgreSQL database, and the CPU time of
PostgreSQL backends (wall time on a shared machine moves with the load; CPU time does not)."""

import contextlib
import uuid
from pathlib import Path

import sqlalchemy as sa


@contextlib.contextmanager
def database(server: str, prefix: str):
    """Create a database on `server` (any database URL there), yield its URL, then drop it."""
    url = sa.make_url(server).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def backend_seconds(pids) -> float:
    """CPU seconds the given PostgreSQL backends (on this machine) have run."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total / 1e9
