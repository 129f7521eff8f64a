"""(d) complete flows over HTTP against a real gunicorn (threaded workers, keep-alive) on PostgreSQL."""
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

from .common import APPROVE, DEMO_PASSWORD, DOC_TYPES, PDF, PROCESS_KEY, ROOT, filing_data, free_port, latency_summary_ms


def _die_with_parent() -> None:
    """Linux: SIGTERM the gunicorn master if the benchmark process dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Gunicorn:
    """Prepares the database with the product's own CLI (setup-db, seed-demo), then serves it."""

    def __init__(self, database_url: str, work_dir: Path, workers: int = 3):
        self.database_url = database_url
        self.work_dir = Path(work_dir)
        self.workers = workers
        self.port = None
        self.proc = None
        self.log_path = self.work_dir / "gunicorn.log"

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "CRANEFLOW_VAR_DIR": str(self.work_dir / "var"), "DATABASE_URL": self.database_url,
            "SECRET_KEY": "bench", "UPLOAD_DIR": str(self.work_dir / "uploads"),
            "PASSWORD_HASH_FAST": "1", "BACKGROUND": "off",
        })
        env.pop("REDIS_URL", None)
        return env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def setup_database(self) -> None:
        for command in ("setup-db", "seed-demo"):
            done = subprocess.run([sys.executable, "-m", "flask", "--app", "web", "craneflow", command],
                                  cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"flask craneflow {command} failed:\n{done.stdout}\n{done.stderr}")

    def start(self, timeout: float = 60.0) -> None:
        for attempt in range(3):  # the port could be taken between probing and binding
            self.port = free_port()
            self._log = open(self.log_path, "ab")
            self._log_offset = self._log.tell()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 # threaded workers keep client connections alive (sync workers close each one)
                 "--worker-class", "gthread", "--threads", "2",
                 "--no-control-socket",  # the default ~/.gunicorn/gunicorn.ctl is shared with other servers
                 "web.wsgi:app"],
                cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self._log,
                start_new_session=True,  # its own process group: we stop exactly what we started
                preexec_fn=_die_with_parent,
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if requests.get(self.base_url + "/api/v1/me", timeout=10).status_code == 401:
                        self._wait_for_workers(deadline)
                        return
                except requests.RequestException:  # not listening yet, or workers still importing
                    pass
                time.sleep(0.2)
            self.stop()
        raise RuntimeError(f"gunicorn did not start; log:\n{self.log_tail()}")

    def _wait_for_workers(self, deadline: float) -> None:
        """Workers import the app after the master binds; wait until all of them are up."""
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as fh:
                fh.seek(self._log_offset)
                booted = fh.read().count(b"Booting worker with pid")
            if booted >= self.workers:
                time.sleep(0.5)
                return
            time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)  # the master stops its workers gracefully
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # only our own process group (start_new_session)
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._log.close()


class Client:
    """One simulated user pair: owner_wuhan files, reg_wuhan approves; own tokens, own uploads."""

    def __init__(self, base_url: str, name: str):
        self.base = base_url
        self.name = name
        self.owner = self._login("owner_wuhan")
        self.reg = self._login("reg_wuhan")
        self.documents = {d: [self._upload(f"{d}.pdf")] for d in DOC_TYPES}
        self.seq = 0
        self.latencies = {"start": [], "approve": [], "flow": []}
        self.errors = []

    def _login(self, username: str) -> requests.Session:
        s = requests.Session()
        r = s.post(self.base + "/api/v1/session", json={"username": username, "password": DEMO_PASSWORD}, timeout=30)
        r.raise_for_status()
        s.headers["Authorization"] = f"Bearer {r.json()['token']}"
        return s

    def _upload(self, name: str) -> int:
        r = self.owner.post(self.base + "/api/v1/attachments", files={"file": (name, io.BytesIO(PDF))}, timeout=30)
        r.raise_for_status()
        return r.json()["id"]

    def flow(self, record: bool = True) -> bool:
        try:
            return self._flow(record)
        except requests.RequestException as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return False

    def _flow(self, record: bool) -> bool:
        self.seq += 1
        serial = f"HTTP-{self.name}-{self.seq}-{uuid.uuid4().hex[:8]}"
        t0 = time.perf_counter()
        r = self.owner.post(self.base + "/api/v1/cases", timeout=60,
                            json={"process_key": PROCESS_KEY, "data": filing_data(serial, self.documents)})
        t1 = time.perf_counter()
        if r.status_code != 201:
            self.errors.append(f"POST /cases {r.status_code}: {r.text[:300]}")
            return False
        (task,) = r.json()["open_tasks"]
        r = self.reg.post(self.base + f"/api/v1/tasks/{task['id']}/complete", json={"data": APPROVE}, timeout=60)
        t2 = time.perf_counter()
        if r.status_code != 200 or r.json().get("status") != "completed":
            self.errors.append(f"POST /tasks/{task['id']}/complete {r.status_code}: {r.text[:300]}")
            return False
        if record:
            self.latencies["start"].append(t1 - t0)
            self.latencies["approve"].append(t2 - t1)
            self.latencies["flow"].append(t2 - t0)
        return True


def run_clients(base_url: str, clients: int, flows_per_client: int, warmup_per_client: int = 3,
                cpu_groups: dict | None = None) -> dict:
    """`clients` threads, each running flows_per_client complete flows back to back.

    cpu_groups (name -> pids callable) are CPU-accounted over exactly the measured window."""
    from .common import CpuSampler

    pool = [Client(base_url, f"c{clients}x{i}-{uuid.uuid4().hex[:4]}") for i in range(clients)]
    sampler = CpuSampler(cpu_groups or {})
    trips = []

    def on_trip():  # runs once per trip, before any thread is released: 1st = start, 2nd = end
        trips.append(time.perf_counter())
        if len(trips) == 1:
            sampler.start()
        else:
            trips.append(sampler.stop())

    barrier = threading.Barrier(clients + 1, action=on_trip)
    done = [0] * clients

    def work(i, client):
        try:
            for _ in range(warmup_per_client):  # every worker process parses the spec once, warms caches
                client.flow(record=False)
            barrier.wait()
            for _ in range(flows_per_client):
                if client.flow():
                    done[i] += 1
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # never leave the others waiting at the barrier
            client.errors.append(f"client crashed: {exc!r}")
            barrier.abort()

    threads = [threading.Thread(target=work, args=(i, c), daemon=True) for i, c in enumerate(pool)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
        barrier.wait()
    except threading.BrokenBarrierError:
        raise RuntimeError("an HTTP client failed: " + "; ".join(e for c in pool for e in c.errors[:2])) from None
    seconds = trips[1] - trips[0]
    cpu_used = trips[2]
    for t in threads:
        t.join()
    errors = [e for c in pool for e in c.errors]
    merged = {k: [x for c in pool for x in c.latencies[k]] for k in ("start", "approve", "flow")}
    completed = sum(done)
    return {
        "clients": clients, "flows": completed, "attempted": clients * flows_per_client, "seconds": seconds,
        "rate": completed / seconds, "errors": len(errors), "first_errors": errors[:3],
        "latency": {k: latency_summary_ms(v) for k, v in merged.items()},
        "cpu_seconds": cpu_used,
    }
