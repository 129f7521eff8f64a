"""The production stack as `make prod` runs it: honcho starts deploy/Procfile (gunicorn, a Celery
worker and beat) on PostgreSQL + Redis; a review timer due a few seconds ahead fires through
beat → craneflow.sweep → craneflow.fire_jobs, once, and the stack stops cleanly."""
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, DueJob, ProcessInstance, WorkerHeartbeat, utcnow
from engine.services import crane_filing
from tests.conftest import DEMO_PASSWORD
from tests.helpers import start_filing

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 3
LATENESS_LIMIT_MS = 4000

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (honcho puts each Procfile entry in a session of its own)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Stack:
    def __init__(self, database_url, redis_url, work: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = work / "stack.log"
        bin_dir = str(Path(sys.executable).parent)
        self.env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
                    "DATABASE_URL": database_url, "REDIS_URL": redis_url, "BACKGROUND": "celery",
                    "SECRET_KEY": "test-secret-key-not-for-production", "CRANEFLOW_VAR_DIR": str(work / "var"),
                    "UPLOAD_DIR": str(work / "uploads"), "HOST": "127.0.0.1",
                    "WEB_CONCURRENCY": "2", "CELERY_CONCURRENCY": "1"}
        (work / "var").mkdir()
        self.proc = None
        self.pids: set[int] = set()

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", "deploy/Procfile", "start", "-p", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, lines=60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_http(self, timeout=40.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the stack exited:\n{self.log_tail()}"
            try:
                r = requests.get(self.base + "/healthz", timeout=5)
                if r.status_code == 404:  # no health endpoint: the login page answers once a worker is up
                    r = requests.get(self.base + "/login", timeout=5)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        pytest.fail(f"the web process did not answer within {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout=20.0) -> float:
        """SIGTERM to honcho, which stops each process group it started; how long that took."""
        self.pids |= set(_descendants(self.proc.pid))
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        took = time.monotonic() - started
        while time.monotonic() - started < timeout and any(_alive(p) for p in self.pids):
            time.sleep(0.2)
        return took

    def kill_leftovers(self):
        """Whatever did not stop: SIGKILL to each process group we started (honcho's and its children's)."""
        for pid in [self.proc.pid, *self.pids]:
            try:
                group = os.getpgid(pid)
                if _alive(pid) and group != os.getpgrp():
                    os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            self.proc.wait(5)
        self._log.close()


def _wait_for(predicate, timeout, what, stack):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s:\n{stack.log_tail()}")


def _timer_actions(engine, case_id):
    with Session(engine) as s:
        return sorted(s.scalars(select(AuditEvent.action).where(
            AuditEvent.instance_id == case_id, AuditEvent.action.in_(("timer", "overdue")))))


def test_procfile_stack_serves_logins_and_fires_timers_once(world, api, monkeypatch, postgres_only, redis_url,
                                                            database_url, tmp_path):
    stack = Stack(database_url, redis_url, tmp_path)
    started_at = utcnow()
    stack.start()
    try:
        stack.wait_http()

        def worker_swept():
            with Session(world.engine) as s:
                beat = s.scalar(select(WorkerHeartbeat.beat_at).where(WorkerHeartbeat.name.like("worker@%")))
            return beat is not None and beat >= started_at
        _wait_for(worker_swept, 40, "no sweep by beat + worker", stack)

        login = requests.post(stack.base + "/api/v1/session",
                              json={"username": "owner_wuhan", "password": DEMO_PASSWORD}, timeout=10)
        assert login.status_code == 201, login.text
        token = login.json()["token"]

        # The case is started here, with a deadline a few seconds away (the served processes
        # cannot be patched), on the database the stack uses.
        monkeypatch.setattr(crane_filing, "review_deadline", lambda now: now + timedelta(seconds=DEADLINE_SECONDS))
        case_id = start_filing(api("owner_wuhan"))["id"]
        seen = requests.get(f"{stack.base}/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)
        assert seen.status_code == 200 and seen.json()["id"] == case_id

        with Session(world.engine) as s:
            due = s.get(ProcessInstance, case_id).next_due_at
        assert due is not None and due > utcnow()
        _wait_for(lambda: _timer_actions(world.engine, case_id) == ["overdue", "timer"],
                  DEADLINE_SECONDS + 15, "the timer did not fire", stack)
        time.sleep(1.5)  # more sweeps: nothing fires twice
        assert _timer_actions(world.engine, case_id) == ["overdue", "timer"]
        with Session(world.engine) as s:
            job = s.scalar(select(DueJob).where(DueJob.instance_id == case_id, DueJob.kind == "timer"))
            instance = s.get(ProcessInstance, case_id)
        assert job.status == "done" and job.attempts == 1
        assert job.fired_at >= job.due_at and job.lateness_ms <= LATENESS_LIMIT_MS, job.lateness_ms
        assert instance.overdue_since is not None

        took = stack.stop()
        assert stack.proc.returncode is not None, f"honcho did not exit:\n{stack.log_tail()}"
        assert took < 15, took
        assert not [p for p in stack.pids if _alive(p)], f"processes left behind:\n{stack.log_tail()}"
        log = stack.log_path.read_text(errors="replace")
        for name in ("web.1", "worker.1", "beat.1"):
            assert f"{name} stopped" in log, log[-3000:]
    finally:
        stack.kill_leftovers()
