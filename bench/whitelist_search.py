"""In-process measure of the white-list search: SQL statements and ms per request through the
Flask test client, by query length, and EXPLAIN ANALYZE of what the broadest 2-character query
runs. Against an existing, seeded database (so two versions of the code can take turns on the
same data), or a throwaway one it seeds itself:

    .venv/bin/python bench/whitelist_search.py --db postgresql://postgres@127.0.0.1/DB [-n 300]
    .venv/bin/python bench/whitelist_search.py --scale 0.02     # creates, seeds, drops
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import sqlalchemy as sa
import throwaway  # bench/, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import _search_word  # noqa: E402


def word(name: str, size: int, rnd: random.Random) -> str:
    """`size` consecutive characters of a name, as `harness._search_word` picks them."""
    start = rnd.randrange(max(1, len(name) - size + 1))
    return name[start:start + size]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="an existing seeded database")
    ap.add_argument("--server", default="postgresql://postgres@127.0.0.1/postgres")
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("-n", type=int, default=300)
    a = ap.parse_args()
    if a.db:
        return run(a.db, a.n, None)
    with throwaway.database(a.server, "bench_search") as url:
        run(url, a.n, a.scale)


def run(db_url: str, n: int, scale: float | None) -> None:
    os.environ.setdefault("REGISTRY_INSTANCE", tempfile.mkdtemp(prefix="bench_search_"))
    from api.app import create_app
    from registry import migrate
    from registry.db import db
    from seed import national

    url = sa.make_url(db_url).set(drivername="postgresql+psycopg")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        if scale is not None:
            migrate.upgrade(db.engine)
            national.generate(scale)
            db.session.commit()
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        names = db.session.scalars(sa.text(
            "SELECT i.name FROM institutions i JOIN whitelist_intervals w ON "
            "w.institution_id = i.id AND w.listed_until IS NULL ORDER BY md5(i.uscc) "
            "LIMIT 2000")).all()
        total = db.session.scalar(sa.text("SELECT count(*) FROM institutions"))
        print(f"{total} institutions, {len(names)} listed names sampled")
        statements: list = []

        def seen(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", seen)
        client = app.test_client()

        rnd = random.Random(1)
        cases = {f"{k} characters": [word(nm, k, rnd) for nm in names] for k in (2, 3, 4)}
        cases["mixed (harness)"] = [_search_word(nm, random.Random(i))
                                    for i, nm in enumerate(names)]

        def path(q: str) -> str:
            return "/api/v1/public/whitelist?q=" + urllib.parse.quote(q)

        for label, words in cases.items():
            for q in words[:20]:  # warm up
                assert client.get(path(q)).status_code == 200
            backends = db.session.scalars(sa.text(  # this process's connections
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
            db.session.commit()
            statements.clear()
            times = []
            cpu, server = time.process_time(), throwaway.backend_seconds(backends)
            for i in range(n):
                t0 = time.perf_counter()
                resp = client.get(path(words[i % len(words)]))
                times.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200, resp.get_data(as_text=True)
            cpu, server = time.process_time() - cpu, throwaway.backend_seconds(backends) - server
            times.sort()
            print(f"{label:16} {len(statements) / n:5.2f} statements/req  "
                  f"mean {statistics.mean(times):6.2f} ms  "
                  f"median {statistics.median(times):6.2f} ms  "
                  f"p99 {times[int(n * 0.99) - 1]:6.2f} ms  max {times[-1]:6.2f} ms  "
                  f"CPU/req: Python {cpu * 1000 / n:5.2f} ms, PostgreSQL "
                  f"{server * 1000 / n:5.2f} ms")
        # the broadest 2-character word: what its request runs, explained
        pairs = sorted(set(cases["2 characters"]))
        counts = {q: db.session.scalar(sa.text(
            "SELECT count(*) FROM institutions WHERE name LIKE :p"), {"p": f"%{q}%"})
            for q in pairs}
        broad = max(pairs, key=counts.get)
        print(f"broadest 2-character query {broad!r}: {counts[broad]} of {total} names")
        statements.clear()
        resp = client.get(path(broad))
        print(f"total {resp.json['total']}, {len(resp.json['items'])} items; "
              f"{len(statements)} statements")
        sa.event.remove(db.engine, "before_cursor_execute", seen)
        for statement, params in list(statements):
            raw = db.session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
            print("\n".join(r[0] for r in raw))
            print("-" * 40)
        db.session.rollback()


if __name__ == "__main__":
    main()
