"""End-to-end fixtures: a real gunicorn server on its own SQLite database, driven by headless Chromium.

The server always gets its OWN database file (DATABASE_URL is overridden even when the rest of the
suite runs against PostgreSQL), so the browser tests never disturb the other tests' database.
Debian's chromium (/usr/bin/chromium) is required; no browser is ever downloaded.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
DEMO_PASSWORD = "CraneFlow-demo-2026"
BIN = Path(sys.executable).parent


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e carries the e2e marker (also those without their own pytestmark)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tool(name: str) -> str:
    candidate = BIN / name
    return str(candidate) if candidate.exists() else name


def _run(cmd, env, log):
    result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=300)
    log.write(f"$ {' '.join(cmd)}\n{result.stdout}\n")
    if result.returncode != 0:
        pytest.fail(f"set-up command failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}")


def _wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"server did not answer {url} within {timeout}s ({last}):\n{log_path.read_text(errors='replace')}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server():
    """A fresh database (setup-db + seed-demo) and gunicorn on a free port; yields the base URL."""
    tmp = Path(tempfile.mkdtemp(prefix="craneflow-e2e-"))
    env = dict(os.environ)
    env.update({
        "CRANEFLOW_VAR_DIR": str(tmp),
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}",  # always our own file, never the suite's DB
        "SECRET_KEY": "e2e",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "PASSWORD_HASH_FAST": "1",
        "BACKGROUND": "off",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("REDIS_URL", None)  # BACKGROUND=off; the server needs no broker
    flask = [_tool("flask"), "--app", "web", "craneflow"]
    log_path = tmp / "server.log"
    proc = None
    try:
        with open(tmp / "setup.log", "w") as log:
            _run(flask + ["setup-db"], env, log)
            _run(flask + ["seed-demo"], env, log)
        port = _free_port()
        with open(log_path, "w") as server_log:
            proc = subprocess.Popen(
                [_tool("gunicorn"), "-w", "1", "--threads", "4", "--no-control-socket", "-b", f"127.0.0.1:{port}",
                 "web.wsgi:app"],
                cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/login", proc, log_path)
        yield base
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  base_url=live_server)
    context.set_default_timeout(15000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


_taken: list[Path] = []


def _has_cjk_font() -> bool | None:
    """None when fontconfig cannot be asked; otherwise whether any font covers Chinese."""
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return bool(out.strip())


def pytest_terminal_summary(terminalreporter):
    if not _taken:
        return
    terminalreporter.write_line(f"e2e: {len(_taken)} screenshots written to {SCREENSHOTS.relative_to(ROOT)}/")
    if _has_cjk_font() is False:
        terminalreporter.write_line(
            "e2e: WARNING no Chinese font is installed, so Chinese text in the screenshots renders as "
            "empty boxes; install one (e.g. apt-get install fonts-noto-cjk) before regenerating them "
            "for the documentation.", yellow=True)


@pytest.fixture(scope="session")
def screenshots_dir():
    """docs/screenshots/: PNGs committed as documentation, overwritten on every run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shot(screenshots_dir):
    """shot(page, "01-login") saves a full-page PNG, replacing the previous run's file."""
    def take(pg, name: str) -> Path:
        path = screenshots_dir / f"{name}.png"
        path.unlink(missing_ok=True)
        pg.screenshot(path=str(path), full_page=True)
        _taken.append(path)
        return path
    return take
