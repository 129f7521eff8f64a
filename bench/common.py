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
