"""In the browser: the province's statistics dashboard over generated demo data draws an ECharts chart
in every card, and drills down to a city.

The server here has a database of its own with `generate-demo-data` in it (the shared live server's
data stays as the other browser tests expect it)."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, ROOT, _free_port, _run, _stop, _tool, _wait_until_up
from tests.e2e.test_crane_filing_walkthrough import login

SECTIONS = ("cranes", "ages", "monthly", "processing", "supervision", "overdue")


@pytest.fixture(scope="module")
def stats_server():
    tmp = Path(tempfile.mkdtemp(prefix="craneflow-e2e-stats-"))
    env = {**os.environ, "CRANEFLOW_VAR_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{tmp / 'stats.db'}",
           "SECRET_KEY": "e2e", "UPLOAD_DIR": str(tmp / "uploads"), "PASSWORD_HASH_FAST": "1", "BACKGROUND": "off",
           "DEMO_PASSWORD": DEMO_PASSWORD, "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    flask = [_tool("flask"), "--app", "web", "craneflow"]
    proc = None
    try:
        with open(tmp / "setup.log", "w") as log:
            _run(flask + ["setup-db"], env, log)
            _run(flask + ["seed-demo"], env, log)
            _run(flask + ["generate-demo-data", "--cranes", "600", "--seed", "3"], env, log)
        port = _free_port()
        with open(tmp / "server.log", "w") as server_log:
            proc = subprocess.Popen([_tool("gunicorn"), "-w", "1", "--threads", "4", "--no-control-socket", "-b",
                                     f"127.0.0.1:{port}", "web.wsgi:app"], cwd=ROOT, env=env, stdout=server_log,
                                    stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/login", proc, tmp / "server.log")
        yield base
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def stats_page(browser, stats_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=stats_server)
    context.set_default_timeout(15000)
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    # Failed loads by URL (the browser's own favicon request aside).
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    try:
        yield page, errors
    finally:
        context.close()


def test_dashboard_draws_a_chart_per_section_and_drills_down(stats_page, shot):
    page, errors = stats_page
    login(page, "reg_province")
    page.get_by_test_id("nav-statistics").click()
    expect(page.get_by_test_id("statistics-region")).to_have_text("湖北省")
    for name in SECTIONS:
        chart = page.get_by_test_id(f"chart-{name}")
        expect(chart.locator("canvas").first).to_be_visible()  # ECharts drew it
        expect(page.get_by_test_id(f"table-{name}").locator("tbody tr").first).to_be_visible()
    # Every city appears on the map of filed cranes.
    expect(page.get_by_test_id("table-cranes")).to_contain_text("神农架林区")
    shot(page, "statistics-dashboard")

    page.get_by_test_id("statistics-drill").get_by_role("link", name="武汉市").click()
    expect(page.get_by_test_id("statistics-region")).to_have_text("武汉市")
    expect(page.get_by_test_id("chart-processing").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("table-processing")).to_contain_text("江岸区")
    page.get_by_test_id("statistics-period").locator("select").select_option("24m")
    with page.expect_navigation():
        page.get_by_test_id("statistics-period").get_by_role("button").click()
    assert "period=24m" in page.url and "region=420100" in page.url
    expect(page.get_by_test_id("table-monthly").locator("tbody tr")).to_have_count(25)  # 24 months + total
    assert errors == []  # no CSP violation or script error
