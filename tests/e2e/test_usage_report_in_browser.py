"""In the browser: the provincial usage report (使用情况通报) over generated demo data — a row per city
and the total, the period form, drill-down to a city's counties, the PDF, a city regulator's scope
and the English page.

The server here has a database of its own with `generate-demo-data` in it (the shared live server's
data stays as the other browser tests expect it)."""
import io
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, ROOT, _free_port, _run, _stop, _tool, _wait_until_up
from tests.e2e.test_crane_filing_walkthrough import CJK, login, no_horizontal_overflow

CHINA = timezone(timedelta(hours=8))
CITIES = ("武汉市", "黄石市", "十堰市", "宜昌市", "襄阳市", "鄂州市", "荆门市", "孝感市", "荆州市", "黄冈市", "咸宁市",
          "随州市", "恩施土家族苗族自治州", "仙桃市", "潜江市", "天门市", "神农架林区")
# Administered by the province directly, with no counties below them.
UNDIVIDED = ("仙桃市", "潜江市", "天门市", "神农架林区")
WUHAN_DISTRICTS = ("江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区", "汉南区", "蔡甸区",
                   "江夏区", "黄陂区", "新洲区")
QUARTERS = "一二三四"
FULL_WIDTH = re.compile(r"[\u3000-\u303f\uff01-\uff60]")  # （）：、。 …


@contextmanager
def demo_server(prefix: str, cranes: int = 300):
    """gunicorn over a fresh database with the demo accounts and generated demo data; yields its URL."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {**os.environ, "CRANEFLOW_VAR_DIR": str(tmp), "DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}",
           "SECRET_KEY": "e2e", "UPLOAD_DIR": str(tmp / "uploads"), "PASSWORD_HASH_FAST": "1", "BACKGROUND": "off",
           "DEMO_PASSWORD": DEMO_PASSWORD, "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    flask = [_tool("flask"), "--app", "web", "craneflow"]
    proc = None
    try:
        with open(tmp / "setup.log", "w") as log:
            _run(flask + ["setup-db"], env, log)
            _run(flask + ["seed-demo"], env, log)
            _run(flask + ["generate-demo-data", "--cranes", str(cranes), "--seed", "5"], env, log)
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


def watch_errors(page, errors: list) -> None:
    """Script errors, console errors and failed loads (the browser's own favicon request aside)."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)


@pytest.fixture(scope="module")
def usage_server():
    with demo_server("craneflow-e2e-usage-") as base:
        yield base


@pytest.fixture
def usage_page(browser, usage_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=usage_server)
    context.set_default_timeout(15000)
    errors = []
    page = context.new_page()
    watch_errors(page, errors)
    try:
        yield page, errors
    finally:
        context.close()


def last_full_month() -> tuple[int, int]:
    first = datetime.now(CHINA).date().replace(day=1) - timedelta(days=1)
    return first.year, first.month


def month_before(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def region_row(page, name: str):
    return page.get_by_test_id("report-regions").locator("tbody tr").filter(
        has=page.locator("td:first-child", has_text=re.compile(rf"^\s*{re.escape(name)}(\s|$)")))


def column(page, index: int) -> list[int]:
    """The integer figures of a column (0 = the first figure column) of every row but the total."""
    rows = page.get_by_test_id("report-regions").locator("tbody tr:not([data-region=total])")
    return [int(text) for text in rows.locator(f"td:nth-child({index + 2})").all_inner_texts()]


def total(page, index: int) -> int:
    row = page.get_by_test_id("report-regions").locator("tr[data-region=total]")
    return int(row.locator(f"td:nth-child({index + 2})").inner_text())


def ask_period(page, **values) -> None:
    """Fill the period form with exactly `values` (the other period fields emptied) and submit it."""
    form = page.get_by_test_id("report-period")
    for name in ("month", "quarter", "year", "from", "to"):
        form.locator(f'input[name="{name}"]').fill(str(values.get(name, "")))
    with page.expect_navigation():
        form.get_by_role("button").click()


def test_province_report_periods_drill_down_and_pdf(usage_page, shot):
    page, errors = usage_page
    login(page, "reg_province")
    with page.expect_navigation():
        page.get_by_test_id("nav-usage-report").click()
    year, month = last_full_month()
    # Without a period: the last full month.
    expect(page.get_by_test_id("report-title")).to_have_text(f"湖北省建筑起重机械监管系统使用情况通报（{year}年{month}月）")
    expect(page.get_by_test_id("report-meta")).to_contain_text("湖北省住房和城乡建设厅")
    for city in CITIES:
        expect(region_row(page, city)).to_have_count(1)
        # A city drills down to its counties; the undivided ones have none to show.
        expect(region_row(page, city).get_by_role("link", name=city)).to_have_count(0 if city in UNDIVIDED else 1)
    expect(page.get_by_test_id("report-regions").locator("tr[data-region=total] td").first).to_have_text("合计")
    # The total is the sum of the rows: cases started, completed, reviews.
    for index in range(3):
        assert sum(column(page, index)) == total(page, index)
    assert total(page, 0) > 0, "the generated demo data should give the month some cases"
    no_horizontal_overflow(page, 1280)  # ten figure columns still fit a desktop screen
    shot(page, "usage-report")

    # Choosing a period: a month, a quarter, a year; the title follows and the URL keeps it.
    earlier = month_before(year, month)
    ask_period(page, month=f"{earlier[0]}-{earlier[1]:02d}")
    expect(page.get_by_test_id("report-title")).to_contain_text(f"（{earlier[0]}年{earlier[1]}月）")
    quarter = (month - 1) // 3 + 1
    ask_period(page, quarter=f"{year}-Q{quarter}")
    expect(page.get_by_test_id("report-title")).to_contain_text(f"（{year}年第{QUARTERS[quarter - 1]}季度）")
    assert f"quarter={year}-Q{quarter}" in page.url
    ask_period(page, year=str(year - 1))
    expect(page.get_by_test_id("report-title")).to_contain_text(f"（{year - 1}年度）")
    expect(page.get_by_test_id("report-meta")).to_contain_text(f"{year - 1}-01-01 至 {year - 1}-12-31")
    year_started = total(page, 0)
    # Two periods at once are refused, naming the rule.
    ask_period(page, month=f"{year}-01", year=str(year))
    expect(page.get_by_test_id("report-errors")).to_be_visible()
    expect(page.get_by_test_id("report-regions")).to_have_count(0)
    assert errors.pop().startswith("400 ")  # that refusal, and nothing else
    ask_period(page, year=str(year - 1))

    # Drill-down: 武汉市 shows its districts, for the same period, with a way back up.
    with page.expect_navigation():
        region_row(page, "武汉市").get_by_role("link", name="武汉市").click()
    assert "region=420100" in page.url and f"year={year - 1}" in page.url
    expect(page.get_by_test_id("report-title")).to_have_text(f"武汉市建筑起重机械监管系统使用情况通报（{year - 1}年度）")
    for district in WUHAN_DISTRICTS:
        expect(region_row(page, district)).to_have_count(1)
    expect(region_row(page, "宜昌市")).to_have_count(0)
    wuhan_started = total(page, 0)
    assert 0 < wuhan_started < year_started
    expect(page.get_by_test_id("report-up")).to_contain_text("湖北省")

    # The PDF link answers the same report as a PDF document.
    href = page.get_by_test_id("report-pdf").get_attribute("href")
    assert href.startswith("/reports/usage.pdf?") and "region=420100" in href and f"year={year - 1}" in href
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(body)).pages).replace(" ", "").replace("\n", "")
    assert f"武汉市建筑起重机械监管系统使用情况通报（{year - 1}年度）" in text and "江岸区" in text

    with page.expect_navigation():
        page.get_by_test_id("report-up").click()
    expect(page.get_by_test_id("report-title")).to_contain_text("湖北省")
    assert total(page, 0) == year_started
    assert errors == []


def test_city_regulator_sees_its_counties_only_and_the_page_in_english(usage_page):
    page, errors = usage_page
    login(page, "reg_wuhan")
    page.goto("/reports/usage")
    expect(page.get_by_test_id("report-title")).to_contain_text("武汉市建筑起重机械监管系统使用情况通报")
    expect(page.get_by_test_id("report-meta")).to_contain_text("武汉市住房和城乡建设局")
    for district in WUHAN_DISTRICTS:
        expect(region_row(page, district)).to_have_count(1)
    expect(region_row(page, "宜昌市")).to_have_count(0)
    expect(page.get_by_test_id("report-up")).to_have_count(0)  # its own region is the top

    # Another city's report is refused, in the page and as a PDF.
    response = page.goto("/reports/usage?region=420500")
    assert response.status == 403
    assert errors.pop().startswith("403 ")
    expect(page.locator("main h1")).to_have_text("403")
    expect(page.locator("main")).to_contain_text("该行政区划不在您的辖区内。")
    expect(page.get_by_test_id("report-regions")).to_have_count(0)
    assert page.request.get("/reports/usage.pdf?region=420500").status == 403

    # The language switch in the header: the same report in English, no Chinese left in the table.
    page.goto("/reports/usage")
    with page.expect_navigation():
        page.locator(".userbox .lang").get_by_role("link", name="English").click()
    assert page.url.endswith("/reports/usage")
    expect(page.get_by_test_id("report-title")).to_contain_text("Crane regulation system usage report, Wuhan")
    table = page.get_by_test_id("report-regions")
    expect(table.locator("thead th").first).to_have_text("Region")
    expect(table.locator("tr[data-region=total] td").first).to_have_text("Total")
    expect(table).to_contain_text("Jiang'an District")
    assert not CJK.search(table.inner_text()), table.inner_text()
    # No Chinese anywhere in the report, its punctuation included (the meta line, the ranking).
    shown = page.locator("main").inner_text()
    assert not CJK.search(shown) and not FULL_WIDTH.search(shown), shown
    expect(page.get_by_test_id("report-meta")).to_contain_text("Issued by: Bureau of Housing and Urban-Rural")
    # A district's report, with the way back up to Wuhan.
    page.goto("/reports/usage?region=420106")
    expect(page.get_by_test_id("report-title")).to_contain_text("Wuchang District")
    expect(page.get_by_test_id("report-up")).to_have_text("Up one level (Wuhan)")
    shown = page.locator("main").inner_text()
    assert not CJK.search(shown) and not FULL_WIDTH.search(shown), shown
    assert errors == []
