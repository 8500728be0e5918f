"""In-process measure of statement ingestion: transactions per second through the Flask test
client in batches of 1,000 (shaped as the benchmark's), SQL time per statement, a cProfile, and
a raw COPY of the same rows into a bare table, on a throwaway PostgreSQL database.

    .venv/bin/python bench/ingest_profile.py [--postgres URL] [--batches N] [--stages] [--sql]
        [--profile] [--root DIR]

CPU time is reported next to wall time (this process, and the PostgreSQL backends serving it,
from /proc/PID/schedstat), since wall time on a shared machine moves with the load. `--root`
runs another checkout's code against the same data, for before/after comparisons.
"""

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa
import throwaway  # bench/, beside this script

ROOT = Path(__file__).resolve().parent.parent
if "--root" in sys.argv:
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
sys.path.insert(0, str(ROOT))
from bench.harness import _fen, _statement_batches  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--postgres", default="postgresql://postgres@127.0.0.1/postgres")
    p.add_argument("--scale", type=float, default=0.005, help="seed before measuring")
    p.add_argument("--accounts", type=int, default=4)
    p.add_argument("--batches", type=int, default=10, help="batches of 1,000 per account")
    p.add_argument("--profile", action="store_true", help="print a cProfile of the posts")
    p.add_argument("--sql", action="store_true", help="print SQL time per statement")
    p.add_argument("--stages", action="store_true",
                   help="print CPU time per stage (this thread, per transaction)")
    p.add_argument("--root", help="the checkout whose code runs (default: this one)")
    args = p.parse_args()
    with throwaway.database(args.postgres, "bench_ingest") as url:
        run(url, args)


def run(db_url: str, args) -> None:
    os.environ["REGISTRY_INSTANCE"] = tempfile.mkdtemp(prefix="bench_ingest_")
    from api.app import create_app
    from registry import access, audit, migrate
    from registry.db import db
    from registry.escrow import accounts as escrow_accounts
    from registry.institutions.models import Institution
    from seed import national

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        migrate.upgrade(db.engine)
        national.generate(args.scale)
        db.session.commit()
        _, raw = access.create("bench-bank", "bank", None, "BENCHBANK")
        numbers = []
        iids = db.session.scalars(sa.select(Institution.id).where(Institution.status == "active")
                                  .order_by(Institution.id).limit(args.accounts)).all()
        with audit.acting_as(access.SYSTEM):
            for k, iid in enumerate(iids):
                number = f"BENCH{k:08d}"
                escrow_accounts.open_account(access.SYSTEM, {
                    "institution_id": iid, "bank_code": "BENCHBANK", "account_number": number,
                    "min_balance": 0, "large_outflow_threshold": 100_000_000})
                numbers.append(number)
        db.session.commit()
        stored = db.session.scalar(sa.text("SELECT count(*) FROM escrow_transactions"))
        head = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}
        batches = {n: list(_statement_batches(n, args.batches, 1)) for n in numbers}
        # bodies encoded up front: the client's work is not the server's
        bodies = [json.dumps(b).encode() for i in range(args.batches) for b in
                  (batches[n][i] for n in numbers)]
        rows = sum(len(b["transactions"]) for bs in batches.values() for b in bs)
        print(f"seeded: {stored:,} stored transactions; posting {rows:,} in "
              f"{len(bodies)} batches")

        timings: dict[str, list[float]] = defaultdict(list)

        def before(conn, cursor, statement, params, context, executemany):
            conn.info["t0"] = time.perf_counter()

        def after(conn, cursor, statement, params, context, executemany):
            key = " ".join(statement.split())[:90]
            timings[key].append(time.perf_counter() - conn.info.pop("t0"))

        if args.sql:
            sa.event.listen(db.engine, "before_cursor_execute", before)
            sa.event.listen(db.engine, "after_cursor_execute", after)
        stages = _instrument() if args.stages else None
        client = app.test_client()
        profiler = cProfile.Profile() if args.profile else None
        client.post("/api/v1/escrow/statements", headers=head, data=b"{}")  # warm up
        pids = db.session.scalars(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
        db.session.commit()
        b0, c0 = throwaway.backend_seconds(pids), time.process_time()
        t0 = time.perf_counter()
        for body in bodies:
            if profiler:
                profiler.enable()
            r = client.post("/api/v1/escrow/statements", headers=head, data=body)
            if profiler:
                profiler.disable()
            assert r.status_code == 200, r.get_data(as_text=True)[:500]
            assert r.json["accepted"] == 1000, r.json
        seconds = time.perf_counter() - t0
        py_us = (time.process_time() - c0) / rows * 1e6
        pg_us = (throwaway.backend_seconds(pids) - b0) / rows * 1e6
        api = rows / seconds
        copy, copy_py, copy_pg = raw_copy(db, batches)
        print(f"API   {api:9,.0f} txn/s  ({rows:,} in {seconds:.2f} s, "
              f"{seconds / len(bodies) * 1000:.1f} ms per batch of 1,000); CPU per txn: "
              f"Python {py_us:.2f} µs, PostgreSQL {pg_us:.2f} µs")
        print(f"COPY  {copy:9,.0f} rows/s; CPU per row: Python {copy_py:.2f} µs, "
              f"PostgreSQL {copy_pg:.2f} µs")
        print(f"ratio {api / copy:.3f} wall, {(copy_py + copy_pg) / (py_us + pg_us):.3f} CPU")
        if args.sql:
            print("SQL per batch (ms), by statement:")
            for key, ts in sorted(timings.items(), key=lambda kv: -sum(kv[1])):
                print(f"  {sum(ts) / len(bodies) * 1000:7.2f}  x{len(ts) / len(bodies):4.1f}  "
                      f"{key}")
        if stages:
            print("CPU per transaction by stage (µs; nested stages are inside their parent):")
            for label, spent in stages.items():
                print(f"  {spent / rows * 1e6:6.2f}  {label}")
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
            stats.print_callees("limits_for|_history|record|evaluate")
        print(json.dumps({"root": str(ROOT), "api_tps": round(api), "copy_rps": round(copy),
                          "api_py_us": round(py_us, 2), "api_pg_us": round(pg_us, 2),
                          "copy_py_us": round(copy_py, 2), "copy_pg_us": round(copy_pg, 2)}))


STAGES = (  # (module, function): whichever of them the code under test has
    ("webargs.flaskparser", "FlaskParser._raw_load_json", "JSON decoding"),
    ("marshmallow.schema", "Schema.load", "request schema (marshmallow)"),
    ("registry.escrow.ledger", "ingest", "ledger.ingest (all below)"),
    ("registry.escrow.accounts", "find_for_bank", "  account lookup / lock"),
    ("registry.escrow.ledger", "_lock", "  account lock"),
    ("registry.escrow.ledger", "parse", "  parse"),
    ("registry.escrow.ledger", "_digest", "  digests"),
    ("registry.escrow.ledger", "_drop_duplicates", "  duplicate check"),
    ("registry.escrow.alerts", "limits_for", "  alert limits"),
    ("registry.rules.catalogue", "params_of", "    rule parameters"),
    ("registry.escrow.ledger", "_history", "  history read"),
    ("registry.escrow.ledger", "_copy", "  COPY (client side and wait)"),
    ("registry.escrow.ledger", "_insert", "  insert"),
    ("registry.escrow.alerts", "evaluate", "  alert evaluation"),
    ("registry.escrow.alerts", "is_blacklisted", "    black-list check"),
    ("registry.audit", "record", "  audit event"),
    ("sqlalchemy.orm.scoping", "scoped_session.commit", "commit"),
    ("marshmallow.schema", "Schema.dump", "response dump (marshmallow)"),
)


def _instrument() -> dict:
    """Wrap each stage's function to add up the CPU time this thread spends in it."""
    import functools
    import importlib

    spent: dict[str, float] = {}
    for module, name, label in STAGES:
        owner = importlib.import_module(module)
        *cls, fn = name.split(".")
        if cls:
            owner = getattr(owner, cls[0], None)
        original = getattr(owner, fn, None) if owner is not None else None
        if original is None:
            continue
        spent[label] = 0.0

        def wrap(original, label):
            @functools.wraps(original)
            def timed(*a, **k):
                t0 = time.thread_time()
                try:
                    return original(*a, **k)
                finally:
                    spent[label] += time.thread_time() - t0
            return timed
        setattr(owner, fn, wrap(original, label))
    return spent


def raw_copy(db, batches: dict) -> tuple[float, float, float]:
    """The same rows COPYed into a bare table, as bench/harness.py's baseline does."""
    conn = db.engine.raw_connection()
    try:
        raw = conn.driver_connection
        raw.execute("DROP TABLE IF EXISTS bench_raw_transactions")
        raw.execute("CREATE TABLE bench_raw_transactions (account_number text, bank_code text, "
                    "bank_txn_id text, occurred_at timestamptz, kind text, amount bigint, "
                    "balance_after bigint, student_ref text, covers_lessons int, "
                    "covers_until date)")
        raw.commit()
        pid = raw.info.backend_pid
        b0, c0, t0 = throwaway.backend_seconds([pid]), time.process_time(), time.perf_counter()
        with raw.cursor() as cur, cur.copy("COPY bench_raw_transactions FROM STDIN") as copy:
            for number, bodies in batches.items():
                for body in bodies:
                    for t in body["transactions"]:
                        copy.write_row((number, "BENCHBANK", t["bank_txn_id"],
                                        t["occurred_at"], t["kind"], _fen(t["amount"]),
                                        _fen(t["balance_after"]), t.get("student_ref"),
                                        t.get("covers_lessons"), t.get("covers_until")))
        raw.commit()
        seconds = time.perf_counter() - t0
        rows = sum(len(b["transactions"]) for bs in batches.values() for b in bs)
        py_us = (time.process_time() - c0) / rows * 1e6
        pg_us = (throwaway.backend_seconds([pid]) - b0) / rows * 1e6
    finally:
        conn.close()
    return rows / seconds, py_us, pg_us


if __name__ == "__main__":
    main()
