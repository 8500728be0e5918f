"""In-process, interleaved: the public profile served from its stored row, the same profile
computed live (the fallback, dumped through the API schema as the view used to), and the bare
Flask app of bench/bare_app.py, on a throwaway PostgreSQL database. Reports SQL statements,
wall ms and this process's CPU ms per request (CPU leaves out PostgreSQL's own time and the
waiting, so it holds up on a busy machine).

    .venv/bin/python bench/profile_paths.py [postgresql://postgres@127.0.0.1/postgres] [N]
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
import throwaway  # bench/, beside this script


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1/postgres"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with throwaway.database(base, "bench_profile") as url:
        run(url, n)


def run(db_url: str, n: int) -> None:
    os.environ["REGISTRY_INSTANCE"] = tempfile.mkdtemp(prefix="bench_profile_")
    sys.path.insert(0, str(Path(__file__).parent))
    import bare_app

    from api.app import create_app
    from api.resources.public import PublicProfileSchema, cache_publicly
    from registry import migrate
    from registry.db import db
    from registry.institutions.models import Institution
    from registry.lists import public
    from seed import national

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url})
    schema = PublicProfileSchema()

    @app.get("/live/<uscc>")
    def live(uscc):
        return cache_publicly(app.json.response(schema.dump(public.profile(uscc))))

    with app.app_context():
        migrate.upgrade(db.engine)
        national.generate(0.002)
        db.session.commit()
        usccs = db.session.scalars(sa.select(Institution.uscc).order_by(Institution.id)).all()
    statements = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
    client, bare = app.test_client(), bare_app.app.test_client()
    cases = {"stored": (client, "/api/v1/public/institutions/{}"),
             "live": (client, "/live/{}"),
             "bare": (bare, "/api/v1/public/institutions/{}")}
    wall = {k: [] for k in cases}
    cpu = {k: [] for k in cases}
    count = dict.fromkeys(cases, 0)
    for i in range(n + 20):
        uscc = usccs[i % len(usccs)]
        for label, (c, path) in cases.items():
            statements.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            resp = c.get(path.format(uscc))
            w1, c1 = time.perf_counter(), time.process_time()
            assert resp.status_code == 200, resp.get_data(as_text=True)
            if i >= 20:  # warmed up
                wall[label].append((w1 - w0) * 1000)
                cpu[label].append((c1 - c0) * 1000)
                count[label] += len(statements)
    print(f"{len(usccs)} institutions, {n} requests per path, interleaved")
    for label in cases:
        ws = sorted(wall[label])
        print(f"{label:7} {count[label] / n:5.2f} statements/req  "
              f"wall mean {statistics.mean(ws):6.2f} ms  p99 {ws[int(n * 0.99) - 1]:6.2f} ms  "
              f"cpu mean {statistics.mean(cpu[label]):5.2f} ms")


if __name__ == "__main__":
    main()
