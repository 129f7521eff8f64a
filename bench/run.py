"""CraneFlow benchmark: one flow (start → owner submits → regulator approves) at every layer.

    .venv/bin/python bench/run.py [--quick] [--pg-url URL] [--skip-http] [--keep-db] [--profile]

See bench/README.md for what each figure means. Results also go to bench/results/latest.json.
"""
import argparse
import atexit
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (DEFAULT_PG_URL, check_pg_url, children_of, drop_pg_database, pg_backend_pids,  # noqa: E402
                          prepare_environment, recreate_pg_database)

SIZES = {
    #            a     b    c-sqlite c-pg  d-1   d-4/client  e-rows   e-reps
    "normal": dict(a=3000, b=1000, c_sqlite=300, c_pg=300, d1=150, d4=100, e_rows=100_000, e_reps=200),
    "quick": dict(a=300, b=100, c_sqlite=30, c_pg=30, d1=20, d4=10, e_rows=10_000, e_reps=50),
}
TARGETS = {"c_slowdown_max": 10.0, "http_4_clients_min": 60.0, "inbox_p95_max_ms": 20.0}


class Cleanup:
    def __init__(self):
        self.actions = []
        self.done = False

    def add(self, fn):
        self.actions.append(fn)

    def __call__(self):
        if self.done:
            return
        self.done = True
        for fn in reversed(self.actions):
            try:
                fn()
            except Exception as exc:  # keep cleaning up
                print(f"cleanup: {exc}", file=sys.stderr)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small N for a smoke run (< 60 s)")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
                    help=f"scratch PostgreSQL database, DROPPED and recreated (default {DEFAULT_PG_URL})")
    ap.add_argument("--skip-http", action="store_true", help="skip (d) and the HTTP half of (e)")
    ap.add_argument("--keep-db", action="store_true", help="leave the PostgreSQL database behind for inspection")
    ap.add_argument("--profile", action="store_true",
                    help="afterwards, cProfile the service flow, the API flow and the inbox (slow)")
    ap.add_argument("--profile-only", action="store_true", help="only the --profile part")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "latest.json"), help="results file")
    args = ap.parse_args(argv)
    check_pg_url(args.pg_url)
    from bench.common import RunLock

    run_lock = RunLock(args.pg_url)

    mode = "quick" if args.quick else "normal"
    n = SIZES[mode]
    work = Path(tempfile.mkdtemp(prefix="craneflow-bench-"))
    prepare_environment(work / "var")
    cleanup = Cleanup()
    cleanup.add(run_lock.release)
    cleanup.add(lambda: shutil.rmtree(work, ignore_errors=True))
    if not args.keep_db:
        cleanup.add(lambda: drop_pg_database(args.pg_url))
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from web.config import normalize_database_url

    from bench import flows
    from bench.report import print_report

    pg_uri = normalize_database_url(args.pg_url)
    if args.profile_only:
        from bench import profiling

        profiling.run_all(args.pg_url, work, reps=10 if args.quick else 40,
                          rows=n["e_rows"])
        return 0
    results = {"meta": _meta(mode, args), "sizes": n, "targets": TARGETS}
    wall = time.perf_counter()
    server = None
    try:
        log(f"(a) bare SpiffWorkflow, {n['a']} instances")
        parsed = flows.parse_spec()
        results["a_memory"] = flows.run_memory(n["a"], parsed)
        log(f"(b) + JSON save/load, {n['b']} instances")
        results["b_memory_json"] = flows.run_memory_persisted(n["b"], parsed)

        log(f"(c) service layer on SQLite, {n['c_sqlite']} instances")
        world = flows.ServiceWorld(f"sqlite:///{work / 'service.db'}", work / "uploads-sqlite")
        try:
            results["c_sqlite"] = flows.run_service(world, n["c_sqlite"], "sqlite",
                                                    cpu_groups={"bench process": lambda: [os.getpid()]})
        finally:
            world.dispose()

        log(f"(c) service layer on PostgreSQL, {n['c_pg']} instances")
        recreate_pg_database(args.pg_url)
        world = flows.ServiceWorld(pg_uri, work / "uploads-pg")
        try:
            results["c_pg"] = flows.run_service(world, n["c_pg"], "pg", cpu_groups={
                "bench process": lambda: [os.getpid()], "postgres": lambda: pg_backend_pids(args.pg_url)})
        finally:
            world.dispose()

        if not args.skip_http:
            from bench.http_load import Gunicorn, run_clients

            log("(d) fresh database: flask craneflow setup-db + seed-demo; gunicorn -w 3 --threads 2")
            recreate_pg_database(args.pg_url)
            server = Gunicorn(args.pg_url, work)
            cleanup.add(server.stop)
            server.setup_database()
            server.start()
            run_clients(server.base_url, 4, 2)  # warm every worker (spec parse, SQL compile cache, pool)
            groups = {"gunicorn": lambda: [server.proc.pid, *children_of(server.proc.pid)],
                      "postgres": lambda: pg_backend_pids(args.pg_url), "clients": lambda: [os.getpid()]}
            log(f"(d) 1 client, {n['d1']} flows")
            results["d_http_1"] = run_clients(server.base_url, 1, n["d1"], cpu_groups=groups)
            log(f"(d) 4 clients, {n['d4']} flows each")
            results["d_http_4"] = run_clients(server.base_url, 4, n["d4"], cpu_groups=groups)
        results["e_inbox"] = _inbox(args, pg_uri, n, server)
        if server is not None:
            server.stop()
    except Exception:
        if server_log := _server_log(server):
            print("--- gunicorn log (tail) ---\n" + server_log, file=sys.stderr)
        raise
    results["meta"]["bench_seconds"] = time.perf_counter() - wall
    results["meta"]["loadavg_end"] = _loadavg()

    summary = print_report(results)
    results["summary"] = summary
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(f"\nresults written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")

    if args.profile:
        from bench import profiling

        profiling.run_all(args.pg_url, work, reps=10 if args.quick else 40, rows=n["e_rows"])
    return 0


def _inbox(args, pg_uri, n, server) -> dict:
    from sqlalchemy import create_engine

    from bench import inbox

    if server is None:  # --skip-http: use the service-layer database
        log("(e) database of (c)")
    engine = create_engine(pg_uri)
    try:
        log(f"(e) bulk insert of {n['e_rows']:,} open human_task rows")
        out = {"bulk": inbox.bulk_insert_open_tasks(engine, n["e_rows"])}
        log(f"(e) list_inbox x {n['e_reps']} per user")
        out["service"] = inbox.time_service_inbox(engine, reps=n["e_reps"], cpu_groups={
            "bench process": lambda: [os.getpid()], "postgres": lambda: pg_backend_pids(args.pg_url)})
        if server is not None:
            log(f"(e) GET /api/v1/tasks x {n['e_reps']} per user")
            out["http"] = inbox.time_http_inbox(server.base_url, reps=n["e_reps"], cpu_groups={
                "gunicorn": lambda: [server.proc.pid, *children_of(server.proc.pid)],
                "postgres": lambda: pg_backend_pids(args.pg_url), "client": lambda: [os.getpid()]})
    finally:
        engine.dispose()
    return out


def _server_log(server) -> str:
    return server.log_tail() if server is not None else ""


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _meta(mode: str, args) -> dict:
    import SpiffWorkflow
    import sqlalchemy

    try:
        import psycopg

        from bench.common import _maintenance_url

        with psycopg.connect(_maintenance_url(args.pg_url)) as c:
            pg_version = c.execute("SHOW server_version").fetchone()[0]
            sync_commit = c.execute("SHOW synchronous_commit").fetchone()[0]
    except Exception as exc:  # reported, and the PostgreSQL steps will fail loudly
        pg_version, sync_commit = f"unavailable ({exc.__class__.__name__})", None
    return {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "mode": mode,
        "python": platform.python_version(), "spiffworkflow": getattr(SpiffWorkflow, "__version__", "3.2.0"),
        "sqlalchemy": sqlalchemy.__version__, "postgresql": pg_version, "pg_synchronous_commit": sync_commit,
        "cpus": os.cpu_count(), "loadavg_start": _loadavg(), "pg_url": args.pg_url,
        "skip_http": args.skip_http,
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
