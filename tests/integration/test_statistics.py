"""Regulator statistics: exact figures for known cases, scope (jurisdiction and drill-down), the CSV and
XLSX exports, and the demo-data generator (checked against a plain recount of what it wrote)."""
import csv
import io
import re
from collections import Counter
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, Crane, Hazard, HumanTask, Inspection, ProcessInstance, User
from engine.domain.cranes import assessment_required
from engine.domain.regions import all_regions, is_within, prefecture_of
from engine.services import statistics
from engine.services.demo_data import AlreadyGenerated, generate_demo_data
from engine.services.statistics import present
from forms.fields import today_in_china
from tests.helpers import approved_crane, filing_data, start_filing, upload
from tests.integration.test_pages_security import _browser

TODAY = today_in_china()
MONTH = f"{TODAY:%Y-%m}"


def _user(session, username):
    return session.scalar(select(User).where(User.username == username))


@pytest.fixture
def known(api):
    """Two cranes filed in 武汉 (武昌区), one in 宜昌, and one Wuhan filing still under review."""
    approved_crane(api, "STAT-T1")  # tower crane, 800 kN·m, made 2021-03-15
    owner = api("owner_wuhan")
    hoist = filing_data(owner, "STAT-S1", crane_type="construction_hoist", hoist_drive="SS", rated_load_kg=2000,
                        rated_moment_knm=None, model="SS100", manufacture_date="2012-06-01", purchase_date="2012-07-01")
    hoist["documents"]["assessment_report"] = [upload(owner, name="assessment.pdf")]  # past its age: required
    case = owner.post("/api/v1/cases", json={"process_key": "crane_registration", "data": hoist}).get_json()
    r = api("reg_wuhan").post(f"/api/v1/tasks/{case['open_tasks'][0]['id']}/complete",
                              json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    case = start_filing(api("owner_yichang"), serial="STAT-Y1")
    r = api("reg_yichang").post(f"/api/v1/tasks/{case['open_tasks'][0]['id']}/complete",
                                json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    start_filing(api("owner_wuhan"), serial="STAT-PENDING")


def _rows(api, username, section, **query):
    r = api(username).get(f"/api/v1/statistics/{section}", query_string=query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_sections_count_the_known_cases_exactly(known, api):
    # Filed cranes: the province sees both cities, by type and state (the pending filing is not filed).
    province = _rows(api, "reg_province", "cranes")["rows"]
    assert [(r["region_code"], r["crane_type"], r["idle"], r["total"]) for r in province] == [
        ("420100", "tower_crane", 1, 1), ("420100", "construction_hoist", 1, 1), ("420500", "tower_crane", 1, 1)]
    wuhan = _rows(api, "reg_wuhan", "cranes")["rows"]
    assert [(r["region_code"], r["crane_type"], r["total"]) for r in wuhan] == [
        ("420106", "tower_crane", 1), ("420106", "construction_hoist", 1)]

    ages = {r["crane_type"]: r for r in _rows(api, "reg_wuhan", "ages")["rows"]}
    assert (ages["tower_crane"]["age_5_10"], ages["tower_crane"]["over_age"]) == (1, 0)
    # An SS hoist made in 2012 is past its 5 years, with no assessment: due.
    hoist = ages["construction_hoist"]
    assert (hoist["total"], hoist["age_10_15"], hoist["over_age"], hoist["assessed"], hoist["assessment_due"]) == \
        (1, 1, 1, 0, 1)

    monthly = _rows(api, "reg_wuhan", "monthly")["rows"]
    assert len(monthly) == 13 and monthly[-1]["is_total"]
    this_month = next(r for r in monthly if r["month"] == MONTH)
    assert this_month["filings"] == 3  # two approved and one under review
    assert monthly[-1]["filings"] == 3 and sum(r["installation_notices"] for r in monthly) == 0
    assert _rows(api, "reg_province", "monthly")["rows"][-1]["filings"] == 4

    processing = _rows(api, "reg_wuhan", "processing")["rows"]
    assert [(r["region_code"], r["reviews"], r["on_time"], r["on_time_rate"]) for r in processing] == [
        ("420106", 2, 2, 100.0), ("420100", 2, 2, 100.0)]
    assert processing[-1]["is_total"] and processing[-1]["median_days"] == 0.0
    province_processing = _rows(api, "reg_province", "processing")["rows"]
    assert [(r["region_code"], r["reviews"]) for r in province_processing] == [
        ("420100", 2), ("420500", 1), ("420000", 3)]

    assert _rows(api, "reg_wuhan", "overdue")["rows"] == []
    assert _rows(api, "reg_wuhan", "supervision")["rows"][-1]["inspections"] == 0


def test_scope_jurisdiction_and_drill_down(known, api, app):
    # The province drills down to a county and sees only it.
    county = _rows(api, "reg_province", "cranes", region="420106")
    assert county["region"] == {"code": "420106", "name": "武昌区", "level": "county"}
    assert {r["region_code"] for r in county["rows"]} == {"420106"}
    assert [c["code"] for c in _rows(api, "reg_province", "cranes", region="420100")["children"]][:2] == [
        "420102", "420103"]
    # Another city's regulator cannot drill into Wuhan, nor a city go up to the province.
    for username, region in (("reg_yichang", "420100"), ("reg_yichang", "420106"), ("reg_wuhan", "420000"),
                             ("reg_wuhan", "420500")):
        r = api(username).get("/api/v1/statistics/cranes", query_string={"region": region})
        assert r.status_code == 403, (username, region)
    yichang = _rows(api, "reg_yichang", "cranes")["rows"]
    assert {r["region_code"] for r in yichang} == {"420502"}  # 宜昌's owner files in 西陵区
    assert all(is_within(r["region_code"], "420100") for r in _rows(api, "reg_wuhan", "cranes")["rows"])
    # Bad input answers 4xx naming the field, never 500.
    r = api("reg_wuhan").get("/api/v1/statistics/cranes", query_string={"period": "1999x"})
    assert r.status_code == 422 and "period" in r.get_json()["errors"]
    r = api("reg_wuhan").get("/api/v1/statistics/cranes", query_string={"region": "42x"})
    assert r.status_code == 422 and "region" in r.get_json()["errors"]
    assert api("reg_province").get("/api/v1/statistics/cranes", query_string={"region": "429999"}).status_code == 404
    assert api("reg_wuhan").get("/api/v1/statistics/nothing").status_code == 404
    # The page and the exports follow the same rules.
    browser = _browser(app, "reg_yichang")
    for url in ("/statistics?region=420100", "/statistics/cranes.csv?region=420100",
                "/statistics/ages.xlsx?region=420106"):
        assert browser.get(url).status_code == 403, url
    page = _browser(app, "reg_province").get("/statistics?region=420100&period=24m")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="/statistics?region=420106&amp;period=24m"' in html  # drill-down to 武昌区
    assert "湖北省</a>" in html and 'data-testid="statistics-region">武汉市<' in html


@pytest.mark.parametrize("username", ["owner_wuhan", "contractor_wuhan", "admin"])
def test_enterprises_and_the_system_administrator_are_refused(known, api, app, username):
    assert api(username).get("/api/v1/statistics/cranes").status_code == 403
    assert api(username).get("/api/v1/statistics/cranes", query_string={"period": "bad"}).status_code == 403
    browser = _browser(app, username)
    for url in ("/statistics", "/statistics/cranes.csv", "/statistics/monthly.xlsx"):
        assert browser.get(url).status_code == 403, url
    assert 'data-testid="nav-statistics"' not in browser.get("/cases").get_data(as_text=True)


def _html_table(html: str, section: str) -> list[list[str]]:
    table = re.search(rf'data-testid="table-{section}">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>")[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.mark.parametrize("section", ["cranes", "ages", "monthly", "processing"])
def test_csv_and_xlsx_exports_hold_the_rows_of_the_table(known, app, section):
    browser = _browser(app, "reg_province")
    html = browser.get("/statistics?period=12m").get_data(as_text=True)
    shown = _html_table(html, section)
    assert shown

    r = browser.get(f"/statistics/{section}.csv?period=12m")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert header == present.header(statistics.SECTIONS[section])
    assert rows == shown

    r = browser.get(f"/statistics/{section}.xlsx?period=12m")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == header
    assert len(values) == len(rows) + 1
    for got, want in zip(values[1:], rows):
        # Numbers stay numbers in the workbook (100.0 reads back as 100); the rest is the same text.
        assert [float(v) if isinstance(v, (int, float)) else ("" if v is None else v) for v in got] == \
            [float(w) if isinstance(g, (int, float)) else w for g, w in zip(got, want)]
    assert any(isinstance(v, (int, float)) for row in values[1:] for v in row)


def test_exports_keep_formula_like_text_as_text():
    section = statistics.SECTIONS["overdue"]
    row = {"notice_number": "鄂A整改〔2026〕00001号", "region_code": "420102", "project": "=HYPERLINK(\"x\")",
           "instrument": "rectification", "check_date": date(2026, 1, 5), "deadline_on": date(2026, 1, 8),
           "open_hazards": 1, "days_overdue": 3, "case_id": 1}
    _, line = list(csv.reader(io.StringIO(present.csv_bytes(section, [row]).decode("utf-8-sig"))))
    assert line[2] == "'=HYPERLINK(\"x\")" and line[1] == "江岸区" and line[5] == "2026-01-08"
    sheet = load_workbook(io.BytesIO(present.xlsx_bytes(section, [row]))).active
    assert sheet["C2"].value == "'=HYPERLINK(\"x\")" and sheet["C2"].data_type == "s"


def test_charts_carry_the_table_figures(known, app):
    html = _browser(app, "reg_province").get("/statistics").get_data(as_text=True)
    for name in statistics.SECTIONS:
        assert f'data-testid="stat-{name}"' in html
    assert html.count('class="stat-chart"') >= 4
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/statistics.js" in html
    assert "<script>" not in html  # the CSP allows no inline script


# --- the demo-data generator --------------------------------------------------------------------

def _signature(session):
    return session.execute(select(Crane.record_number, Crane.crane_type, Crane.status, Crane.manufacture_date,
                                  Crane.filing_region_code).where(Crane.factory_serial.like("DEMO5-%"))
                           .order_by(Crane.factory_serial)).all()


def test_generator_is_deterministic_and_covers_every_city(world):
    today = date(2026, 6, 15)
    with Session(world.engine) as s:
        first = generate_demo_data(s, cranes=400, seed=5, today=today)
        signature = _signature(s)
        s.rollback()
    with Session(world.engine) as s:
        second = generate_demo_data(s, cranes=400, seed=5, today=today)
        assert _signature(s) == signature
        s.commit()
    assert first.as_dict() == second.as_dict()
    assert second.cranes == 400 and second.as_dict()["cities"] == 17 and second.tasks > 400
    assert second.inspections > 0
    with Session(world.engine) as s:
        with pytest.raises(AlreadyGenerated):
            generate_demo_data(s, cranes=10, seed=5, today=today)
        cities = {prefecture_of(code).code for code in s.scalars(select(Crane.filing_region_code))}
        assert cities == {r.code for r in all_regions() if r.level == "city"}
        statuses = Counter(s.scalars(select(Crane.status)))
        assert {"in_use", "filed", "cancelled"} <= set(statuses)
        grades = Counter(s.scalars(select(Hazard.grade)))
        assert grades["general"] > 0 and grades["major"] > 0
        late = s.scalar(select(HumanTask.id).where(HumanTask.completed_at > HumanTask.due_at).limit(1))
        assert late is not None, "some reviews finished past their legal limit"
        assert s.scalar(select(HumanTask.id).where(HumanTask.status == "open").limit(1)) is None
        ages = [assessment_required(c.crane_type, c.manufacture_date, today, c.rated_moment_knm, c.hoist_drive)
                for c in s.scalars(select(Crane))]
        assert any(ages) and not all(ages)


def test_sections_agree_with_a_plain_recount_of_generated_data(world):
    today = TODAY
    with Session(world.engine) as s:
        generate_demo_data(s, cranes=300, seed=11, today=today)
        s.commit()
    with Session(world.engine) as s:
        for username, region in (("reg_province", None), ("reg_wuhan", None), ("reg_province", "420102")):
            user = _user(s, username)
            scope = statistics.resolve_scope(user, region)
            inside = set(scope.codes)
            cranes = [c for c in s.scalars(select(Crane)) if c.filing_region_code in inside and c.filed_at]

            got = statistics.compute(s, user, "cranes", region=region, today=today).rows
            assert sum(r["total"] for r in got) == len(cranes)
            assert sum(r["cancelled"] for r in got) == sum(c.status == "cancelled" for c in cranes)
            assert sum(r["in_use"] for r in got) == sum(c.status == "in_use" for c in cranes)

            ages = statistics.compute(s, user, "ages", region=region, today=today).rows
            live = [c for c in cranes if c.status not in ("cancelled", "rejected")]
            assert sum(r["total"] for r in ages) == len(live)
            assert sum(r["over_age"] for r in ages) == sum(assessment_required(
                c.crane_type, c.manufacture_date, today, c.rated_moment_knm, c.hoist_drive) for c in live)

            report = statistics.compute(s, user, "processing", region=region, period="24m", today=today)
            reviews = [t for t in s.scalars(select(HumanTask).where(HumanTask.status == "completed",
                                                                     HumanTask.role == "regulator"))
                       if t.region_code in inside and report.period.since <= t.completed_at < report.period.until]
            total = report.rows[-1]
            assert total["reviews"] == len(reviews) > 0
            assert total["on_time"] == sum(t.completed_at <= t.due_at for t in reviews)
            leads = sorted((t.completed_at - t.created_at).total_seconds() / 86400 for t in reviews)
            middle = leads[(len(leads) + 1) // 2 - 1]
            assert total["median_days"] <= middle < total["median_days"] + 0.1  # to a tenth of a day
            assert total["mean_days"] == pytest.approx(sum(leads) / len(leads), abs=0.051)

            report = statistics.compute(s, user, "supervision", region=region, period="24m", today=today)
            checks = [i for i in s.scalars(select(Inspection)) if i.region_code in inside
                      and report.period.start <= i.check_date <= report.period.end]
            total = report.rows[-1]
            assert total["inspections"] == len(checks)
            assert total["stop_work_notices"] == sum(i.instrument == "stop_work" for i in checks)
            hazards = [h for h in s.scalars(select(Hazard)) if h.inspection_id in {i.id for i in checks}]
            assert total["hazards_major"] == sum(h.grade == "major" for h in hazards)
            events = s.execute(select(AuditEvent.to_state, Inspection.region_code, AuditEvent.at)
                               .join(Inspection, Inspection.instance_id == AuditEvent.instance_id)
                               .where(AuditEvent.action == "reinspected")).all()
            mine = [e for e in events if e.region_code in inside and report.period.since <= e.at < report.period.until]
            assert total["reinspections"] == len(mine)
            assert total["reinspections_passed"] == sum(e.to_state == "closed" for e in mine)

            overdue = statistics.compute(s, user, "overdue", region=region, today=today).rows
            expected = [i for i in s.scalars(select(Inspection)) if i.region_code in inside and i.status == "open"
                        and i.deadline_on < today]
            assert len(overdue) == min(len(expected), 200)
            assert all(r["days_overdue"] == (today - r["deadline_on"]).days > 0 for r in overdue)


def test_pages_of_generated_cranes_and_cases_render(world, app, api):
    with Session(world.engine) as s:
        generate_demo_data(s, cranes=120, seed=21)
        s.commit()
    with Session(world.engine) as s:
        crane = s.scalar(select(Crane).where(Crane.factory_serial.like("DEMO21-%"), Crane.status == "in_use",
                                             Crane.filing_region_code.like("4201%")).limit(1))
        install = s.scalar(select(ProcessInstance.id).where(ProcessInstance.subject_id == crane.id,
                                                            ProcessInstance.process_key == "installation_notice"))
        task = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == install, HumanTask.role == "regulator"))
        running = s.scalar(select(Inspection.instance_id).where(Inspection.status == "open").limit(1))
    browser = _browser(app, "reg_province")
    for url in (f"/cranes/{crane.id}", "/cases", f"/cases/{install}", f"/cases/{running}", "/cranes", "/inbox",
                f"/tasks/{task}", "/statistics", "/statistics?region=420100", f"/statistics?region={crane.filing_region_code}"):
        r = browser.get(url)
        assert r.status_code == 200, (url, r.status_code)
    assert crane.record_number in browser.get(f"/cranes/{crane.id}").get_data(as_text=True)
    diagram = api("reg_province").get(f"/api/v1/cases/{install}/diagram")
    assert diagram.status_code == 200 and diagram.get_json()["active"] == []
    # The owner sees its generated crane, another city's regulator does not.
    assert _browser(app, "reg_yichang").get(f"/cranes/{crane.id}").status_code == 404


def test_generate_demo_data_command(world, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["craneflow", "generate-demo-data", "--cranes", "40", "--seed", "31"])
    assert result.exit_code == 0, result.output
    assert "cranes 40" in result.output
    again = runner.invoke(args=["craneflow", "generate-demo-data", "--cranes", "40", "--seed", "31"])
    assert again.exit_code != 0 and "seed 31" in again.output
    quiet = runner.invoke(args=["craneflow", "generate-demo-data", "--cranes", "40", "--seed", "31", "--if-empty"])
    assert quiet.exit_code == 0
    assert runner.invoke(args=["craneflow", "generate-demo-data", "--cranes", "0"]).exit_code != 0
    with Session(world.engine) as s:
        assert len(s.scalars(select(Crane.id).where(Crane.factory_serial.like("DEMO31-%"))).all()) == 40
