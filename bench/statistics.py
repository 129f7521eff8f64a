"""Regulator statistics at volume: every dashboard section under 200 ms on PostgreSQL.

    .venv/bin/python bench/statistics.py [--cranes N --tasks M | --quick] [--runs R] [--pg-url URL] [--keep-db]
                                         [--reuse-db]

A scratch database (dropped and recreated) gets the demo accounts and `flask craneflow
generate-demo-data`'s data for N cranes (~16 tasks each); if that leaves fewer than M tasks, completed
review tasks are copied (INSERT … SELECT, dates shifted within the two years) up to M. Then ANALYZE,
and each section is timed R times for the province (reg_province), a city (reg_wuhan, 420100) and a
county (the province drilled down to 江岸区 420102), plus the whole /statistics page. Prints p50/p95
per section and PASS/MISS against 200 ms. `--reuse-db` times a database kept by an earlier `--keep-db`
run again, after migrating it (timing the migration). See bench/README.md ("Statistics dashboard at volume").
"""
import argparse
import atexit
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path and its name would hide the standard
# library's `statistics` module: keep the project root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (DEMO_PASSWORD, RunLock, check_pg_url, drop_pg_database, percentile,  # noqa: E402
                          prepare_environment, recreate_pg_database)

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/craneflow_bench_stats"
TARGET_MS = 200.0
SCOPES = (("province", "reg_province", None), ("city 420100", "reg_wuhan", None),
          ("county 420102", "reg_province", "420102"))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def top_up_tasks(engine, target: int) -> int:
    """Copies of completed regulator reviews, one to two years older, until `target` tasks exist."""
    from sqlalchemy import text

    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM human_task")).scalar_one()
        while have < target:
            missing = target - have
            conn.execute(text("""
                INSERT INTO human_task (instance_id, task_guid, task_name, title, form_key, lane, role, levels,
                    enterprise_id, region_code, city_code, province_code, process_key, case_title, status,
                    created_at, due_at, completed_at, completed_by_id)
                SELECT instance_id, md5(random()::text || id::text), task_name || '_h', title, form_key, lane, role,
                    levels, enterprise_id, region_code, city_code, province_code, process_key, case_title, status,
                    created_at - shift, due_at - shift, completed_at - shift, completed_by_id
                FROM (SELECT t.*, (interval '1 day') * (30 + (t.id % 330)) AS shift FROM human_task t
                      WHERE t.status = 'completed' ORDER BY t.id LIMIT :missing) AS src"""), {"missing": missing})
            have = conn.execute(text("SELECT count(*) FROM human_task")).scalar_one()
    return have


def time_sections(app, runs: int) -> dict:
    """{scope: {section: [seconds…], "page": [seconds…]}}"""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from engine.db import User
    from engine.services import statistics
    from web.extensions import db

    with app.app_context():
        engine = db.engine
    out = {}
    for label, username, region in SCOPES:
        timings = {name: [] for name in statistics.SECTIONS}
        with Session(engine) as s:
            user = s.scalar(select(User).where(User.username == username))
            s.expunge(user)
        for run in range(runs + 1):  # the first run warms caches and is not counted
            for name in statistics.SECTIONS:
                with Session(engine) as s:
                    started = time.perf_counter()
                    statistics.compute(s, user, name, region=region)
                    elapsed = time.perf_counter() - started
                if run:
                    timings[name].append(elapsed)
        timings["page"] = time_page(app, username, region, runs)
        out[label] = timings
    return out


def time_usage_report(app, runs: int) -> dict:
    """{period: [seconds…]}: the province's usage report (通报) for the last full month and the year so far."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from engine.db import User
    from engine.services import usage_report
    from forms.fields import today_in_china
    from web.extensions import db

    with app.app_context():
        engine = db.engine
    today = today_in_china()
    periods = {"month": usage_report.last_full_month(today), "year": usage_report.Period.year(today.year)}
    out = {}
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == "reg_province"))
        for label, period in periods.items():
            out[label] = []
            for run in range(runs + 1):
                started = time.perf_counter()
                with app.app_context():
                    usage_report.build_report(s, user, period=period)
                if run:
                    out[label].append(time.perf_counter() - started)
    return out


def time_page(app, username: str, region: str | None, runs: int) -> list[float]:
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.status_code
    url = "/statistics" + (f"?region={region}" if region else "")
    seconds = []
    for run in range(runs + 1):
        started = time.perf_counter()
        r = client.get(url)
        elapsed = time.perf_counter() - started
        assert r.status_code == 200, r.status_code
        if run:
            seconds.append(elapsed)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cranes", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="10,000 cranes and 100,000 tasks")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    parser.add_argument("--reuse-db", action="store_true",
                        help="migrate and time the database an earlier --keep-db run left (implies --keep-db)")
    args = parser.parse_args()
    if args.quick:
        args.cranes, args.tasks = 10_000, 100_000
    args.keep_db = args.keep_db or args.reuse_db
    check_pg_url(args.pg_url)
    run_lock = RunLock(args.pg_url)
    work = Path(tempfile.mkdtemp(prefix="craneflow-bench-stats-"))
    prepare_environment(work / "var")
    cleanups = [run_lock.release, lambda: shutil.rmtree(work, ignore_errors=True)]
    if not args.keep_db:
        cleanups.append(lambda: drop_pg_database(args.pg_url))
    atexit.register(lambda: [fn() for fn in reversed(cleanups)])

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from bench.flows import ServiceWorld
    from engine.services.demo_data import generate_demo_data
    from web.config import normalize_database_url

    from engine.services.statistics import rollup

    if args.reuse_db:
        log(f"database {args.pg_url} (reused)")
    else:
        log(f"database {args.pg_url} (recreated)")
        recreate_pg_database(args.pg_url)
    started = time.perf_counter()
    world = ServiceWorld(normalize_database_url(args.pg_url), work / "uploads")
    cleanups.append(world.dispose)
    log(f"migrated and seeded in {time.perf_counter() - started:.1f} s")

    with world.engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM crane")).scalar_one()
    if not (args.reuse_db and have >= args.cranes):
        started = time.perf_counter()
        with world.app.app_context(), Session(world.engine) as s:
            summary = generate_demo_data(s, cranes=args.cranes, seed=args.seed)
            s.commit()
        log(f"generated in {time.perf_counter() - started:.0f} s: " +
            ", ".join(f"{k} {v}" for k, v in summary.as_dict().items()))
    started = time.perf_counter()
    tasks = top_up_tasks(world.engine, args.tasks)
    with Session(world.engine) as s:  # the copies were inserted in bulk: count them in the rollup too
        rollup_rows = rollup.rebuild(s)
        s.commit()
    with world.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("crane", "process_instance", "human_task", "inspection", "hazard", "audit_event")}
    log(f"tasks topped up to {tasks}, review rollup rebuilt ({rollup_rows} rows), VACUUM ANALYZE in "
        f"{time.perf_counter() - started:.0f} s; rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    results = time_sections(world.app, args.runs)
    worst = 0.0
    print(f"\n{'scope':<15} {'section':<12} {'p50 ms':>8} {'p95 ms':>8}  verdict ({args.runs} runs, target {TARGET_MS:.0f} ms)")
    for scope, timings in results.items():
        for name, seconds in timings.items():
            ms = [x * 1000 for x in seconds]
            p50, p95 = percentile(ms, 50), percentile(ms, 95)
            verdict = "PASS" if p95 <= TARGET_MS or name == "page" else "MISS"
            if name != "page":
                worst = max(worst, p95)
            print(f"{scope:<15} {name:<12} {p50:8.1f} {p95:8.1f}  {verdict if name != 'page' else '(whole page)'}")
        sums = [sum(run) * 1000 for run in zip(*(v for k, v in timings.items() if k != "page"))]
        print(f"{scope:<15} {'sections Σ':<12} {percentile(sums, 50):8.1f} {percentile(sums, 95):8.1f}")
    for label, seconds in time_usage_report(world.app, max(3, args.runs // 4)).items():
        ms = [x * 1000 for x in seconds]
        print(f"{'province':<15} {'usage ' + label:<12} {percentile(ms, 50):8.1f} {percentile(ms, 95):8.1f}  "
              "(usage report, not a dashboard section)")
    ok = worst <= TARGET_MS
    print(f"\n{'PASS' if ok else 'MISS'}: slowest section p95 {worst:.1f} ms (target {TARGET_MS:.0f} ms per section)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
