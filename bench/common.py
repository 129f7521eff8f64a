"""Shared helpers: paths, the filing payload, timing statistics and throw-away databases."""
import contextlib
import io
import os
import socket
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BPMN_FILE = ROOT / "workflows" / "bpmn" / "crane_registration.bpmn"
PROCESS_KEY = "crane_registration"
DEMO_PASSWORD = "CraneFlow-demo-2026"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/craneflow_bench"
PROTECTED_DATABASES = {"test", "postgres", "root", "template0", "template1"}

PDF = b"%PDF-1.4\n% CraneFlow benchmark document\n"
DOC_TYPES = ("manufacturing_licence", "product_certificate", "supervision_certificate", "ownership_proof")


def filing_data(serial: str, documents: dict) -> dict:
    """A valid crane_filing submission (same shape as tests/helpers.filing_data)."""
    return {
        "crane_type": "tower_crane", "model": "QTZ80(TC5610-6)", "manufacturer": "中联重科股份有限公司",
        "manufacturing_licence_no": "TS2410001-2027", "factory_serial": serial,
        "manufacture_date": "2021-03-15", "rated_moment_knm": 800, "product_certificate_no": "HG-2021-0315",
        "supervision_certificate_no": "JJ-2021-0099", "purchase_date": "2021-05-01", "documents": documents,
    }


APPROVE = {"decision": "approve"}


def percentile(values, p: float) -> float:
    """Nearest-rank-interpolated percentile (p in 0..100) of a non-empty sequence."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def latency_summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000.0 for s in seconds]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
            "mean_ms": statistics.fmean(ms) if ms else float("nan"), "max_ms": max(ms) if ms else float("nan")}


class Stopwatch:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_environment(var_dir: Path) -> None:
    """Environment the product reads at import time; set before importing web.*."""
    os.environ["CRANEFLOW_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["PASSWORD_HASH_FAST"] = "1"
    os.environ["BACKGROUND"] = "off"


# --- PostgreSQL throw-away databases --------------------------------------------------------

def pg_database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.replace("+psycopg", ""), parts.netloc, "/postgres", parts.query, ""))


def check_pg_url(url: str) -> None:
    name = pg_database_name(url)
    if not name or name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to drop/recreate database {name!r}: give --pg-url a scratch database")


def recreate_pg_database(url: str) -> None:
    """DROP (forcing other sessions off) and CREATE the database named in `url`."""
    import psycopg

    check_pg_url(url)
    name = pg_database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class RunLock:
    """Session advisory lock on the maintenance database: one benchmark per scratch database."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(_maintenance_url(url), autocommit=True)
        key = f"craneflow-bench:{pg_database_name(url)}"
        if not self.conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]:
            self.conn.close()
            raise SystemExit(f"another benchmark run is using {pg_database_name(url)!r}; "
                             "wait for it or pass another --pg-url")

    def release(self):
        self.conn.close()  # the session lock goes with the connection


def drop_pg_database(url: str) -> None:
    import psycopg

    check_pg_url(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_database_name(url)}" WITH (FORCE)')


@contextlib.contextmanager
def quiet_stderr():
    """Alembic's fileConfig logs INFO lines to stderr; keep the benchmark output readable."""
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        yield buf


# --- CPU accounting (Linux /proc): who used the two cores during a measurement --------------

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_jiffies():
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle, sum(fields[:8])  # busy, total (guest time is already in user)


def _pid_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            rest = fh.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / CLK_TCK  # utime + stime, seconds
    except (OSError, IndexError, ValueError):
        return None


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def pg_backend_pids(pg_url: str) -> list[int]:
    """Server processes currently connected to the benchmark database (same machine only)."""
    import psycopg

    try:
        with psycopg.connect(_maintenance_url(pg_url), autocommit=True) as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                               (pg_database_name(pg_url),))]
    except Exception:
        return []


class CpuSampler:
    """CPU seconds used by groups of processes between start() and stop(), and by the machine.

    groups: name -> callable returning the pids to account (re-evaluated at stop, so processes
    started during the window count from zero). 'others' = machine busy time not in any group."""

    def __init__(self, groups: dict):
        self.groups = groups

    def _snapshot(self):
        snap = {}
        for name, pids_fn in self.groups.items():
            snap[name] = {pid: _pid_cpu(pid) for pid in pids_fn()}
        return snap

    def start(self):
        self.t0 = time.perf_counter()
        self.machine0 = _machine_jiffies()
        self.snap0 = self._snapshot()
        return self

    def stop(self) -> dict:
        snap1 = self._snapshot()
        machine1 = _machine_jiffies()
        wall = time.perf_counter() - self.t0
        out = {"wall_seconds": wall}
        ours = 0.0
        for name, pids in snap1.items():
            used = 0.0
            for pid, cpu in pids.items():
                if cpu is None:
                    continue
                before = self.snap0.get(name, {}).get(pid)
                used += cpu - (before or 0.0)
            out[name] = used
            ours += used
        if self.machine0 and machine1:
            busy = (machine1[0] - self.machine0[0]) / CLK_TCK
            capacity = (machine1[1] - self.machine0[1]) / CLK_TCK
            out["machine_busy"] = busy
            out["machine_capacity"] = capacity
            out["others"] = max(0.0, busy - ours)
        return out
