"""kill -9 in the middle of the work: a Celery worker while it fires case timers, a gunicorn worker
while it completes tasks. Nothing is lost and nothing happens twice.

PostgreSQL + Redis only: the worker and the server run as real subprocesses against the test
database and are killed with SIGKILL (their whole process group) while they work."""
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, Crane, DueJob, HumanTask, ProcessInstance, User
from engine.db.uow import unit_of_work
from engine.services import crane_filing, due_jobs, outbox, sweep
from engine.services.cases import case_tasks, start_case
from tests.conftest import DEMO_PASSWORD
from tests.helpers import filing_data

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


class Processes:
    """Subprocesses, each in its own process group; all of them are killed at teardown."""

    def __init__(self, work: Path, env: dict):
        self.work, self.env = work, env
        self.running: list[tuple[subprocess.Popen, object]] = []

    def start(self, name: str, argv: list[str], **env) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.running.append((proc, log))
        return proc

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")

    def wait_for_log(self, name: str, proc, marker: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.log(name).count(marker) < count:
            assert proc.poll() is None and time.monotonic() < deadline, f"{name} not ready:\n{self.log(name)[-3000:]}"
            time.sleep(0.1)

    @staticmethod
    def kill9(proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def kill_all(self) -> None:
        for proc, log in self.running:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # also whatever its children left in the group
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
            log.close()


@pytest.fixture
def processes(tmp_path, database_url, redis_url, postgres_only):
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "BACKGROUND": "celery",
                "SECRET_KEY": "test-crash-recovery", "PASSWORD_HASH_FAST": "1",
                "UPLOAD_DIR": str(tmp_path / "uploads"), "CRANEFLOW_VAR_DIR": str(tmp_path / "var")})
    procs = Processes(tmp_path, env)
    yield procs
    procs.kill_all()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def start_filings(world, template: dict, n: int, prefix: str) -> dict[int, int]:
    """n filings by owner_wuhan through the service layer, one transaction each: case id -> review task id."""
    started = {}
    for i in range(n):
        with unit_of_work(world.engine) as s:
            owner = s.get(User, world.users["owner_wuhan"])
            instance = start_case(s, actor=owner, process_key="crane_registration",
                                  data={**template, "factory_serial": f"{prefix}-{i:04d}"})
            (task,) = case_tasks(s, instance, "open")
            started[instance.id] = task.id
    return started


def job_states(world, case_ids) -> Counter:
    with Session(world.engine) as s:
        return Counter(s.scalars(select(DueJob.status).where(DueJob.instance_id.in_(list(case_ids)),
                                                             DueJob.kind == "timer")))


def worker_argv(name: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "web.worker", "worker", "-Q", "craneflow,craneflow.sweep",
            "-c", "1", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]


@pytest.fixture
def celery_queues(app, redis_url, monkeypatch):
    """This process enqueues over Redis like beat does; the queues start and end empty."""
    import redis

    from web.celery_app import make_celery

    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    celery = make_celery(app)
    store = redis.Redis.from_url(redis_url)
    # Both queues (purge() knows only the default one), and the killed worker's unacknowledged
    # delivery, which would come back after the visibility timeout.
    leftovers = ("craneflow", "craneflow.sweep", "unacked", "unacked_index")
    store.delete(*leftovers)
    yield celery
    store.delete(*leftovers)
    store.close()
    outbox.set_dispatcher(None)


def test_celery_worker_killed_while_firing_timers_fires_each_exactly_once(
        postgres_only, redis_url, world, api, processes, celery_queues, monkeypatch):
    from engine.tasks import dispatch_message_task, enqueue_jobs

    def sweep_once() -> int:
        return sweep.sweep(world.engine, name="test-beat", enqueue_jobs=enqueue_jobs,
                           enqueue_message=dispatch_message_task.delay).jobs

    first = processes.start("worker-1", worker_argv("crashtest1"))
    template = filing_data(api("owner_wuhan"))
    # Each review due two seconds after its filing (a deadline already past would fire at once).
    monkeypatch.setattr(crane_filing, "review_deadline", lambda now: now + timedelta(seconds=2))
    cases = start_filings(world, template, 100, "KILL")
    processes.wait_for_log("worker-1", first, " ready.")
    time.sleep(2.1)

    sweep_once()  # every job claimed and queued for the worker
    assert job_states(world, cases)["pending"] == 0 and sum(job_states(world, cases).values()) == 100
    deadline = time.monotonic() + 30
    while job_states(world, cases)["done"] < 5:
        assert time.monotonic() < deadline, processes.log("worker-1")[-3000:]
        time.sleep(0.01)
    processes.kill9(first)  # the consumer and its pool process, mid-way through the queue
    at_kill = job_states(world, cases)
    assert 0 < at_kill["done"] < 100 and at_kill["queued"] == 100 - at_kill["done"]

    # A job whose worker died is queued again by a later sweep (after 10 s in production).
    monkeypatch.setattr(due_jobs, "REQUEUE_AFTER", timedelta(seconds=3))
    second = processes.start("worker-2", worker_argv("crashtest2"))
    processes.wait_for_log("worker-2", second, " ready.")
    deadline = time.monotonic() + 45
    while job_states(world, cases)["done"] < 100:
        assert time.monotonic() < deadline, f"{job_states(world, cases)}\n{processes.log('worker-2')[-3000:]}"
        sweep_once()
        time.sleep(1.0)
    for _ in range(3):  # more ticks and late deliveries: nothing fires again
        sweep_once()
        time.sleep(0.5)

    with Session(world.engine) as s:
        jobs = {j.instance_id: j for j in s.scalars(select(DueJob).where(
            DueJob.instance_id.in_(list(cases)), DueJob.kind == "timer"))}
        events = s.execute(select(AuditEvent.instance_id, AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.instance_id.in_(list(cases)), AuditEvent.action.in_(("timer", "overdue")))).all()
        instances = {i.id: i for i in s.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(list(cases))))}
        open_tasks = Counter(s.scalars(select(HumanTask.instance_id).where(
            HumanTask.instance_id.in_(list(cases)), HumanTask.status == "open",
            HumanTask.task_name == "review_filing")))
    assert len(jobs) == 100
    assert {(j.status, j.attempts) for j in jobs.values()} == {("done", 1)}  # the killed attempt left no trace
    timer_jobs = Counter(detail["job"] for _, action, detail in events if action == "timer")
    assert timer_jobs == Counter({j.id: 1 for j in jobs.values()})  # one firing per job: none lost, none twice
    assert Counter(case for case, action, _ in events if action == "overdue") == Counter({c: 1 for c in cases})
    for case_id, instance in instances.items():
        assert (instance.status, instance.error, instance.next_due_at) == ("running", None, None)
        assert instance.overdue_since is not None
    assert open_tasks == Counter({c: 1 for c in cases})  # the review goes on, still once


def test_gunicorn_worker_killed_mid_load_completes_each_task_exactly_once(
        postgres_only, redis_url, world, api, processes):
    template = filing_data(api("owner_wuhan"))
    cases = start_filings(world, template, 80, "WEB")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    master = processes.start("gunicorn", [
        sys.executable, "-m", "gunicorn", "-w", "2", "--worker-class", "gthread", "--threads", "2",
        "-b", f"127.0.0.1:{port}", "--no-control-socket", "web.wsgi:app"], BACKGROUND="off", REDIS_URL="")
    base = f"http://127.0.0.1:{port}"
    processes.wait_for_log("gunicorn", master, "Booting worker with pid", count=2)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/api/v1/me", timeout=5).status_code == 401:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, processes.log("gunicorn")[-3000:]
        time.sleep(0.2)

    todo: queue.Queue = queue.Queue()
    for task_id in cases.values():
        todo.put(task_id)
    outcomes: dict[int, str] = {}
    errors: list[str] = []
    lost = Counter()

    def reviewer():
        http = requests.Session()
        r = http.post(base + "/api/v1/session", json={"username": "reg_wuhan", "password": DEMO_PASSWORD}, timeout=30)
        http.headers["Authorization"] = f"Bearer {r.json()['token']}"
        while True:
            try:
                task_id = todo.get_nowait()
            except queue.Empty:
                return
            try:
                outcomes[task_id] = complete_as_a_user_would(http, base, task_id, lost)
            except Exception as exc:
                errors.append(f"task {task_id}: {exc!r}")

    threads = [threading.Thread(target=reviewer) for _ in range(4)]
    for t in threads:
        t.start()
    while len(outcomes) < 15 and any(t.is_alive() for t in threads):
        time.sleep(0.005)
    victim = children_of(master.pid)[0]
    os.kill(victim, signal.SIGKILL)
    done_at_kill = len(outcomes)
    for t in threads:
        t.join(90)
    assert done_at_kill < len(cases), "the load was over before the kill"
    assert not errors
    assert len(outcomes) == len(cases)
    workers = children_of(master.pid)
    assert len(workers) == 2 and victim not in workers  # the master replaced the killed worker

    reg_id = world.users["reg_wuhan"]
    with Session(world.engine) as s:
        trail = Counter(s.execute(select(AuditEvent.instance_id, AuditEvent.action, AuditEvent.task_name).where(
            AuditEvent.instance_id.in_(list(cases)))).all())
        tasks = {t.id: t for t in s.scalars(select(HumanTask).where(HumanTask.instance_id.in_(list(cases))))}
        instances = {i.id: i for i in s.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(list(cases))))}
        cranes = {c.id: c for c in s.scalars(select(Crane).where(
            Crane.id.in_([i.subject_id for i in instances.values()])))}
    for case_id, task_id in cases.items():
        instance, crane = instances[case_id], cranes[instances[case_id].subject_id]
        assert trail[(case_id, "decision", "review_filing")] == 1, (case_id, outcomes[task_id])
        assert (trail[(case_id, "start", None)], trail[(case_id, "complete", "submit_filing")]) == (1, 1)
        assert (instance.status, instance.outcome) == ("completed", "approved")
        assert [(t.id, t.status, t.completed_by_id) for t in tasks.values() if t.instance_id == case_id] == [
            (task_id, "completed", reg_id)]
        assert crane.status == "filed" and crane.record_number
    assert len({c.record_number for c in cranes.values()}) == len(cases)


def complete_as_a_user_would(http, base: str, task_id: int, lost: Counter) -> str:
    """Approve; when the answer is lost, look at the task and approve again only if it is still open."""
    for attempt in range(10):
        try:
            r = http.post(f"{base}/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}}, timeout=60)
        except requests.RequestException:
            lost["answers"] += 1
            if read_task(http, base, task_id)["status"] == "open":
                continue
            return "recovered"
        if r.status_code == 200:
            return "ok"
        if r.status_code == 409 and attempt and read_task(http, base, task_id)["status"] == "completed":
            return "recovered"
        raise AssertionError(f"complete task {task_id}: {r.status_code} {r.text[:300]}")
    raise AssertionError(f"complete task {task_id}: gave up")


def read_task(http, base: str, task_id: int) -> dict:
    for _ in range(20):
        try:
            r = http.get(f"{base}/api/v1/tasks/{task_id}", timeout=30)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        assert r.status_code == 200, r.text[:300]
        return r.json()
    raise AssertionError(f"task {task_id}: no answer")
