"""Case timers at volume through the production firing path.

    .venv/bin/python bench/timers.py [--timers N | --quick] [--rate R] [--pg-url URL] [--redis-url URL]

PostgreSQL + Redis + the Celery worker (2 processes) and beat of deploy/Procfile, started here in
process groups of their own and stopped at exit. N crane-filing review SLA timers are made due
over a window; beat → craneflow.sweep → craneflow.fire_jobs → due_jobs.fire fires them. Prints
the sustained rate, lateness percentiles, double fires (must be 0) and PASS/MISS against
p95 ≤ 2 s. See bench/README.md ("Timers at volume").
"""
import argparse
import atexit
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (CpuSampler, RunLock, check_pg_url, children_of, drop_pg_database,  # noqa: E402
                          filing_data, percentile, pg_backend_pids, prepare_environment, recreate_pg_database)

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/craneflow_bench_timers"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
P95_TARGET_MS = 2000
CHINA_TZ = timezone(timedelta(hours=8))
BATCH = 500


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _die_with_parent() -> None:
    """Linux: the started process gets SIGTERM if this script dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def procfile_commands() -> dict[str, str]:
    out = {}
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            out[name.strip()] = command.strip()
    return out


class Background:
    """The Procfile's `worker` and `beat`, each in a process group of its own."""

    def __init__(self, env: dict, work: Path):
        self.env, self.work = env, work
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = {}

    def start(self, *names: str) -> None:
        commands = procfile_commands()
        for name in names:
            self.logs[name] = open(self.work / f"{name}.log", "wb")
            self.procs[name] = subprocess.Popen(
                ["sh", "-c", "exec " + commands[name]], cwd=ROOT, env=self.env,
                stdout=self.logs[name], stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent)

    def pids(self, name: str) -> list[int]:
        proc = self.procs.get(name)
        return [proc.pid, *children_of(proc.pid)] if proc and proc.poll() is None else []

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.work / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        for fh in self.logs.values():
            fh.close()
        self.procs = {}


def flush_redis(url: str) -> None:
    import redis

    db = urlsplit(url).path.lstrip("/") or "0"
    if db == "0":
        raise SystemExit("refusing to flush Redis database 0: give --redis-url a scratch database (e.g. /14)")
    redis.Redis.from_url(url).flushdb()


class TimerCloner:
    """One crane filing started through the service layer; copies of its case at the SQL level,
    each with its review timer due at a given time (state event_value, next_due_at, inbox row,
    due_job row), exactly what `start_case` + `sync_case_timers` would have written."""

    def __init__(self, world):
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from engine.db import DueJob, HumanTask, ProcessInstance, User
        from engine.db.uow import unit_of_work
        from engine.services.cases import start_case

        self.engine = world.engine
        with unit_of_work(self.engine) as s:
            owner = s.get(User, world.users["owner_wuhan"])
            template_id = start_case(s, actor=owner, process_key="crane_registration",
                                     data=filing_data("TIMER-TEMPLATE", world.documents)).id
        with Session(self.engine) as s:
            row = dict(s.execute(select(ProcessInstance.__table__).where(
                ProcessInstance.id == template_id)).mappings().one())
            (key,) = s.scalars(select(DueJob.key).where(DueJob.instance_id == template_id,
                                                       DueJob.kind == "timer")).all()
            self.tasks = [dict(t) for t in s.execute(select(HumanTask.__table__).where(
                HumanTask.instance_id == template_id, HumanTask.status == "open")).mappings()]
        self.timer_task_id = key.rsplit(":", 1)[1]
        state = row.pop("state")
        timer = state["tasks"][self.timer_task_id]
        old_value = timer["internal_data"]["event_value"]
        # The due time appears as the timer's event_value and as the review_deadline variable.
        self.state_parts = json.dumps(state, ensure_ascii=False).split(json.dumps(old_value))
        row.pop("id")
        self.row = row
        for task in self.tasks:
            task.pop("id")

    def clone(self, due_times: list[datetime]) -> list[int]:
        """Cases whose timers are due at `due_times`; the ids of their due jobs, in that order."""
        from sqlalchemy import insert

        from engine.db import DueJob, HumanTask, ProcessInstance, utcnow
        from engine.db.base import EncodedJSON
        from engine.services.due_jobs import timer_key

        job_ids = []
        for start in range(0, len(due_times), BATCH):
            chunk = due_times[start:start + BATCH]
            now = utcnow()
            cases = []
            for due in chunk:
                value = json.dumps(due.astimezone(CHINA_TZ).isoformat(timespec="milliseconds"))
                cases.append({**self.row, "state": EncodedJSON(value.join(self.state_parts)),
                              "next_due_at": due, "started_at": now})
            with self.engine.begin() as conn:
                ids = conn.execute(insert(ProcessInstance.__table__).returning(
                    ProcessInstance.id, sort_by_parameter_order=True), cases).scalars().all()
                conn.execute(insert(HumanTask.__table__), [
                    {**task, "instance_id": case_id, "due_at": due, "created_at": now}
                    for case_id, due in zip(ids, chunk) for task in self.tasks])
                job_ids += conn.execute(insert(DueJob.__table__).returning(
                    DueJob.id, sort_by_parameter_order=True), [
                    {"kind": "timer", "key": timer_key(case_id, self.timer_task_id), "instance_id": case_id,
                     "due_at": due, "status": "pending", "payload": {}, "attempts": 0, "created_at": now}
                    for case_id, due in zip(ids, chunk)]).scalars().all()
        return job_ids


def wait_done(engine, job_ids: list[int], timeout: float, background: Background, label: str) -> bool:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from engine.db import DueJob

    deadline = time.monotonic() + timeout
    last_print = 0.0
    # The clones' ids are consecutive: a range scan keeps this poll cheap next to the workers.
    first, last = min(job_ids), max(job_ids)
    while time.monotonic() < deadline:
        background.check()
        with Session(engine) as s:
            counts = dict(s.execute(select(DueJob.status, func.count()).where(
                DueJob.id.between(first, last), DueJob.kind == "timer").group_by(DueJob.status)).all())
        if counts.get("done", 0) + counts.get("failed", 0) >= len(job_ids):
            return True
        if time.monotonic() - last_print > 10:
            log(f"{label}: {counts}")
            last_print = time.monotonic()
        time.sleep(1.0)
    return False


def job_figures(engine, job_ids: list[int]) -> dict:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT status, due_at, fired_at, lateness_ms, attempts, created_at FROM due_job WHERE id = ANY(:ids)"),
            {"ids": job_ids}).all()
        timers = conn.execute(text(
            "SELECT count(*) FROM audit_event WHERE action = 'timer' AND (detail->>'job')::int = ANY(:ids)"),
            {"ids": job_ids}).scalar()
        jobs_twice = conn.execute(text(
            "SELECT count(*) FROM (SELECT detail->>'job' FROM audit_event WHERE action = 'timer' "
            "AND (detail->>'job')::int = ANY(:ids) GROUP BY 1 HAVING count(*) > 1) twice"), {"ids": job_ids}).scalar()
        # Same case, same due time, two timer events: a double fire even under two job rows.
        cases_twice = conn.execute(text(
            "SELECT count(*) FROM (SELECT a.instance_id, a.from_state FROM audit_event a "
            "JOIN due_job j ON j.instance_id = a.instance_id WHERE a.action = 'timer' AND j.id = ANY(:ids) "
            "GROUP BY 1, 2 HAVING count(*) > 1) twice"), {"ids": job_ids}).scalar()
        overdue_twice = conn.execute(text(
            "SELECT count(*) FROM (SELECT a.instance_id FROM audit_event a JOIN due_job j "
            "ON j.instance_id = a.instance_id WHERE a.action = 'overdue' AND j.id = ANY(:ids) "
            "GROUP BY 1 HAVING count(*) > 1) twice"), {"ids": job_ids}).scalar()
    done = [r for r in rows if r.status == "done"]
    lateness = [r.lateness_ms for r in done]
    fired = [r.fired_at for r in done]
    span = (max(fired) - min(fired)).total_seconds() if len(fired) > 1 else float("nan")
    return {
        "count": len(rows), "done": len(done), "failed": sum(r.status == "failed" for r in rows),
        "not_done": sum(r.status not in ("done", "failed") for r in rows),
        "retried": sum(r.attempts > 1 for r in done),
        # Written after their due time (the window opened too early): their lateness is not the sweep's.
        "written_after_due": sum(r.created_at > r.due_at for r in rows),
        "first_due": min(r.due_at for r in rows), "last_due": max(r.due_at for r in rows),
        "first_fired": min(fired) if fired else None, "last_fired": max(fired) if fired else None,
        "fire_span_s": span, "fires_per_s": (len(done) - 1) / span if span and span > 0 else float("nan"),
        "lateness_ms": {p: percentile(lateness, q) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))}
        | {"max": max(lateness) if lateness else float("nan")},
        "timer_events": timers, "double_fires": jobs_twice + cases_twice, "jobs_fired_twice": jobs_twice,
        "cases_fired_twice": cases_twice, "cases_flagged_twice": overdue_twice,
    }


def loadavg() -> tuple:
    try:
        return tuple(float(x) for x in Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return ()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timers", type=int, default=10_000, help="timers in the measured window (10,000)")
    ap.add_argument("--quick", action="store_true", help="1,000 timers, a smaller calibration (< 60 s)")
    ap.add_argument("--rate", type=float, help="timers due per second (default: 70 %% of the measured capacity)")
    ap.add_argument("--load", type=float, default=0.7, help="share of the measured capacity to schedule (0.7)")
    ap.add_argument("--calibrate", type=int, help="timers all due at once to measure capacity (300; quick 150)")
    ap.add_argument("--workers", type=int, default=2, help="Celery worker processes (2)")
    ap.add_argument("--pg-url", default=os.environ.get("BENCH_TIMERS_PG_URL", DEFAULT_PG_URL),
                    help=f"scratch PostgreSQL database, DROPPED and recreated (default {DEFAULT_PG_URL})")
    ap.add_argument("--redis-url", default=os.environ.get("BENCH_TIMERS_REDIS_URL", DEFAULT_REDIS_URL),
                    help=f"scratch Redis database, FLUSHED (default {DEFAULT_REDIS_URL})")
    ap.add_argument("--keep-db", action="store_true", help="leave the PostgreSQL database behind")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "timers.json"), help="results file")
    args = ap.parse_args(argv)
    n = 1000 if args.quick and args.timers == 10_000 else args.timers
    calibrate = args.calibrate or (150 if args.quick else 300)
    check_pg_url(args.pg_url)
    run_lock = RunLock(args.pg_url)
    work = Path(tempfile.mkdtemp(prefix="craneflow-bench-timers-"))
    prepare_environment(work / "var")
    (work / "var").mkdir(parents=True)

    background = None
    cleanups = []

    def cleanup():
        while cleanups:
            try:
                cleanups.pop()()
            except Exception as exc:  # keep cleaning up
                print(f"cleanup: {exc}", file=sys.stderr)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cleanups += [run_lock.release, lambda: shutil.rmtree(work, ignore_errors=True)]
    if not args.keep_db:
        cleanups.append(lambda: drop_pg_database(args.pg_url))

    from bench.flows import ServiceWorld
    from engine.db import utcnow
    from web.config import normalize_database_url

    wall = time.perf_counter()
    load_start = loadavg()
    log(f"database {args.pg_url} (recreated), Redis {args.redis_url} (flushed); load average {load_start}")
    recreate_pg_database(args.pg_url)
    flush_redis(args.redis_url)
    world = ServiceWorld(normalize_database_url(args.pg_url), work / "uploads")
    cleanups.append(world.dispose)
    cloner = TimerCloner(world)

    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "DATABASE_URL": args.pg_url, "REDIS_URL": args.redis_url, "BACKGROUND": "celery",
           "CRANEFLOW_VAR_DIR": str(work / "var"), "UPLOAD_DIR": str(work / "uploads"),
           "CELERY_CONCURRENCY": str(args.workers), "CELERY_LOGLEVEL": "warning"}
    background = Background(env, work)
    cleanups.append(background.stop)
    background.start("worker", "beat")
    log(f"celery worker ({args.workers} processes) + beat started from deploy/Procfile")

    # Calibration: `calibrate` timers due at the same moment; the rate they are drained at is
    # what the workers sustain (it also warms them: spec cache, connections).
    t = time.perf_counter()
    due = utcnow() + timedelta(seconds=8)
    calib_ids = cloner.clone([due] * calibrate)
    clone_rate = calibrate / (time.perf_counter() - t)
    if not wait_done(world.engine, calib_ids, 120 + calibrate / 5, background, "calibration"):
        print(background.tail("worker"), file=sys.stderr)
        raise SystemExit("calibration timers did not all fire")
    calib = job_figures(world.engine, calib_ids)
    capacity = calib["fires_per_s"]
    rate = args.rate or round(capacity * args.load, 1)
    window = n / rate
    log(f"capacity {capacity:.1f} fires/s ({calibrate} timers due at once); scheduling {n} timers "
        f"at {rate:.1f}/s over {window:.0f} s; cloning at ~{clone_rate:.0f} cases/s")

    # The window opens once every case is written (the cloning would otherwise compete for CPU).
    lead = n / clone_rate * 1.3 + 3
    start = utcnow() + timedelta(seconds=lead)
    rng = random.Random(20261122)
    due_times = sorted(start + timedelta(seconds=rng.uniform(0, window)) for _ in range(n))
    t = time.perf_counter()
    job_ids = cloner.clone(due_times)
    assert max(job_ids) - min(job_ids) + 1 == len(job_ids), "cloned job ids are not consecutive"
    cloned_in = time.perf_counter() - t
    log(f"{n} cases and timers written in {cloned_in:.1f} s; first due in "
        f"{(start - utcnow()).total_seconds():.1f} s")

    sampler = CpuSampler({
        "celery worker": lambda: background.pids("worker"), "beat": lambda: background.pids("beat"),
        "postgres": lambda: pg_backend_pids(args.pg_url), "bench": lambda: [os.getpid()]})
    time.sleep(max(0.0, (start - utcnow()).total_seconds()))
    sampler.start()
    finished = wait_done(world.engine, job_ids, window + max(120.0, window), background, "run")
    cpu = sampler.stop()
    figures = job_figures(world.engine, job_ids)
    figures["drain_after_last_due_s"] = ((figures["last_fired"] - figures["last_due"]).total_seconds()
                                         if figures["last_fired"] else float("nan"))
    load_end = loadavg()

    lat = figures["lateness_ms"]
    verdict = "PASS" if lat["p95"] <= P95_TARGET_MS and finished else "MISS"
    print()
    print(f"Timers at volume — {args.workers} Celery worker processes + beat, PostgreSQL, Redis")
    print(f"  capacity (calibration, {calibrate} due at once)  {capacity:8.1f} fires/s")
    print(f"  scheduled rate                            {rate:8.1f} timers/s over {window:.0f} s")
    print(f"  timers                                    {figures['count']:8d}   done {figures['done']}, "
          f"failed {figures['failed']}, not done {figures['not_done']}, fired on a 2nd attempt {figures['retried']}")
    print(f"  first due → last fire                     {(figures['last_fired'] - figures['first_due']).total_seconds():8.1f} s"
          if figures["last_fired"] else "  no timer fired")
    print(f"  drain after the last due time             {figures['drain_after_last_due_s']:8.2f} s")
    print(f"  fires/s (first to last fire)              {figures['fires_per_s']:8.1f}")
    print(f"  lateness p50 / p95 / p99 / max            {lat['p50']:.0f} / {lat['p95']:.0f} / {lat['p99']:.0f} / "
          f"{lat['max']:.0f} ms")
    print(f"  double fires                              {figures['double_fires']:8d}   "
          f"(jobs with 2+ timer events {figures['jobs_fired_twice']}, cases with 2+ for one due time "
          f"{figures['cases_fired_twice']}; cases flagged overdue twice {figures['cases_flagged_twice']})")
    print(f"  p95 ≤ {P95_TARGET_MS / 1000:.0f} s                                  {verdict}")
    busy = cpu.get("machine_busy", float("nan")) / cpu["wall_seconds"]
    print(f"  CPU during the window ({cpu['wall_seconds']:.0f} s, 2 cores = 200 %): worker "
          f"{100 * cpu['celery worker'] / cpu['wall_seconds']:.0f} %, beat {100 * cpu['beat'] / cpu['wall_seconds']:.0f} %, "
          f"postgres {100 * cpu['postgres'] / cpu['wall_seconds']:.0f} %, this script "
          f"{100 * cpu['bench'] / cpu['wall_seconds']:.0f} %, other processes {100 * cpu.get('others', 0) / cpu['wall_seconds']:.0f} %"
          f" (machine busy {100 * busy:.0f} %)")
    if figures["done"]:
        print(f"  CPU per fire: worker {1000 * cpu['celery worker'] / figures['done']:.1f} ms, "
              f"postgres {1000 * cpu['postgres'] / figures['done']:.1f} ms")
    print(f"  load average at start {load_start}, at end {load_end}; total {time.perf_counter() - wall:.0f} s")

    results = {"timers": n, "workers": args.workers, "capacity_fires_per_s": capacity, "rate": rate,
               "window_s": window, "calibration": calib, "run": figures, "cpu": cpu, "verdict": verdict,
               "loadavg_start": load_start, "loadavg_end": load_end,
               "at": datetime.now(timezone.utc).isoformat()}
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    failed = figures["double_fires"] or figures["cases_flagged_twice"] or not finished or figures["failed"]
    if failed:
        print(background.tail("worker"), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
