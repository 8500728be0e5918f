"""In-process measure of the public profile and white-list search: SQL statements and ms per
request through the Flask test client, on a throwaway PostgreSQL database (or SQLite).

    .venv/bin/python bench/public_lookup.py [postgresql://postgres@127.0.0.1/postgres] [N]
"""

import os
import statistics
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1/postgres"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    url = sa.make_url(base).set(drivername="postgresql+psycopg")
    name = f"bench_public_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        run(url.set(database=name).render_as_string(hide_password=False), n)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


def run(db_url: str, n: int) -> None:
    os.environ["REGISTRY_INSTANCE"] = tempfile.mkdtemp(prefix="bench_public_")
    from api.app import create_app
    from registry import migrate
    from registry.db import db
    from registry.institutions.models import Institution
    from registry.lists.models import WhitelistInterval
    from seed import national

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        migrate.upgrade(db.engine)
        counts = national.generate(0.002)
        db.session.commit()
        listed = db.session.scalars(sa.select(Institution.uscc).join(
            WhitelistInterval, WhitelistInterval.institution_id == Institution.id)
            .where(WhitelistInterval.listed_until.is_(None)).order_by(Institution.id)).all()
        usccs = db.session.scalars(sa.select(Institution.uscc).order_by(Institution.id)).all()
        names = db.session.scalars(sa.select(Institution.name).order_by(Institution.id)).all()
        print(f"seeded: {counts.get('institutions', len(usccs))} institutions, "
              f"{len(listed)} listed")
        statements = []
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *a, **k: statements.append(1))
        client = app.test_client()
        words = sorted({nm[:2] for nm in names})
        cases = {
            "profile": lambda i: f"/api/v1/public/institutions/{usccs[i % len(usccs)]}",
            "whitelist?q=": lambda i: f"/api/v1/public/whitelist?q={words[i % len(words)]}",
            "whitelist (all)": lambda i: f"/api/v1/public/whitelist?page={1 + i % 3}",
        }
        for label, path in cases.items():
            for i in range(20):  # warm up
                assert client.get(path(i)).status_code == 200
            statements.clear()
            times = []
            for i in range(n):
                t0 = time.perf_counter()
                resp = client.get(path(i))
                times.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200, resp.get_data(as_text=True)
            times.sort()
            print(f"{label:16} {len(statements) / n:5.2f} statements/req  "
                  f"mean {statistics.mean(times):6.2f} ms  "
                  f"median {statistics.median(times):6.2f} ms  "
                  f"p99 {times[int(n * 0.99) - 1]:6.2f} ms")


if __name__ == "__main__":
    main()
