"""The usage report (使用情况通报): exact figures per region from cases made through the real services and
placed in November 2025 (no holidays; the 3rd is a Monday), scoping by jurisdiction, period validation,
and the PDF document."""
import io
from collections import Counter
from datetime import datetime

import pypdf
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.db import AuditEvent, HumanTask, ProcessInstance
from engine.services.settings import CHINA_TZ
from engine.services.usage_report import Period, _quantile, last_full_month
from tests.helpers import open_task_id, start_filing
from tests.integration.test_pages_security import _browser

NOV = "month=2025-11"


def cst(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"2025-{day} {clock}").replace(tzinfo=CHINA_TZ)


def _place(engine, case_id, *, started, due, completed=None, overdue_since=None):
    """Put a one-review case at known times: its start, its review task (created with the case, due at
    the end of `due`, completed at `completed`) and its audit events."""
    with Session(engine) as s:
        s.execute(update(ProcessInstance).where(ProcessInstance.id == case_id).values(
            started_at=started, completed_at=completed, overdue_since=overdue_since))
        s.execute(update(HumanTask).where(HumanTask.instance_id == case_id).values(
            created_at=started, due_at=cst(due, "23:59:59"), completed_at=completed))
        s.execute(update(AuditEvent).where(AuditEvent.instance_id == case_id).values(at=completed or started))
        s.commit()


def _filed(api, owner, reviewer, serial):
    case = start_filing(api(owner), serial=serial)
    if reviewer:
        r = api(reviewer).post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
        assert r.status_code == 200, r.get_data(as_text=True)
    return case["id"]


@pytest.fixture
def november(world, api):
    """武汉 (武昌区): 2 reviews (2 and 13 working days, the second past its 7-day limit), one case still
    in review within its limit, one from October open and overdue; 宜昌 (西陵区): 2 reviews (0 and 1
    working days). reg_wuhan2 acts only in December."""
    w1 = _filed(api, "owner_wuhan", "reg_wuhan", "UR-W1")
    _place(world.engine, w1, started=cst("11-03"), due="11-12", completed=cst("11-05", "10:00"))
    w2 = _filed(api, "owner_wuhan", "reg_wuhan", "UR-W2")
    _place(world.engine, w2, started=cst("11-03"), due="11-12", completed=cst("11-20", "10:00"))
    w3 = _filed(api, "owner_wuhan", None, "UR-W3")
    _place(world.engine, w3, started=cst("11-24"), due="12-03")
    w4 = _filed(api, "owner_wuhan", None, "UR-W4")
    _place(world.engine, w4, started=cst("10-20"), due="10-29", overdue_since=cst("10-30", "00:00"))
    w5 = _filed(api, "owner_wuhan", "reg_wuhan2", "UR-W5")  # December: outside the period
    _place(world.engine, w5, started=cst("12-01", "09:00"), due="12-10", completed=cst("12-02"))
    y1 = _filed(api, "owner_yichang", "reg_yichang", "UR-Y1")
    _place(world.engine, y1, started=cst("11-10"), due="11-19", completed=cst("11-10", "15:00"))
    y2 = _filed(api, "owner_yichang", "reg_yichang", "UR-Y2")
    _place(world.engine, y2, started=cst("11-11"), due="11-20", completed=cst("11-12", "11:00"))


def _row(report, code):
    (row,) = [r for r in report["rows"] if r["region_code"] == code]
    return row


def _figures(row):
    return {k: row[k] for k in ("started", "completed", "reviews", "within_limit", "within_limit_share",
                                "lead_time_median_workdays", "lead_time_p90_workdays", "overdue_tasks",
                                "overdue_cases", "active_regulators", "cases_online")}


WUHAN = {"started": 3, "completed": 2, "reviews": 2, "within_limit": 1, "within_limit_share": 0.5,
         "lead_time_median_workdays": 7.5, "lead_time_p90_workdays": 11.9, "overdue_tasks": 1, "overdue_cases": 1,
         "active_regulators": 1, "cases_online": 2}
YICHANG = {"started": 2, "completed": 2, "reviews": 2, "within_limit": 2, "within_limit_share": 1.0,
           "lead_time_median_workdays": 0.5, "lead_time_p90_workdays": 0.9, "overdue_tasks": 0, "overdue_cases": 0,
           "active_regulators": 1, "cases_online": 2}


def test_province_report_has_a_row_per_city_with_exact_figures(api, november):
    r = api("reg_province").get(f"/api/v1/reports/usage?{NOV}")
    assert r.status_code == 200, r.get_data(as_text=True)
    report = r.get_json()
    assert report["title"] == "湖北省建筑起重机械监管系统使用情况通报（2025年11月）"
    assert report["issuer"] == "湖北省住房和城乡建设厅"
    assert report["period"] == {"from": "2025-11-01", "to": "2025-11-30", "kind": "month", "label": "2025年11月"}
    assert [row["region_name"] for row in report["rows"]][:2] == ["武汉市", "黄石市"]
    assert len(report["rows"]) == 17  # every city and prefecture-level unit, no empty 省本级 row
    assert _figures(_row(report, "420100")) == WUHAN
    assert _figures(_row(report, "420500")) == YICHANG
    assert _figures(_row(report, "420200"))["started"] == 0
    assert _row(report, "420200")["within_limit_share"] is None
    assert _figures(report["total"]) == {
        "started": 5, "completed": 4, "reviews": 4, "within_limit": 3, "within_limit_share": 0.75,
        "lead_time_median_workdays": 1.5, "lead_time_p90_workdays": 9.7, "overdue_tasks": 1, "overdue_cases": 1,
        "active_regulators": 2, "cases_online": 4}
    assert report["ranking"] == [{"region_code": "420100", "region_name": "武汉市", "within_limit_share": 0.5}]
    assert _row(report, "420100")["lowest_within_limit"] and not _row(report, "420500")["lowest_within_limit"]
    filing = _row(report, "420100")["procedures"]["crane_registration"]
    assert (filing["started"], filing["completed"], filing["within_limit"]) == (3, 2, 1)


def test_december_counts_reg_wuhan2_and_its_review_only(api, november):
    report = api("reg_province").get("/api/v1/reports/usage?from=2025-12-01&to=2025-12-31").get_json()
    wuhan = _figures(_row(report, "420100"))
    assert (wuhan["started"], wuhan["completed"], wuhan["reviews"], wuhan["active_regulators"]) == (1, 1, 1, 1)
    assert wuhan["lead_time_median_workdays"] == 1.0  # 1 to 2 December
    assert wuhan["overdue_tasks"] == 2  # October's case, and W3 due on 3 December
    assert report["period"]["label"] == "2025年12月1日至2025年12月31日"


def test_city_regulator_sees_its_counties_and_the_province_drills_down_to_them(api, november):
    own = api("reg_wuhan").get(f"/api/v1/reports/usage?{NOV}").get_json()
    drilled = api("reg_province").get(f"/api/v1/reports/usage?{NOV}&region=420100").get_json()
    for report in (own, drilled):
        assert report["region"]["code"] == "420100"
        assert report["title"] == "武汉市建筑起重机械监管系统使用情况通报（2025年11月）"
        assert all(row["region_code"].startswith("4201") for row in report["rows"])
        assert "武昌区" in [row["region_name"] for row in report["rows"]]
        # The review figures count in 武昌区; reg_wuhan (a city account) counts in the 市本级 row.
        wuchang = _figures(_row(report, "420106"))
        assert (wuchang["started"], wuchang["within_limit_share"], wuchang["overdue_tasks"]) == (3, 0.5, 1)
        assert _row(report, "420100")["region_name"] == "市本级"
        assert _row(report, "420100")["active_regulators"] == 1
        assert _figures(report["total"]) == WUHAN
    assert own["issuer"] == "武汉市住房和城乡建设局"


def test_county_report_is_the_county_itself(api, november):
    report = api("reg_wuhan").get(f"/api/v1/reports/usage?{NOV}&region=420106").get_json()
    assert [row["region_name"] for row in report["rows"]] == ["武昌区"]
    assert _figures(report["rows"][0])["started"] == 3
    assert report["ranking"] == []


@pytest.mark.parametrize(("username", "query", "status"), [
    ("reg_yichang", "region=420100", 403),  # another city
    ("reg_wuhan", "region=420500", 403),
    ("reg_wuhan", "region=420000", 403),  # above its jurisdiction
    ("reg_wuhan", "region=420199", 404),  # no such region
    ("owner_wuhan", "", 403),
    ("contractor_wuhan", "region=420100", 403),
    ("admin", "", 403),
])
def test_scope_is_enforced(api, november, username, query, status):
    r = api(username).get(f"/api/v1/reports/usage?{query}")
    assert r.status_code == status, r.get_data(as_text=True)
    assert "rows" not in r.get_json()


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=2025-11-30&to=2025-11-01", "from", "开始日期不能晚于结束日期。"),
    ("from=2025-01-01&to=2026-01-01", "to", "统计期间不能超过一年。"),
    ("from=2025-11-01", "to", "开始日期和结束日期须同时填写。"),
    ("from=2025-11-31&to=2025-12-01", "from", "应为日期（YYYY-MM-DD）。"),
    ("month=2025-13", "month", "月份格式应为 YYYY-MM（如 2026-10）。"),
    ("quarter=2025-Q5", "quarter", "季度格式应为 YYYY-Qn（如 2026-Q3）。"),
    ("year=1999", "year", "应在 2000 到 2100 之间。"),
    ("month=2025-11&year=2025", "year", "请只选择一种统计期间：起止日期、月份、季度或年度。"),
    ("region=4201", "region", "长度应在 6 到 6 个字符之间。"),
    ("colour=red", "colour", "不接受的字段。"),
])
def test_bad_period_is_refused_naming_the_field(app, api, world, query, field, message):
    r = api("reg_wuhan").get(f"/api/v1/reports/usage?{query}")
    assert r.status_code == 422
    assert r.get_json()["errors"] == {field: [message]}
    page = _browser(app, "reg_wuhan").get(f"/reports/usage?{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html
    if field != "colour":
        label = {"from": "开始日期", "to": "结束日期", "month": "月份", "quarter": "季度", "year": "年度",
                 "region": "地区"}[field]
        assert f"{label}：{message}" in html
    pdf = _browser(app, "reg_wuhan").get(f"/reports/usage.pdf?{query}")
    assert pdf.status_code == 400 and pdf.mimetype == "text/html"


def test_a_full_year_and_a_quarter_are_accepted(api, world):
    year = api("reg_wuhan").get("/api/v1/reports/usage?from=2024-01-01&to=2024-12-31")
    assert year.status_code == 200
    quarter = api("reg_wuhan").get("/api/v1/reports/usage?quarter=2025-Q4").get_json()
    assert quarter["period"] == {"from": "2025-10-01", "to": "2025-12-31", "kind": "quarter", "label": "2025年第四季度"}
    by_year = api("reg_wuhan").get("/api/v1/reports/usage?year=2025").get_json()
    assert by_year["period"]["label"] == "2025年度"


def test_default_period_is_the_last_full_month(api, world):
    report = api("reg_wuhan").get("/api/v1/reports/usage").get_json()
    expected = last_full_month(datetime.now(CHINA_TZ).date())
    assert report["period"]["from"] == expected.start.isoformat()
    assert report["period"]["to"] == expected.end.isoformat()
    assert expected.end.day >= 28 and expected.start.day == 1


def test_page_shows_the_table_totals_and_drill_down(app, november):
    html = _browser(app, "reg_province").get(f"/reports/usage?{NOV}").get_data(as_text=True)
    assert "湖北省建筑起重机械监管系统使用情况通报（2025年11月）" in html
    assert "2025-11-01" in html and "2025-11-30" in html
    assert 'href="/reports/usage?region=420100&amp;month=2025-11"' in html  # drill down to 武汉's counties
    assert 'data-region="420100" class="lowest"' in html
    assert "按时办结率较低的地区：武汉市（50.0%）" in html
    total = html.split('data-region="total"')[1].split("</tr>")[0]
    assert "75.0%" in total and ">5<" in total and ">2<" in total
    drilled = _browser(app, "reg_province").get(f"/reports/usage?{NOV}&region=420100").get_data(as_text=True)
    assert "武昌区" in drilled and 'data-testid="report-up"' in drilled
    assert "使用情况通报" in _browser(app, "reg_wuhan").get("/inbox").get_data(as_text=True)  # the nav link


def test_pdf_is_a_document_with_the_title_period_regions_and_figures(app, november):
    r = _browser(app, "reg_province").get(f"/reports/usage.pdf?{NOV}")
    assert r.status_code == 200
    assert r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(r.data))
    assert len(reader.pages) >= 1
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert width > height  # A4 landscape
    assert round(float(width)) == 842 and round(float(height)) == 595
    text = "".join(page.extract_text() for page in reader.pages)
    compact = text.replace(" ", "").replace("\n", "")
    assert "湖北省建筑起重机械监管系统使用情况通报（2025年11月）" in compact
    assert "湖北省住房和城乡建设厅" in compact
    assert "2025-11-01至2025-11-30" in compact
    lines = [line.strip() for line in text.splitlines() if line.strip()]

    def cells(name):  # the extracted text has one table cell a line
        return lines[lines.index(name) + 1:lines.index(name) + 10]
    assert cells("武汉市（偏低）") == ["3", "2", "2", "7.5", "11.9", "50.0%", "1", "1", "1"]
    assert cells("宜昌市") == ["2", "2", "2", "0.5", "0.9", "100.0%", "0", "0", "1"]
    assert cells("黄石市") == ["0", "0", "0", "—", "—", "—", "0", "0", "0"]
    assert cells("合计") == ["5", "4", "4", "1.5", "9.7", "75.0%", "1", "1", "2"]
    assert "建筑起重机械产权备案" in lines
    assert "按时办结率排名靠后的是：武汉市（50.0%）" in compact


def test_pdf_for_another_city_is_refused(app, november):
    assert _browser(app, "reg_yichang").get(f"/reports/usage.pdf?{NOV}&region=420100").status_code == 403


def test_quantiles_interpolate_like_percentile_cont():
    assert _quantile(Counter({0: 1, 1: 1, 2: 1, 13: 1}), 0.5) == 1.5
    assert _quantile(Counter({2: 1, 13: 1}), 0.9) == 11.9
    assert _quantile(Counter({4: 3}), 0.9) == 4
    assert _quantile(Counter(), 0.5) is None
    assert _quantile(Counter({1: 9, 10: 1}), 0.9) == 1.9


def test_periods_have_chinese_labels():
    assert Period.month(2026, 2).end.isoformat() == "2026-02-28"
    assert Period.month(2026, 12).label() == "2026年12月"
    assert Period.quarter(2026, 3).label() == "2026年第三季度"
    assert last_full_month(datetime(2026, 1, 15).date()) == Period.month(2025, 12)


def test_page_and_json_in_english(app, api, november):
    browser = _browser(app, "reg_wuhan")
    browser.get("/lang/en")
    html = browser.get(f"/reports/usage?{NOV}").get_data(as_text=True)
    assert "Crane regulation system usage report, Wuhan (November 2025)" in html
    assert "Within the limit" in html and "Wuchang District" in html
    report = api("reg_wuhan").get(f"/api/v1/reports/usage?{NOV}&lang=en").get_json()
    assert report["period"]["label"] == "November 2025"


def test_no_region_is_ranked_low_when_all_are_equal(api, world):
    for owner, reviewer, serial in (("owner_wuhan", "reg_wuhan", "EQ-W"), ("owner_yichang", "reg_yichang", "EQ-Y")):
        case_id = _filed(api, owner, reviewer, serial)
        _place(world.engine, case_id, started=cst("11-03"), due="11-12", completed=cst("11-04"))
    report = api("reg_province").get(f"/api/v1/reports/usage?{NOV}").get_json()
    assert _row(report, "420100")["within_limit_share"] == _row(report, "420500")["within_limit_share"] == 1.0
    assert report["ranking"] == []
