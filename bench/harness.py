"""The benchmark: one run, every measurement next to its baseline, appended to docs/benchmarks.md.

1. a throwaway PostgreSQL database, migrated, filled by `registry seed national --scale N`;
2. public lookup by USCC and white-list search by name through gunicorn, next to a bare Flask
   JSON endpoint served by gunicorn with the same settings (the framework's ceiling);
3. statement ingestion through the API in batches of 1,000, next to a raw COPY of the same
   rows into a bare table;
4. a full rule rescan (sessions per second);
5. peak memory of each (VmHWM of the gunicorn workers, ru_maxrss of in-process phases).

Each measurement is a function; one whose parts are not built yet reports "not available".
Load goes only to 127.0.0.1, bounded in time.
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
RESULTS = ROOT / "docs" / "benchmarks.md"


COUNTED = ("institutions", "licences", "whitelist_intervals", "staff", "courses",
           "course_sessions", "escrow_accounts", "escrow_transactions", "breaches")


class NotAvailable(Exception):
    """A part this measurement needs is not built (yet)."""


# --- plumbing -----------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_of_children(cmd: list[str], env: dict, timeout: float) -> dict:
    """Run a child to completion: wall seconds, its own peak RSS (os.wait4), its output."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as sink:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
                                text=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > started + timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise RuntimeError(f"{cmd[:3]} timed out after {timeout} s")
            time.sleep(0.05)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sink.seek(0)
        text = sink.read()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({proc.returncode}):\n{text[-3000:]}")
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024, "output": text}


class Gunicorn:
    """A gunicorn serving `target` on 127.0.0.1 with the harness's settings."""

    def __init__(self, target: str, env: dict, workers: int, threads: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(VENV / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers",
             str(workers), "--threads", str(threads), "--worker-class", "gthread",
             "--log-level", "warning", "--chdir", str(ROOT), target],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if requests.get(self.url + path, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up")

    def workers(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def peak_mib(self) -> float:
        """The largest VmHWM (peak resident set) among the workers, MiB."""
        peaks = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if m:
                peaks.append(int(m.group(1)) / 1024)
        return max(peaks, default=float("nan"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- load ---------------------------------------------------------------------------------------
LUA = """
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  counter = math.random(#paths)
end
request = function()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
"""


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def load(base_url: str, paths: list[str], duration: int, connections: int, work: Path) -> dict:
    """Drive GET load over `paths` (round robin) with wrk; rps, p50, p99, errors."""
    if not shutil.which("wrk"):
        return python_load(base_url, paths, duration, connections)
    plist = work / f"paths-{random.random():.8f}.txt"
    plist.write_text("\n".join(paths) + "\n")
    script = work / "paths.lua"
    script.write_text(LUA)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency",
           "-s", str(script), base_url, "--", str(plist)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50_ms": _ms(dist["50"]), "p99_ms": _ms(dist["99"]), "errors": errors,
            "requests": total, "socket_errors": socket_errors.group(1) if socket_errors else "",
            "client": f"wrk 1 thread, {connections} connections, {duration} s"}


def python_load(base_url: str, paths: list[str], duration: int, connections: int) -> dict:
    """Fallback when wrk is missing: keep-alive sessions in threads (the client is slower)."""
    stop_at = time.monotonic() + duration
    latencies: list[float] = []
    errors = 0

    def worker(seed: int):
        nonlocal errors
        rnd, session, mine = random.Random(seed), requests.Session(), []
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            status = session.get(base_url + rnd.choice(paths), timeout=10).status_code
            mine.append((time.perf_counter() - t0) * 1000)
            if status >= 400:
                errors += 1
        return mine

    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        for part in pool.map(worker, range(connections)):
            latencies.extend(part)
    seconds = time.monotonic() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {"rps": len(latencies) / seconds, "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "errors": errors, "requests": len(latencies), "socket_errors": "",
            "client": f"python threads, {connections} connections, {duration} s"}


# --- the run ------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="registry-bench-"))
        self.dbname = args.database or f"registry_bench_{os.getpid()}"
        base = psycopg.conninfo.conninfo_to_dict(args.postgres)
        self.admin_dsn = psycopg.conninfo.make_conninfo(**(base | {"dbname": "postgres"}))
        self.dsn = psycopg.conninfo.make_conninfo(**(base | {"dbname": self.dbname}))
        self.url = "postgresql://" + args.postgres.split("://", 1)[1].rsplit("/", 1)[0] + \
            f"/{self.dbname}"
        self.env = os.environ | {"DATABASE_URL": self.url, "REGISTRY_INSTANCE": str(self.work),
                                 "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "false"}
        self.results: list[dict] = []
        self.servers: list[Gunicorn] = []
        self.facts: dict = {}

    # database
    def create_database(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}"')
            conn.execute(f'CREATE DATABASE "{self.dbname}"')

    def drop_database(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (self.dbname,))
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}"')

    def sql(self, query: str, params=None) -> list[tuple]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def registry(self, *cmd: str, timeout: float = 3600) -> dict:
        return peak_rss_of_children([str(VENV / "registry"), *cmd], self.env, timeout)

    def token(self, name: str, role: str, *scope: str) -> str:
        out = self.registry("tokens", "create", "--name", name, "--role", role, *scope)
        return out["output"].strip().splitlines()[-1]

    # phases
    def prepare(self) -> None:
        if self.args.database:
            log(f"database {self.dbname} as it is (no generation); migrating")
            self.registry("db", "upgrade")
            self.facts["counts"] = {t: self.sql(f'SELECT count(*) FROM "{t}"')[0][0]
                                    for t in COUNTED}
            self.sql("CHECKPOINT")
            return
        log(f"database {self.dbname}; migrating")
        self.create_database()
        self.registry("db", "upgrade")
        log(f"generating national data at scale {self.args.scale}")
        gen = self.registry("seed", "national", "--scale", str(self.args.scale), "--seed",
                            str(self.args.seed))
        summary = gen["output"].strip().splitlines()[-1]
        counts = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)",
                                                    summary.rsplit(" in ", 1)[0])}
        rows = sum(counts.values())
        self.facts["counts"] = counts
        self.record("generator (`registry seed national`)",
                    f"{rows:,} rows in {gen['seconds']:.1f} s ({rows / gen['seconds']:,.0f} "
                    f"rows/s)", "", "", "", "", gen["peak_mib"])
        self.sql("VACUUM ANALYZE")  # after a bulk load, as autovacuum would in time
        # and write the load out now: measuring while the checkpointer and the kernel flush
        # gigabytes of dirty pages measures the flush (the bare ceiling fell to a third)
        self.sql("CHECKPOINT")

    def record(self, what, result, baseline, ratio, target, met, peak_mib, note=""):
        self.results.append({"what": what, "result": result, "baseline": baseline,
                             "ratio": ratio, "target": target, "met": met,
                             "peak": "" if peak_mib in ("", None) else f"{peak_mib:,.0f} MiB",
                             "note": note})

    def not_available(self, what: str, reason: str, target: str) -> None:
        self.record(what, "not available", "", "", target, "–", "", reason)

    def serve(self, target: str, ready: str) -> Gunicorn:
        server = Gunicorn(target, self.env, self.args.workers, self.args.threads)
        self.servers.append(server)
        server.wait_ready(ready)
        return server

    def measure_lookups(self) -> None:
        """Public lookup by USCC and white-list search, each next to the bare Flask endpoint."""
        a = self.args
        usccs = [r[0] for r in self.sql(
            "SELECT uscc FROM institutions ORDER BY md5(uscc) LIMIT 2000")]
        names = [r[0] for r in self.sql(
            "SELECT i.name FROM institutions i JOIN whitelist_intervals w ON "
            "w.institution_id = i.id AND w.listed_until IS NULL ORDER BY md5(i.uscc) LIMIT 2000")]
        if not usccs:
            raise NotAvailable("no institutions generated")
        app = self.serve("wsgi:app", "/api/v1/health")
        bare = self.serve("bench.bare_app:app", f"/api/v1/public/institutions/{usccs[0]}")
        probe = requests.get(f"{app.url}/api/v1/public/institutions/{usccs[0]}", timeout=10)
        if probe.status_code != 200:
            raise NotAvailable(f"public lookup answered {probe.status_code}")
        lookup_paths = [f"/api/v1/public/institutions/{u}" for u in usccs]
        log("warming up, then the bare Flask ceiling")
        load(bare.url, lookup_paths, 3, a.connections, self.work)
        ceiling = load(bare.url, lookup_paths, a.duration, a.connections, self.work)
        log("public lookup by USCC")
        load(app.url, lookup_paths, 3, a.connections, self.work)
        lookup = load(app.url, lookup_paths, a.duration, a.connections, self.work)
        ratio = lookup["rps"] / ceiling["rps"]
        self.facts["load_client"] = lookup["client"]
        self.record("public lookup by USCC `GET /public/institutions/{uscc}`",
                    f"{lookup['rps']:,.0f} req/s, p50 {lookup['p50_ms']:.1f} ms, "
                    f"p99 {lookup['p99_ms']:.1f} ms", _rps(ceiling), f"{ratio:.2f}",
                    "≥ 0.5 of ceiling, p99 < 25 ms",
                    _met(ratio >= 0.5 and lookup["p99_ms"] < 25), app.peak_mib(),
                    _errors(lookup))
        # white-list search: a word from a listed institution's name, as a parent would type
        rnd = random.Random(a.seed)
        words = [_search_word(n, rnd) for n in names]
        search_paths = ["/api/v1/public/whitelist?q=" + urllib.parse.quote(w) for w in words]
        log("white-list search by name")
        load(app.url, search_paths, 3, a.connections, self.work)
        search = load(app.url, search_paths, a.duration, a.connections, self.work)
        self.record("white-list search by name `GET /public/whitelist?q=`",
                    f"{search['rps']:,.0f} req/s, p50 {search['p50_ms']:.1f} ms, "
                    f"p99 {search['p99_ms']:.1f} ms", _rps(ceiling),
                    f"{search['rps'] / ceiling['rps']:.2f}", "p99 < 100 ms",
                    _met(search["p99_ms"] < 100), app.peak_mib(),
                    _errors(search) + " queries: 2–4 characters of a listed name")
        self.record("bare Flask JSON endpoint (ceiling), same gunicorn settings",
                    _rps(ceiling), "", "", "", "", bare.peak_mib(), _errors(ceiling))
        for server in (app, bare):
            server.stop()

    def measure_ingestion(self) -> None:
        """Statements through the API in batches of 1,000, then a raw COPY of the same rows."""
        a = self.args
        bank = "BENCHBANK"
        token = self.token("bench-bank", "bank", "--bank", bank)
        app = self.serve("wsgi:app", "/api/v1/health")
        head = {"Authorization": f"Bearer {token}"}
        institutions = [r[0] for r in self.sql(
            "SELECT id FROM institutions WHERE status = 'active' ORDER BY id LIMIT %s",
            (a.ingest_accounts,))]
        accounts = []
        for k, iid in enumerate(institutions):
            number = f"BENCH{self.args.seed:04d}{k:08d}"
            r = requests.post(f"{app.url}/api/v1/escrow/accounts", headers=head, timeout=30,
                              json={"institution_id": iid, "bank_code": bank,
                                    "account_number": number, "min_balance": "0.00",
                                    "large_outflow_threshold": "1000000.00"})
            if r.status_code == 404:
                raise NotAvailable("POST /api/v1/escrow/accounts is not served yet")
            if r.status_code >= 300:
                raise NotAvailable(f"creating an escrow account answered {r.status_code}: "
                                   f"{r.text[:200]}")
            accounts.append(number)
        batches = {n: list(_statement_batches(n, a.ingest_batches, a.seed)) for n in accounts}
        # bodies encoded before the clock starts: the client's JSON work is not the server's
        bodies = {n: [json.dumps(b).encode() for b in bs] for n, bs in batches.items()}
        posted = {n: 0 for n in accounts}
        head = {**head, "Content-Type": "application/json"}
        deadline = time.monotonic() + a.ingest_seconds

        def post_all(number):
            session = requests.Session()
            for body in bodies[number]:
                if time.monotonic() > deadline:
                    break
                r = session.post(f"{app.url}/api/v1/escrow/statements", headers=head,
                                 data=body, timeout=300)
                if r.status_code >= 300:
                    raise RuntimeError(f"statement answered {r.status_code}: {r.text[:300]}")
                posted[number] += 1
            return True

        total = sum(len(b["transactions"]) for bs in batches.values() for b in bs)
        log(f"ingesting up to {total:,} transactions over {len(accounts)} accounts "
            f"(at most {a.ingest_seconds} s)")
        started = time.monotonic()
        with ThreadPoolExecutor(len(accounts)) as pool:
            list(pool.map(post_all, accounts))
        seconds = time.monotonic() - started
        sent = {n: batches[n][:posted[n]] for n in accounts}  # what the API stored, and no more
        rows = sum(len(b["transactions"]) for bs in sent.values() for b in bs)
        api_tps = rows / seconds
        stored = self.sql("SELECT count(*) FROM escrow_transactions WHERE bank_code = %s",
                          (bank,))[0][0]
        peak = app.peak_mib()
        app.stop()
        copy_tps, _ = self.raw_copy(sent)
        indexed_tps, _ = self.raw_copy(sent, like="escrow_transactions")
        ratio = api_tps / copy_tps
        self.record("statement ingestion `POST /escrow/statements`, batches of 1,000",
                    f"{api_tps:,.0f} txn/s ({rows:,} in {seconds:.1f} s, {stored:,} stored)",
                    f"raw COPY {copy_tps:,.0f} rows/s", f"{ratio:.2f}",
                    "≥ 20,000 txn/s and ≥ 0.2 of COPY",
                    _met(api_tps >= 20000 and ratio >= 0.2), peak,
                    f"{len(accounts)} accounts posted concurrently; the same rows COPYed into "
                    f"a copy of escrow_transactions (its indexes): {indexed_tps:,.0f} rows/s")

    def raw_copy(self, batches: dict, like: str | None = None) -> tuple[float, float]:
        """COPY the same rows into a bare (logged, index-free) table: the database's ceiling.
        With `like`, into an empty copy of that table with its indexes and defaults instead:
        what storing the rows costs the database with the ledger's indexes."""
        self.sql("DROP TABLE IF EXISTS bench_raw_transactions")
        if like:
            self.sql(f"CREATE TABLE bench_raw_transactions (LIKE {like} INCLUDING ALL)")
            columns = ("(bank_code, bank_txn_id, occurred_at, kind, amount, delta, balance_after,"
                       " student_ref, covers_lessons, covers_until, account_id, digest, "
                       "received_at)")
        else:
            self.sql("CREATE TABLE bench_raw_transactions (account_number text, bank_code text, "
                     "bank_txn_id text, occurred_at timestamptz, kind text, amount bigint, "
                     "balance_after bigint, student_ref text, covers_lessons int, "
                     "covers_until date)")
            columns = ""
        now = datetime.now(UTC).replace(tzinfo=None)
        started = time.monotonic()
        with psycopg.connect(self.dsn) as conn, conn.cursor() as cur, cur.copy(
                f"COPY bench_raw_transactions {columns} FROM STDIN") as copy:
            for k, (number, bodies) in enumerate(batches.items()):
                for body in bodies:
                    for t in body["transactions"]:
                        if not like:
                            copy.write_row((number, "BENCHBANK", t["bank_txn_id"],
                                            t["occurred_at"], t["kind"], _fen(t["amount"]),
                                            _fen(t["balance_after"]), t.get("student_ref"),
                                            t.get("covers_lessons"), t.get("covers_until")))
                            continue
                        amount = _fen(t["amount"])
                        copy.write_row((
                            "BENCHBANK", t["bank_txn_id"], t["occurred_at"], t["kind"], amount,
                            -amount if t["kind"] in _OUTFLOWS else amount,
                            _fen(t["balance_after"]), t.get("student_ref"),
                            t.get("covers_lessons"), t.get("covers_until"), k + 1, "0" * 64,
                            now))
        seconds = time.monotonic() - started
        rows = sum(len(b["transactions"]) for bs in batches.values() for b in bs)
        return rows / seconds, seconds

    def measure_rescan(self) -> None:
        """The full rule rescan over every stored session, twice, each in a child process: the
        first after generation opens every breach it finds; the second, after ANALYZE (what
        autovacuum would do after such an insert), is the steady state, finding nothing new."""
        code = ("import sys, time, json\n"
                "from api.app import create_app\n"
                "from registry.db import db\n"
                "try:\n"
                "    from registry.rules import engine\n"
                "except ImportError:\n"
                "    print('NOTAVAILABLE registry.rules.engine'); sys.exit(0)\n"
                "if not hasattr(engine, 'rescan'):\n"
                "    print('NOTAVAILABLE registry.rules.engine.rescan'); sys.exit(0)\n"
                "app = create_app()\n"
                "with app.app_context():\n"
                "    t0 = time.monotonic(); result = engine.rescan(); db.session.commit()\n"
                "    print('RESULT', json.dumps({'seconds': time.monotonic() - t0,"
                " 'result': result}, default=str))\n")
        sessions = self.sql("SELECT count(*) FROM course_sessions")[0][0] \
            if self.sql("SELECT to_regclass('course_sessions')")[0][0] else 0
        for k in (1, 2):
            out = peak_rss_of_children([str(VENV / "python"), "-c", code], self.env, 3600)
            if "NOTAVAILABLE" in out["output"]:
                raise NotAvailable(out["output"].split("NOTAVAILABLE", 1)[1].strip()
                                   + " missing")
            payload = json.loads(out["output"].split("RESULT", 1)[1])
            rate = sessions / payload["seconds"] if payload["seconds"] else 0
            opened = re.search(r"opened['\"]?[=:] ?(\d+)", str(payload["result"]))
            what = f"full rule rescan, pass {k} " + (
                "(opens what it finds)" if opened and int(opened.group(1))
                else "(steady state: nothing new)")
            self.record(what, f"{rate:,.0f} sessions/s ({sessions:,} in "
                        f"{payload['seconds']:.1f} s)", "", "", "≥ 100,000 sessions/s",
                        _met(rate >= 100_000), out["peak_mib"], _stats(payload["result"]))
            self.sql("ANALYZE breaches")

    # report
    def machine(self) -> str:
        cpu = "unknown CPU"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        pg = self.sql("SHOW server_version")[0][0]
        return (f"{os.cpu_count()} × {cpu}, {mem / 1024 / 1024:.1f} GiB RAM, "
                f"{platform.system()} {platform.release()}, PostgreSQL {pg}, "
                f"Python {platform.python_version()}")

    def report(self, started: datetime) -> str:
        a = self.args
        counts = ", ".join(f"{k} {v:,}" for k, v in self.facts.get("counts", {}).items())
        lines = [
            f"\n## {started:%Y-%m-%d %H:%M} UTC — "
            + (f"database {a.database}, as it was (no generation)" if a.database
               else f"scale {a.scale} (seed {a.seed})") + "\n",
            f"- Machine: {self.machine()}",
            f"- Data: {counts}",
            f"- Servers: gunicorn {a.workers} workers × {a.threads} threads (gthread), the "
            f"registry and the bare Flask app with the same settings, on 127.0.0.1; load "
            f"client: {self.facts.get('load_client', 'wrk')}, on the same machine.",
            "",
            "| measurement | result | baseline (same run) | ratio | target | met | "
            "peak memory | note |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in self.results:
            lines.append("| " + " | ".join(str(r[k]).replace("|", "/") for k in (
                "what", "result", "baseline", "ratio", "target", "met", "peak", "note")) + " |")
        return "\n".join(lines) + "\n"

    def run(self) -> int:
        started = datetime.now(UTC)
        try:
            self.prepare()
            for name, what, target in (
                    ("measure_lookups", "public lookup and white-list search", "see targets"),
                    ("measure_ingestion", "statement ingestion", "≥ 20,000 txn/s"),
                    ("measure_rescan", "full rule rescan", "≥ 100,000 sessions/s")):
                try:
                    getattr(self, name)()
                except NotAvailable as exc:
                    log(f"{what}: not available ({exc})")
                    self.not_available(what, str(exc), target)
                except Exception as exc:  # a failed measurement is reported, the rest runs
                    traceback.print_exc()
                    self.record(what, "failed", "", "", target, "–", "", str(exc)[:200])
                finally:
                    for server in self.servers:
                        server.stop()
                    self.servers.clear()
            text = self.report(started)
            print(text)
            if not a_dry(self.args):
                RESULTS.parent.mkdir(exist_ok=True)
                if not RESULTS.exists():
                    RESULTS.write_text("# Benchmarks\n\nAppended by `bench/run` (see "
                                       "bench/harness.py); newest last.\n")
                with RESULTS.open("a") as f:
                    f.write(text)
                log(f"appended to {RESULTS.relative_to(ROOT)}")
            return 0
        finally:
            for server in self.servers:
                server.stop()
            if not self.args.keep and not self.args.database:
                self.drop_database()
                shutil.rmtree(self.work, ignore_errors=True)
            else:
                log(f"kept database {self.dbname} and {self.work}")


def a_dry(args) -> bool:
    return args.no_append


def _rps(result: dict) -> str:
    return (f"{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms")


def _stats(result) -> str:
    """The rescan's counts (findings, opened, reopened, resolved), without its timings."""
    text = str(result)
    counts = re.findall(r"(findings|opened|reopened|resolved)['\"]?[=:] ?(\d+)", text)
    return ", ".join(f"{k} {int(v):,}" for k, v in counts) or text[:120]


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _errors(result: dict) -> str:
    bad = result["errors"]
    text = f"{result['requests']:,} requests"
    if bad:
        text += f", {bad:,} non-2xx/3xx"
    if result.get("socket_errors"):
        text += f", socket errors: {result['socket_errors']}"
    return text


def _search_word(name: str, rnd: random.Random) -> str:
    """2 to 4 consecutive characters anywhere in a name (the city prefix included)."""
    size = rnd.choice((2, 3, 3, 4))
    start = rnd.randrange(max(1, len(name) - size + 1))
    return name[start:start + size]


_OUTFLOWS = ("release", "refund", "withdrawal", "fee")


def _fen(yuan: str) -> int:
    whole, _, frac = yuan.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _statement_batches(number: str, batches: int, seed: int):
    """Statement bodies of 1,000 transactions each with a consistent running balance."""
    rnd = random.Random(f"{seed}:{number}")
    balance = 0
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    seq = 0
    for _ in range(batches):
        txns = []
        for _ in range(1000):
            seq += 1
            at += timedelta(seconds=rnd.randint(20, 300))
            if balance < 500_000 or rnd.random() < 0.3:
                kind, amount = "prepaid_income", rnd.choice((120_000, 240_000, 360_000, 480_000))
                balance += amount
                extra = {"student_ref": f"S{rnd.randrange(10**6):06d}",
                         "covers_lessons": amount // 12_000,
                         "covers_until": (at + timedelta(days=60)).date().isoformat()}
            else:
                kind = rnd.choices(("release", "refund"), (9, 1))[0]
                amount = rnd.choice((6_000, 12_000, 18_000)) if kind == "release" else 60_000
                balance -= amount
                extra = {}
            txns.append({"bank_txn_id": f"{number}-{seq:09d}", "occurred_at": at.isoformat(),
                         "kind": kind, "amount": _yuan(amount), "balance_after": _yuan(balance),
                         **extra})
        yield {"account_number": number, "transactions": txns}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=0.02,
                   help="generator scale (1 = 200k institutions, 2M staff, 5M sessions, "
                        "10M custody transactions); default 0.02")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="a server where the harness may create and drop a database")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (both servers)")
    p.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    p.add_argument("--connections", type=int, default=16, help="concurrent connections")
    p.add_argument("--duration", type=int, default=15, help="seconds per load measurement")
    p.add_argument("--ingest-accounts", type=int, default=4,
                   help="escrow accounts posting statements concurrently")
    p.add_argument("--ingest-batches", type=int, default=25,
                   help="statements of 1,000 transactions per account")
    p.add_argument("--ingest-seconds", type=int, default=60,
                   help="stop posting statements after this long")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--database", help="measure an existing database on that server (e.g. one "
                                      "kept by --keep) instead of generating one; never dropped")
    p.add_argument("--no-append", action="store_true", help="print, don't touch the docs")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
