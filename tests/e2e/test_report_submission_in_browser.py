"""In the browser: a periodic report (报表报送) from definition to acceptance. The province defines a
monthly report and publishes it; 武汉 finds the fill task in its inbox, pre-filled with the system's own
figures, is told which field is wrong, reports; the province returns it with a reason; 武汉 reads the
reason, corrects and reports again; the province accepts it.

Each regulator works in a browser context of its own, on a server with generated demo data (so the
pre-filled figures are not all zero) and a database of its own (the published report's cases reach the
inbox of every city, which the shared live server's tests do not expect)."""
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.test_crane_filing_walkthrough import inbox_row, login
from tests.e2e.test_usage_report_in_browser import CHINA, demo_server, last_full_month, watch_errors

TITLE = "建筑起重机械监管月报（浏览器测试）"
FIELDS = [  # key, Chinese label, English label, type, required, pre-fill source
    ("cranes_filed", "本期产权备案台数", "Cranes filed", "integer", True, "cranes_filed"),
    ("notices", "本期安装告知件数", "Installation notices", "integer", True, "installation_notices"),
    ("spot_checks", "本期监督检查次数", "Spot checks", "integer", True, ""),
    ("remarks", "情况说明", "Remarks", "text", True, ""),
]
CITIES = 17  # 湖北's cities, prefectures and the province-administered county-level units
REASON = "监督检查次数与台账不符，请核实后重新报送。"


@pytest.fixture(scope="module")
def report_server():
    with demo_server("craneflow-e2e-reports-") as base:
        yield base


@pytest.fixture
def open_context(browser, report_server):
    """open_context() → (page, errors) in a fresh browser context; all are closed after the test."""
    contexts = []

    def open_one():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                      base_url=report_server)
        context.set_default_timeout(15000)
        contexts.append(context)
        page, errors = context.new_page(), []
        watch_errors(page, errors)
        return page, errors

    try:
        yield open_one
    finally:
        for context in contexts:
            context.close()


def procedure_figure(page, procedure: str, column: int) -> int:
    """A figure of the usage report's table by procedure (column 0 = cases started, 1 = completed)."""
    row = page.get_by_test_id("report-procedures").locator("tbody tr").filter(
        has=page.locator("td:first-child", has_text=re.compile(rf"^\s*{procedure}\s*$")))
    expect(row).to_have_count(1)
    return int(row.locator(f"td:nth-child({column + 2})").inner_text())


def define_and_publish(page, year: int, month: int) -> int:
    """As the province: define the monthly report with FIELDS on /reports/definitions and publish it."""
    with page.expect_navigation():
        page.get_by_test_id("nav-report-submissions").click()
    with page.expect_navigation():
        page.locator("main .pagehead").get_by_role("link", name="报表定义").click()
    form = page.get_by_test_id("definition-form")
    form.locator('input[name="title"]').fill(TITLE)
    form.locator('select[name="period_type"]').select_option("month")
    form.locator('input[name="year"]').fill(str(year))
    form.locator('input[name="number"]').fill(str(month))
    deadline = datetime.now(CHINA).date() + timedelta(days=10)
    form.locator('input[name="deadline_on"]').fill(deadline.isoformat())
    rows = form.get_by_test_id("field-editor").locator("tbody tr")
    expect(rows).to_have_count(2)
    for index, (key, label_zh, label_en, kind, required, prefill) in enumerate(FIELDS):
        if index >= rows.count():  # one more row: the form comes back with what was entered so far
            with page.expect_navigation():
                page.get_by_test_id("add-row").click()
            expect(rows).to_have_count(index + 1)
            expect(form.locator('input[name="title"]')).to_have_value(TITLE)
        form.locator(f'input[name="fields-{index}-key"]').fill(key)
        form.locator(f'input[name="fields-{index}-label_zh"]').fill(label_zh)
        form.locator(f'input[name="fields-{index}-label_en"]').fill(label_en)
        form.locator(f'select[name="fields-{index}-type"]').select_option(kind)
        form.locator(f'input[name="fields-{index}-required"]').set_checked(required)
        form.locator(f'select[name="fields-{index}-prefill"]').select_option(prefill)
    with page.expect_navigation():
        page.get_by_test_id("publish-definition").click()
    match = re.search(r"/reports/submissions\?definition=(\d+)", page.url)
    assert match, f"expected the submissions of the published report, got {page.url}"
    return int(match.group(1))


def submission_row(page, definition_id: int, region_code: str):
    return page.get_by_test_id(f"report-{definition_id}").locator(f'tr[data-region="{region_code}"]')


def open_task_from_list(page, definition_id: int, task_name: str) -> None:
    """From /reports/submissions: open 武汉's open task, which must be `task_name`."""
    page.goto(f"/reports/submissions?definition={definition_id}")
    link = submission_row(page, definition_id, "420100").get_by_test_id("open-task")
    expect(link).to_have_text(task_name)
    with page.expect_navigation():
        link.click()
    assert re.search(r"/reports/tasks/\d+$", page.url), page.url


def submit(page) -> None:
    with page.expect_navigation():
        page.get_by_test_id("submit-report").click()


def test_define_publish_fill_return_correct_and_accept(open_context, shot):
    year, month = last_full_month()
    province, province_errors = open_context()
    wuhan, wuhan_errors = open_context()
    login(province, "reg_province")
    login(wuhan, "reg_wuhan")

    # What the system itself counted for 武汉 in the month (every generated filing was approved).
    wuhan.goto(f"/reports/usage?month={year}-{month:02d}")
    filed = procedure_figure(wuhan, "建筑起重机械产权备案", 1)
    notices = procedure_figure(wuhan, "建筑起重机械安装告知与验收", 0)
    assert filed + notices > 0

    # The province defines and publishes: every city has its report to fill in, none submitted.
    definition_id = define_and_publish(province, year, month)
    section = province.get_by_test_id(f"report-{definition_id}")
    expect(section.locator("h2")).to_contain_text(f"{year}年{month}月{TITLE}")
    expect(section.locator("tbody tr")).to_have_count(CITIES)
    expect(section.locator('[data-state="not_started"]')).to_have_count(CITIES)
    case_href = submission_row(province, definition_id, "420100").get_by_role("link", name="查看案件") \
        .get_attribute("href")
    case_id = int(case_href.rsplit("/", 1)[1])

    # 武汉 finds the fill task in its inbox; it sees its own report only.
    wuhan.goto("/inbox")
    row = inbox_row(wuhan, case_id)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("填报报表")
    with wuhan.expect_navigation():
        row.get_by_role("link", name="办理").click()
    assert re.search(r"/reports/tasks/\d+$", wuhan.url), wuhan.url
    form = wuhan.get_by_test_id("report-form")
    # Pre-filled from the system's figures; the other fields are for 武汉 to fill in.
    expect(form.locator("#v-cranes_filed")).to_have_value(str(filed))
    expect(form.locator("#v-notices")).to_have_value(str(notices))
    expect(form.locator('tr[data-key="cranes_filed"]')).to_contain_text("系统预填：产权备案办结（准予）台数")
    expect(form.locator("#v-spot_checks")).to_have_value("")
    expect(form.locator("#v-remarks")).to_have_value("")

    # A wrong value is refused, naming the field; what was entered stays.
    form.locator("#v-spot_checks").fill("三次")
    form.locator("#v-remarks").fill("本月未发生起重机械安全事故。")
    submit(wuhan)
    expect(wuhan.locator('[role="alert"].alert.error')).to_have_text("提交的内容有误，请按提示修改。")
    spot = form.locator('tr[data-key="spot_checks"]')
    expect(spot).to_have_class(re.compile(r"\bhas-error\b"))
    expect(spot.locator(".field-error")).to_have_text("“本期监督检查次数”应为非负整数。")
    expect(form.locator(".field-error")).to_have_count(1)
    expect(form.locator("#v-spot_checks")).to_have_value("三次")
    expect(form.locator("#v-remarks")).to_have_value("本月未发生起重机械安全事故。")
    assert wuhan_errors.pop().startswith("422 ")
    form.locator("#v-spot_checks").fill("3")
    submit(wuhan)
    assert f"definition={definition_id}" in wuhan.url
    expect(wuhan.locator(".alert.ok")).to_have_text("已办理。")
    expect(wuhan.get_by_test_id(f"report-{definition_id}").locator("tbody tr")).to_have_count(1)  # its own only
    expect(submission_row(wuhan, definition_id, "420100").locator("[data-state]")).to_have_attribute(
        "data-state", "submitted")

    # The province returns it with a reason (none given: refused).
    open_task_from_list(province, definition_id, "审核报表")
    expect(province.locator('[data-value="spot_checks"]')).to_have_text("3")
    expect(province.locator('[data-value="cranes_filed"]')).to_have_text(str(filed))
    province.locator('input[name="decision"][value="return"]').check()
    submit(province)
    expect(province.locator("#reason ~ .field-error")).to_be_visible()
    assert province_errors.pop().startswith("422 ")
    province.locator('input[name="decision"][value="return"]').check()
    province.locator("#reason").fill(REASON)
    submit(province)
    expect(submission_row(province, definition_id, "420100").locator("[data-state]")).to_have_attribute(
        "data-state", "returned")

    # 武汉 reads the reason, corrects the figure and reports again.
    with wuhan.expect_navigation():
        wuhan.get_by_test_id("nav-report-submissions").click()
    expect(submission_row(wuhan, definition_id, "420100").locator("[data-state]")).to_have_attribute(
        "data-state", "returned")
    open_task_from_list(wuhan, definition_id, "填报报表")
    expect(wuhan.get_by_test_id("return-reason")).to_contain_text(REASON)
    expect(form.locator("#v-spot_checks")).to_have_value("3")  # what it submitted, to correct
    expect(form.locator("#v-remarks")).to_have_value("本月未发生起重机械安全事故。")
    form.locator("#v-spot_checks").fill("4")
    submit(wuhan)
    expect(submission_row(wuhan, definition_id, "420100").locator("[data-state]")).to_have_attribute(
        "data-state", "submitted")

    # The province accepts the corrected report.
    open_task_from_list(province, definition_id, "审核报表")
    expect(province.locator('[data-value="spot_checks"]')).to_have_text("4")
    province.locator('input[name="decision"][value="accept"]').check()
    submit(province)
    wuhan_row = submission_row(province, definition_id, "420100")
    expect(wuhan_row.locator("[data-state]")).to_have_attribute("data-state", "accepted")
    expect(wuhan_row.locator("[data-state]")).to_have_text("已采纳")
    expect(wuhan_row.get_by_test_id("open-task")).to_have_count(0)  # nothing left to do on it
    expect(wuhan_row.locator("td").nth(3)).not_to_have_text("—")  # accepted at
    expect(province.get_by_test_id(f"report-{definition_id}")).to_contain_text(
        f"共 {CITIES} 个地区：已采纳 1，已报送 0，逾期 0")
    shot(province, "report-submission")

    # 武汉's list says so too, and the case is closed.
    wuhan.goto(f"/reports/submissions?definition={definition_id}")
    expect(submission_row(wuhan, definition_id, "420100").locator("[data-state]")).to_have_text("已采纳")
    wuhan.goto("/inbox")
    expect(inbox_row(wuhan, case_id)).to_have_count(0)
    assert province_errors == [] and wuhan_errors == []
