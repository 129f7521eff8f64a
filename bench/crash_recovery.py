"""Crash recovery under load: kill -9 a Celery worker and a gunicorn worker in the middle of a load
of case transitions and due case timers, then check every case: nothing lost, nothing done twice.

    .venv/bin/python bench/crash_recovery.py [--duration 40] [--clients 4] [--pg-url URL] [--keep-db]

Production topology on a scratch PostgreSQL database (dropped and recreated) and a scratch Redis
database (flushed): gunicorn (3 gthread workers), two Celery workers (`-c 1`), Celery beat.
See bench/README.md ("Crash recovery"). Exit status 1 when a check fails.
"""
import argparse
import atexit
import io
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.common import (DEMO_PASSWORD, DOC_TYPES, PDF, PROCESS_KEY, children_of, check_pg_url,  # noqa: E402
                          drop_pg_database, filing_data, recreate_pg_database)
from bench.http_load import Gunicorn, _die_with_parent  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/craneflow_crash"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
TIMEOUT = 60
ATTEMPTS = 12


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- processes ------------------------------------------------------------------------------

class Service:
    """One background command in its own process group (so that kill -9 hits exactly it)."""

    def __init__(self, name: str, argv: list[str], env: dict, work: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = work / f"{name}.log"
        self.proc = None

    def start(self) -> "Service":
        # Call from the main thread: PR_SET_PDEATHSIG fires when the *thread* that forked exits.
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        return self

    def wait_for(self, marker: bytes, count: int = 1, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.log_path.read_bytes().count(marker) >= count:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not get ready; log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill9(self) -> None:
        """kill -9 the whole group: the worker and its pool process, no shutdown of any kind."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self, timeout: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)  # Celery: warm shutdown (finish the task at hand)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of our own group
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        self._log.close()


class CeleryGunicorn(Gunicorn):
    """The benchmark's gunicorn, with background work handed to Celery over Redis."""

    def __init__(self, database_url: str, redis_url: str, work_dir: Path, workers: int = 3):
        super().__init__(database_url, work_dir, workers)
        self.redis_url = redis_url

    @property
    def env(self) -> dict:
        env = super().env
        env.update({"REDIS_URL": self.redis_url, "BACKGROUND": "celery"})
        return env


def celery_worker(name: str, env: dict, work: Path) -> Service:
    return Service(name, [sys.executable, "-m", "celery", "-A", "web.worker", "worker",
                          "-Q", "craneflow,craneflow.sweep", "-c", "1", "-n", f"{name}@%h",
                          "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"], env, work)


def celery_beat(env: dict, work: Path) -> Service:
    return Service("beat", [sys.executable, "-m", "celery", "-A", "web.worker", "beat",
                            "-s", str(work / "beat-schedule"), "-l", "info"], env, work)


def flush_redis(url: str) -> None:
    import redis

    db = urlsplit(url).path.lstrip("/")
    if not db.isdigit() or db == "0":
        raise SystemExit(f"refusing to flush Redis database {db or '0'!r}: give --redis-url a scratch database")
    redis.Redis.from_url(url).flushdb()


class Receiver:
    """A stand-in for the national platform: counts each push it accepts by its Idempotency-Key."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = Counter()
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    received[self.headers.get("Idempotency-Key")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/exchange"
        threading.Thread(target=self.server.serve_forever, name="receiver", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the HTTP clients -------------------------------------------------------------------------

class Ledger:
    """What the clients saw: every 2xx, and every outcome found by re-reading after a lost answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.starts = {}                   # serial -> (case id, "ok" | "recovered")
        self.decisions = defaultdict(list)  # case id -> decisions the client believes were taken, in order
        self.completions = []              # (task id, user id, "ok" | "recovered")
        self.errors = []
        self.counts = Counter()

    def add(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n


class Actor:
    """One logged-in user of one client thread."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.http = requests.Session()
        r = self.http.post(base + "/api/v1/session", json={"username": username, "password": DEMO_PASSWORD},
                           timeout=TIMEOUT)
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['token']}"
        self.user_id = r.json()["user"]["id"]

    def get(self, path: str, ledger: Ledger) -> dict:
        """A read, repeated until it gets an answer (reads are safe to repeat)."""
        for attempt in range(ATTEMPTS):
            try:
                r = self.http.get(self.base + path, timeout=TIMEOUT)
            except requests.RequestException:
                ledger.add("read_retries")
                time.sleep(0.2 * (attempt + 1))
                continue
            r.raise_for_status()
            return r.json()
        raise RuntimeError(f"GET {path}: no answer")

    def post(self, path: str, body: dict):
        return self.http.post(self.base + path, json=body, timeout=TIMEOUT)


class Client(threading.Thread):
    """owner_wuhan files cranes, reg_wuhan reviews them (a share returned for correction first),
    and now and then reviews one of the timer cases the script started. A request whose answer is
    lost is handled as a user would: re-read, and repeat it only if it did not happen."""

    def __init__(self, base: str, name: str, stop_at: float, ledger: Ledger, timer_cases: queue.Queue,
                 return_share: float, seed: int):
        super().__init__(name=name, daemon=True)
        self.owner = Actor(base, "owner_wuhan")
        self.reg = Actor(base, "reg_wuhan")
        self.documents = {d: [self._upload(f"{d}.pdf")] for d in DOC_TYPES}
        self.stop_at, self.ledger, self.timer_cases = stop_at, ledger, timer_cases
        self.return_share = return_share
        self.rng = random.Random(seed)
        self.flows = 0

    def _upload(self, name: str) -> int:
        r = self.owner.http.post(self.owner.base + "/api/v1/attachments", files={"file": (name, io.BytesIO(PDF))},
                                 timeout=TIMEOUT)
        r.raise_for_status()
        return r.json()["id"]

    def run(self) -> None:
        while time.monotonic() < self.stop_at:
            try:
                if self.rng.random() < 0.3:
                    try:
                        case_id, task_id = self.timer_cases.get_nowait()
                    except queue.Empty:
                        pass
                    else:
                        self.complete(self.reg, case_id, task_id, {"decision": "approve"})
                        continue
                self.flow()
            except Exception as exc:  # recorded; the checks then fail
                self.ledger.errors.append(f"{self.name}: {type(exc).__name__}: {exc}")
                time.sleep(0.5)

    def flow(self) -> None:
        serial = f"CRASH-{self.name}-{uuid.uuid4().hex[:10]}"
        started = self.start_filing(serial)
        if started is None:
            return
        case_id, task_id = started
        if self.rng.random() < self.return_share:
            task_id = self._single(self.complete(self.reg, case_id, task_id,
                                                 {"decision": "return", "reason": "请补充产权证明原件扫描件"}))
            task_id = self._single(self.complete(self.owner, case_id, task_id,
                                                 filing_data(serial, self.documents)))
        if task_id is not None and self.complete(self.reg, case_id, task_id, {"decision": "approve"}) is not None:
            self.flows += 1

    @staticmethod
    def _single(open_tasks):
        return open_tasks[0]["id"] if open_tasks and len(open_tasks) == 1 else None

    def start_filing(self, serial: str):
        body = {"process_key": PROCESS_KEY, "data": filing_data(serial, self.documents)}
        for attempt in range(ATTEMPTS):
            try:
                r = self.owner.post("/api/v1/cases", body)
            except requests.RequestException:
                self.ledger.add("lost_answers")
                found = self._find_case(serial)
                if found is not None:
                    return self._case_started(serial, found, "recovered")
                self.ledger.add("resent")
                time.sleep(0.2 * (attempt + 1))
                continue
            if r.status_code == 201:
                return self._case_started(serial, r.json(), "ok")
            if r.status_code == 422 and attempt and "factory_serial" in r.text:
                found = self._find_case(serial)  # an earlier, lost attempt did go through
                if found is not None:
                    return self._case_started(serial, found, "recovered")
            self.ledger.errors.append(f"POST /cases {r.status_code}: {r.text[:300]}")
            return None
        self.ledger.errors.append(f"POST /cases for {serial}: gave up")
        return None

    def _case_started(self, serial: str, case: dict, how: str):
        with self.ledger.lock:
            self.ledger.starts[serial] = (case["id"], how)
            self.ledger.counts[f"start_{how}"] += 1
        return case["id"], self._single(case["open_tasks"])

    def _find_case(self, serial: str):
        """The owner looks through its latest cases for the crane's serial."""
        for page in (1, 2, 3):
            items = self.owner.get(f"/api/v1/cases?per_page=100&page={page}", self.ledger)["items"]
            for item in items:
                if f"出厂编号 {serial}）" in (item["title"] or ""):
                    return self.owner.get(f"/api/v1/cases/{item['id']}", self.ledger)
            if len(items) < 100:
                break
        return None

    def complete(self, actor: Actor, case_id: int, task_id: int, data: dict):
        """Complete the task; the case's open tasks afterwards, or None on failure."""
        for attempt in range(ATTEMPTS):
            try:
                r = actor.post(f"/api/v1/tasks/{task_id}/complete", {"data": data})
            except requests.RequestException:
                self.ledger.add("lost_answers")
                task = actor.get(f"/api/v1/tasks/{task_id}", self.ledger)
                if task["status"] == "open":
                    self.ledger.add("resent")
                    time.sleep(0.2 * (attempt + 1))
                    continue
                return self._completed(actor, case_id, task_id, data, "recovered")
            if r.status_code == 200:
                return self._completed(actor, case_id, task_id, data, "ok", r.json()["open_tasks"])
            if r.status_code == 409 and attempt:
                task = actor.get(f"/api/v1/tasks/{task_id}", self.ledger)
                if task["status"] == "completed" and task["completed_by_id"] == actor.user_id:
                    return self._completed(actor, case_id, task_id, data, "recovered")
            self.ledger.errors.append(f"POST /tasks/{task_id}/complete {r.status_code}: {r.text[:300]}")
            return None
        self.ledger.errors.append(f"POST /tasks/{task_id}/complete: gave up")
        return None

    def _completed(self, actor, case_id, task_id, data, how, open_tasks=None):
        with self.ledger.lock:
            self.ledger.completions.append((task_id, actor.user_id, how))
            if "decision" in data:
                self.ledger.decisions[case_id].append(data["decision"])
            self.ledger.counts[f"complete_{how}"] += 1
        if open_tasks is None:
            open_tasks = actor.get(f"/api/v1/cases/{case_id}", self.ledger)["open_tasks"]
        return open_tasks


# --- case timers started in this process -----------------------------------------------------

class TimerCases(threading.Thread):
    """Starts filings through the service layer with a review deadline seconds away (the SLA
    boundary timer), some spread over the load and a burst all due at the same instant; hands
    half of them to the clients to be reviewed, before or after their timer fires."""

    def __init__(self, world, spread: int, burst: int, window: float, for_clients: queue.Queue, seed: int):
        super().__init__(name="timer-cases", daemon=True)
        self.world, self.spread, self.burst, self.window = world, spread, burst, window
        self.for_clients = for_clients
        self.rng = random.Random(seed)
        self.due = {}          # case id -> due time
        self.burst_ids = []
        self.burst_at = None
        self.error = None

    def prepare_burst(self, fires_after: float) -> None:
        """Before the load: the burst, all due `fires_after` seconds from now. A deadline already
        past would fire inside the starting transaction, not as a job: were the starts slower than
        that, the last ones are due a second after their start."""
        from engine.db import utcnow

        self.burst_at = utcnow() + timedelta(seconds=fires_after)
        self.burst_ids = [self._start(f"BURST-{i}", max(self.burst_at, utcnow() + timedelta(seconds=1)))
                          for i in range(self.burst)]

    def run(self) -> None:
        """During the load: the spread timers, each due 2 to 8 seconds after its start."""
        from engine.db import utcnow

        try:
            t0 = time.monotonic()
            for i in range(self.spread):
                self._start(f"TIMER-{i}", utcnow() + timedelta(seconds=self.rng.uniform(2, 8)))
                time.sleep(max(0.0, t0 + (i + 1) * self.window / self.spread - time.monotonic()))
        except Exception as exc:
            self.error = exc

    def _start(self, label: str, due) -> int:
        from engine.db import User
        from engine.db.uow import unit_of_work
        from engine.services import crane_filing
        from engine.services.cases import case_tasks, start_case

        crane_filing.review_deadline = lambda now: due  # this thread is the only starter in this process
        with unit_of_work(self.world.engine) as s:
            owner = s.get(User, self.world.owner_id)
            instance = start_case(s, actor=owner, process_key=PROCESS_KEY,
                                  data=filing_data(f"{label}-{uuid.uuid4().hex[:8]}", self.world.documents))
            (task,) = case_tasks(s, instance, "open")
            case_id, task_id = instance.id, task.id
        self.due[case_id] = due
        if self.rng.random() < 0.5:
            self.for_clients.put((case_id, task_id))
        return case_id


class World:
    """This process's view of the scratch database (service layer, checks)."""

    def __init__(self, database_url: str, upload_dir: Path):
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from engine.db import User
        from engine.db.uow import unit_of_work
        from engine.services.attachments import store_upload
        from web import create_app
        from web.config import normalize_database_url
        from web.extensions import db

        self.app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
                               "UPLOAD_DIR": str(upload_dir), "BACKGROUND": "off", "SECRET_KEY": "bench"})
        with self.app.app_context():
            self.engine = db.engine
        with Session(self.engine) as s:
            self.owner_id = s.scalar(select(User.id).where(User.username == "owner_wuhan"))
        with unit_of_work(self.engine) as s:
            owner = s.get(User, self.owner_id)
            self.documents = {d: [store_upload(s, actor=owner, filename=f"{d}.pdf", stream=io.BytesIO(PDF)).id]
                              for d in DOC_TYPES}

    def scalar(self, stmt):
        from sqlalchemy.orm import Session

        with Session(self.engine) as s:
            return s.scalar(stmt)

    def job_counts(self, instance_ids=None) -> Counter:
        from sqlalchemy import func, select
        from sqlalchemy.orm import Session

        from engine.db import DueJob

        stmt = select(DueJob.status, func.count()).group_by(DueJob.status)
        if instance_ids is not None:
            stmt = stmt.where(DueJob.instance_id.in_(list(instance_ids)))
        with Session(self.engine) as s:
            return Counter(dict(s.execute(stmt).all()))

    def background_idle(self) -> bool:
        """No job due or queued, no message waiting or running."""
        from sqlalchemy import and_, func, or_, select

        from engine.db import DueJob, OutboxMessage, utcnow

        jobs = self.scalar(select(func.count()).select_from(DueJob).where(or_(
            DueJob.status == "queued", and_(DueJob.status == "pending", DueJob.due_at <= utcnow()))))
        messages = self.scalar(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.status.in_(("pending", "running"))))
        return jobs == 0 and messages == 0


# --- the checks -------------------------------------------------------------------------------

def check_everything(world: World, ledger: Ledger, timers: TimerCases, received: Counter) -> tuple[list[str], dict]:
    """Every case against its audit trail, tasks, crane, timers; every answer the clients saw."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from engine.db import AuditEvent, Crane, DueJob, ExchangeRecord, HumanTask, OutboxMessage, ProcessInstance, utcnow

    problems: list[str] = []
    now = utcnow()
    with Session(world.engine) as s:
        cases = {c.id: c for c in s.scalars(select(ProcessInstance).where(ProcessInstance.process_key == PROCESS_KEY))}
        audits = defaultdict(list)
        for a in s.scalars(select(AuditEvent).where(AuditEvent.instance_id.is_not(None)).order_by(AuditEvent.id)):
            audits[a.instance_id].append(a)
        tasks = defaultdict(list)
        for t in s.scalars(select(HumanTask).order_by(HumanTask.id)):
            tasks[t.instance_id].append(t)
        cranes = {c.id: c for c in s.scalars(select(Crane))}
        jobs = list(s.scalars(select(DueJob)))
        messages = Counter((m.topic, m.status) for m in s.scalars(select(OutboxMessage)))
        pushed = [m.key for m in s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "exchange.push"))]
        records = list(s.scalars(select(ExchangeRecord.id)))
        task_rows = {t.id: t for rows in tasks.values() for t in rows}

    outcome = Counter()
    jobs_by_case = defaultdict(list)
    for job in jobs:
        jobs_by_case[job.instance_id].append(job)
    for case_id, case in cases.items():
        trail = audits[case_id]
        count = Counter((a.action, a.task_name) for a in trail)
        done = Counter(t.task_name for t in tasks[case_id] if t.status == "completed")
        open_tasks = [t for t in tasks[case_id] if t.status == "open"]
        decisions = [a.detail.get("decision") for a in trail if a.action == "decision"]
        crane = cranes.get(case.subject_id)
        where = f"case {case_id} ({case.business_key})"
        if count[("start", None)] != 1 or count[("complete", "submit_filing")] != 1:
            problems.append(f"{where}: {count[('start', None)]} start / {count[('complete', 'submit_filing')]} "
                            "submit audits, expected 1 / 1")
        if count[("decision", "review_filing")] != done["review_filing"]:
            problems.append(f"{where}: {count[('decision', 'review_filing')]} decision audits for "
                            f"{done['review_filing']} completed reviews")
        if count[("complete", "correct_filing")] != done["correct_filing"]:
            problems.append(f"{where}: {count[('complete', 'correct_filing')]} correction audits for "
                            f"{done['correct_filing']} completed corrections")
        if decisions.count("return") != done["correct_filing"] + (1 if open_tasks and open_tasks[0].task_name
                                                                    == "correct_filing" else 0):
            problems.append(f"{where}: {decisions.count('return')} returns but {done['correct_filing']} corrections")
        if case.error:
            problems.append(f"{where}: incident {case.error[:200]}")
        if case.status == "completed":
            outcome["approved" if case.outcome == "approved" else f"completed/{case.outcome}"] += 1
            if open_tasks or decisions[-1:] != ["approve"] or decisions.count("approve") != 1:
                problems.append(f"{where}: completed with open tasks {[t.task_name for t in open_tasks]}, "
                                f"decisions {decisions}")
            if crane is None or crane.status != "filed" or not crane.record_number:
                problems.append(f"{where}: approved but crane {crane and crane.status} {crane and crane.record_number}")
        elif case.status == "running":
            outcome["running"] += 1
            names = [t.task_name for t in open_tasks]
            expected_crane = {"review_filing": "pending_review", "correct_filing": "returned"}
            if len(names) != 1 or names[0] not in expected_crane or "approve" in decisions:
                problems.append(f"{where}: running with open tasks {names}, decisions {decisions}")
            elif crane is None or crane.status != expected_crane[names[0]] or crane.record_number:
                problems.append(f"{where}: open {names[0]} but crane {crane and crane.status}")
        else:
            problems.append(f"{where}: status {case.status}")
        # Timers: one firing (timer + overdue audits) per done job, none for anything else.
        fired = [a for a in trail if a.action == "timer"]
        overdue = [a for a in trail if a.action == "overdue"]
        done_jobs = [j for j in jobs_by_case[case_id] if j.kind == "timer" and j.status == "done"]
        if sorted(a.detail.get("job") for a in fired) != sorted(j.id for j in done_jobs) or len(overdue) != len(fired):
            problems.append(f"{where}: timer audits for jobs {[a.detail.get('job') for a in fired]}, "
                            f"{len(overdue)} overdue audits, done jobs {[j.id for j in done_jobs]}")
        if case_id in timers.due:
            outcome["timer_cases"] += 1
            if case.status == "running" and timers.due[case_id] <= now and len(fired) != 1:
                problems.append(f"{where}: due at {timers.due[case_id]:%H:%M:%S}, still in review, "
                                f"fired {len(fired)} times")
            outcome["timer_fired" if fired else "timer_cancelled_by_review"] += 1
    for job in jobs:
        if job.status in ("queued", "failed") or (job.status == "pending" and job.due_at <= now):
            problems.append(f"due job {job.id} ({job.key}) left {job.status}: {job.last_error or ''}"[:300])
    numbers = Counter(c.record_number for c in cranes.values() if c.record_number)
    problems += [f"record number {n} issued {k} times" for n, k in numbers.items() if k > 1]
    for (topic, status), k in messages.items():
        if status in ("pending", "running", "dead"):
            problems.append(f"{k} outbox message(s) of {topic} left {status}")

    # Change records: each pushed through the outbox and received (at least once, by its key).
    keys = set(pushed)
    problems += [f"change record {r} has no push message" for r in records if f"exchange:{r}" not in keys]
    problems += [f"push {key} never reached the receiver" for key in pushed if not received[key]]

    # Everything the clients saw happen (2xx, or found done after a lost answer) is there.
    serials = {c.factory_serial: c for c in cranes.values()}
    for serial, (case_id, how) in ledger.starts.items():
        crane = serials.get(serial)
        if case_id not in cases or crane is None or cases[case_id].subject_id != crane.id:
            problems.append(f"start of {serial} ({how}, case {case_id}) not in the database")
    for case_id, sent in ledger.decisions.items():
        recorded = [a.detail.get("decision") for a in audits[case_id] if a.action == "decision"]
        if recorded != sent:
            problems.append(f"case {case_id}: the clients took decisions {sent}, the audit trail has {recorded}")
    for task_id, user_id, how in ledger.completions:
        row = task_rows.get(task_id)
        if row is None or row.status != "completed" or row.completed_by_id != user_id:
            problems.append(f"task {task_id} completed ({how}) but is {row and row.status} "
                            f"by {row and row.completed_by_id}")
    problems += [f"client: {e}" for e in ledger.errors]
    figures = {
        "cases": len(cases), **outcome,
        "audit_events": sum(len(v) for v in audits.values()),
        "due_jobs": dict(Counter(j.status for j in jobs)),
        "timer_audits": sum(1 for v in audits.values() for a in v if a.action == "timer"),
        "outbox": {f"{t}/{st}": k for (t, st), k in messages.items()},
        "record_numbers": len(numbers),
        "change_records": len(records),
        "pushes_received": f"{sum(received.values())} deliveries of {len(received)} keys",
    }
    return problems, figures


# --- the run ----------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("CRASH_PG_URL", DEFAULT_PG_URL),
                    help=f"scratch PostgreSQL database, DROPPED and recreated (default {DEFAULT_PG_URL})")
    ap.add_argument("--redis-url", default=os.environ.get("CRASH_REDIS_URL", DEFAULT_REDIS_URL),
                    help=f"scratch Redis database, FLUSHED (default {DEFAULT_REDIS_URL})")
    ap.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    ap.add_argument("--duration", type=float, default=40.0, help="seconds of load (default 40)")
    ap.add_argument("--timers", type=int, default=120, help="case timers spread over the load (default 120)")
    ap.add_argument("--burst", type=int, default=100, help="case timers all due at one instant (default 100)")
    ap.add_argument("--return-share", type=float, default=0.25, help="share of filings returned once (0.25)")
    ap.add_argument("--drain-timeout", type=float, default=150.0, help="seconds to wait for the background")
    ap.add_argument("--keep-db", action="store_true", help="leave the database (and the logs) behind")
    ap.add_argument("--seed", type=int, default=20260501)
    args = ap.parse_args(argv)
    check_pg_url(args.pg_url)
    from bench.common import RunLock

    run_lock = RunLock(args.pg_url)
    work = Path(tempfile.mkdtemp(prefix="craneflow-crash-"))
    os.environ.update({"CRANEFLOW_VAR_DIR": str(work / "var"), "SECRET_KEY": "bench", "PASSWORD_HASH_FAST": "1",
                       "BACKGROUND": "off"})
    services: list = []

    def cleanup():
        for service in reversed(services):
            try:
                service.stop()
            except Exception as exc:
                print(f"cleanup: {exc}", file=sys.stderr)
        if not args.keep_db:
            flush_redis(args.redis_url)
            drop_pg_database(args.pg_url)
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: database {args.pg_url}, logs in {work}")
        run_lock.release()

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    receiver = Receiver()  # change records are pushed here through the outbox
    os.environ.update({"EXCHANGE_PUSH_URL": receiver.url, "EXCHANGE_SECRET": "bench-crash-secret",
                       "EXCHANGE_TIMEOUT_SECONDS": "5"})
    log(f"scratch database {args.pg_url}, Redis {args.redis_url}, work dir {work}")
    recreate_pg_database(args.pg_url)
    flush_redis(args.redis_url)
    web = CeleryGunicorn(args.pg_url, args.redis_url, work, workers=3)
    web.setup_database()  # flask craneflow setup-db + seed-demo
    env = web.env
    beat = celery_beat(env, work).start()
    workers = [celery_worker(f"crash{i}", env, work).start() for i in (1, 2)]
    services += [web, *workers, beat]  # stopped in reverse: no sweep is queued for stopped workers
    for w in workers:
        w.wait_for(b" ready.")
    web.start()
    log(f"gunicorn {web.base_url} (workers {children_of(web.proc.pid)}), "
        f"celery workers {[w.proc.pid for w in workers]}, beat {beat.proc.pid}")

    world = World(args.pg_url, work / "uploads")
    from engine.db import WorkerHeartbeat
    from engine.services import outbox
    from sqlalchemy import func, select

    deadline = time.monotonic() + 30
    while not world.scalar(select(func.count()).select_from(WorkerHeartbeat)):
        if time.monotonic() > deadline:
            raise SystemExit("no sweep ran within 30 s (beat → worker → database)")
        time.sleep(0.2)
    topics = sorted(outbox._TOPICS)
    log(f"outbox topics: {', '.join(topics) if topics else 'none registered (the outbox stays empty)'}")

    ledger = Ledger()
    for_clients: queue.Queue = queue.Queue()
    timers = TimerCases(world, args.timers, args.burst, args.duration * 0.6, for_clients, args.seed)
    timers.prepare_burst(fires_after=5 + args.duration * 0.4)
    log(f"{args.burst} burst timers due at {timers.burst_at.astimezone():%H:%M:%S}")
    stop_at = time.monotonic() + args.duration + 2
    clients = [Client(web.base_url, f"c{i}", stop_at, ledger, for_clients, args.return_share, args.seed + i)
               for i in range(args.clients)]
    start = time.monotonic()
    for c in clients:
        c.start()
    timers.start()
    log(f"load: {args.clients} clients for {args.duration:.0f} s, {args.timers} timers spread over it")

    events = {}
    # 1. kill -9 a gunicorn worker a third of the way in; its master starts another.
    time.sleep(max(0.0, start + args.duration / 3 - time.monotonic()))
    victims = children_of(web.proc.pid)
    victim = random.Random(args.seed).choice(victims)
    flows_before = sum(c.flows for c in clients)
    os.kill(victim, signal.SIGKILL)
    log(f"kill -9 gunicorn worker {victim} (flows done so far: {flows_before})")
    t = time.monotonic()
    while time.monotonic() - t < 30 and not (len(set(children_of(web.proc.pid)) - {victim}) == web.workers):
        time.sleep(0.1)
    events["gunicorn_worker_back_s"] = round(time.monotonic() - t, 2)
    log(f"gunicorn workers now {children_of(web.proc.pid)} ({events['gunicorn_worker_back_s']} s)")

    # 2. kill -9 Celery worker 1 (process group: consumer + pool process) while the burst fires.
    while timers.burst_at is None and timers.is_alive():
        time.sleep(0.05)
    from engine.db import utcnow

    if timers.burst_at is not None:
        time.sleep(max(0.0, (timers.burst_at - utcnow()).total_seconds()))
        t = time.monotonic()
        while time.monotonic() - t < 20 and world.job_counts(timers.burst_ids)["done"] < max(3, args.burst // 10):
            time.sleep(0.02)
    at_kill = world.job_counts(timers.burst_ids)
    workers[0].kill9()
    killed_at = time.monotonic()
    events["burst_jobs_at_kill"] = dict(at_kill)
    log(f"kill -9 celery worker crash1 (group {workers[0].proc and workers[0].proc.pid or 'gone'}); "
        f"burst jobs then: {dict(at_kill)}")
    time.sleep(1.0)
    workers[0].start()
    workers[0].wait_for(b" ready.", count=2)
    log(f"celery worker crash1 restarted as {workers[0].proc.pid}")

    # 3. kill -9 Celery worker 2's pool process: its consumer starts another and requeues the task.
    time.sleep(2.0)
    pool = children_of(workers[1].proc.pid)
    if pool:
        os.kill(pool[0], signal.SIGKILL)
        log(f"kill -9 celery worker crash2's pool process {pool[0]}")

    for c in clients:
        c.join(args.duration + 120)
    timers.join(60)
    load_seconds = time.monotonic() - start
    if timers.error:
        ledger.errors.append(f"timer cases: {timers.error!r}")
    log(f"load over after {load_seconds:.1f} s: {sum(c.flows for c in clients)} complete flows; "
        f"client counts {dict(ledger.counts)}")

    # Drain: a job whose worker died mid-firing is queued again by the sweep (REQUEUE_AFTER).
    t = time.monotonic()
    burst_done_at = None
    while time.monotonic() - t < args.drain_timeout:
        left = world.job_counts(timers.burst_ids)
        if burst_done_at is None and not (left["queued"] or left["pending"]):
            burst_done_at = time.monotonic()
        if world.background_idle() and burst_done_at is not None:
            break
        time.sleep(0.5)
    events["drain_s"] = round(time.monotonic() - t, 1)
    if burst_done_at is not None:
        events["burst_jobs_all_fired_after_kill_s"] = round(burst_done_at - killed_at, 1)
    log(f"background drained in {events['drain_s']} s")
    time.sleep(2.0)  # late duplicate deliveries, if any, would show now

    problems, figures = check_everything(world, ledger, timers, receiver.received)
    figures.update(events)
    figures["complete_flows"] = sum(c.flows for c in clients)
    figures["client"] = dict(ledger.counts)
    figures["load_seconds"] = round(load_seconds, 1)
    print()
    for key, value in figures.items():
        print(f"  {key:32} {value}")
    print()
    for p in problems[:50]:
        print(f"  FAIL {p}")
    if len(problems) > 50:
        print(f"  ... and {len(problems) - 50} more")
    verdict = "PASS" if not problems else "FAIL"
    print(f"{verdict}: {figures['cases']} cases checked, {len(problems)} problem(s)")
    world.engine.dispose()
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
