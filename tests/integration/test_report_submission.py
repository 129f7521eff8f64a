"""Periodic reports (报表报送): the province publishes a report, each city fills it in from its own
figures, the province returns or accepts it, and an unsubmitted report goes overdue at the deadline."""
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import AuditEvent, DueJob, HumanTask, Notification, ProcessInstance, ReportSubmission
from engine.domain.regions import PROVINCE_CODE, children
from engine.services import report_submission
from engine.services.settings import CHINA_TZ
from engine.services.timers import fire_due_timers
from tests.conftest import csrf_from
from tests.helpers import approved_crane
from tests.integration.test_pages_security import _browser

CITIES = [r.code for r in children(PROVINCE_CODE) if r.level == "city"]
FIELDS = [
    {"key": "cranes_filed", "label_zh": "本期产权备案台数", "label_en": "Cranes filed", "type": "integer",
     "required": True, "prefill": "cranes_filed"},
    {"key": "inspections", "label_zh": "本期监督检查次数", "label_en": "Spot checks", "type": "integer",
     "required": True, "prefill": "inspections"},
    {"key": "remarks", "label_zh": "情况说明", "label_en": "Remarks", "type": "text", "required": True},
]
GOOD_VALUES = {"cranes_filed": 1, "inspections": 0, "remarks": "本月无重大事故。"}


def _today():
    return datetime.now(CHINA_TZ).date()


def definition_body(**overrides):
    today = _today()
    body = {"title": "建筑起重机械监管月报", "period_type": "month", "year": today.year, "number": today.month,
            "deadline_on": (today + timedelta(days=10)).isoformat(), "fields": FIELDS, "publish": True}
    body.update(overrides)
    return body


def publish(api, **overrides):
    r = api("reg_province").post("/api/v1/report-definitions", json=definition_body(**overrides))
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def fill_task(api, username, region_code=None):
    """The user's one open fill_report task (the one of `region_code` when given)."""
    items = [t for t in api(username).get("/api/v1/tasks").get_json()["items"] if t["name"] == "fill_report"]
    assert len(items) == 1, items
    return items[0]


def submission(world, region_code) -> ReportSubmission:
    with Session(world.engine) as s:
        row = s.scalar(select(ReportSubmission).where(ReportSubmission.region_code == region_code))
        s.expunge(row)
        return row


def events(world, case_id, action):
    with Session(world.engine) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == case_id, AuditEvent.action == action))


def complete(api, username, task_id, data, status=200):
    r = api(username).post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


def test_publishing_opens_one_prefilled_case_per_city_in_that_citys_inbox(world, api):
    approved_crane(api, "RPT-0001")  # filed by owner_wuhan (武汉) and approved today
    definition = publish(api)
    assert definition["status"] == "published" and definition["period"] == f"{_today().year}年{_today().month}月"
    rows = api("reg_province").get(f"/api/v1/report-submissions?definition_id={definition['id']}").get_json()["items"]
    assert sorted(r["region_code"] for r in rows) == sorted(CITIES) and {r["state"] for r in rows} == {"not_started"}
    assert len({r["case_id"] for r in rows}) == len(CITIES)

    wuhan, yichang = fill_task(api, "reg_wuhan"), fill_task(api, "reg_yichang")
    by_region = {r["region_code"]: r["case_id"] for r in rows}
    assert wuhan["case_id"] == by_region["420100"] and yichang["case_id"] == by_region["420500"]
    # The province reviews, it does not fill in; no city sees another city's report.
    assert [t for t in api("reg_province").get("/api/v1/tasks").get_json()["items"] if t["name"] == "fill_report"] == []
    assert [r["region_code"] for r in api("reg_wuhan").get("/api/v1/report-submissions").get_json()["items"]] \
        == ["420100"]
    # Pre-filled from the system's own figures: Wuhan's approved filing, none in Yichang.
    assert api("reg_wuhan").get(f"/api/v1/tasks/{wuhan['id']}").get_json()["data"] == {
        "values": {"cranes_filed": 1, "inspections": 0}}
    assert api("reg_yichang").get(f"/api/v1/tasks/{yichang['id']}").get_json()["data"] == {
        "values": {"cranes_filed": 0, "inspections": 0}}


def _due(task) -> datetime:
    return datetime.fromisoformat(task["due_at"])


def test_fill_return_resubmit_and_accept(app, world, api):
    definition = publish(api)
    task = fill_task(api, "reg_wuhan")
    # The fill task is due at the end of the report's deadline day, China time, as the inbox sorts it.
    deadline = date.fromisoformat(definition["deadline_on"])
    assert _due(task) == datetime(deadline.year, deadline.month, deadline.day, 23, 59, 59, tzinfo=CHINA_TZ)
    missing = complete(api, "reg_wuhan", task["id"], {"values": {"cranes_filed": 1, "inspections": 0}}, status=422)
    assert missing["errors"] == {"values": {"remarks": ["“情况说明”为必填项。"]}}
    wrong = complete(api, "reg_wuhan", task["id"], {"values": {**GOOD_VALUES, "inspections": "三次"}}, status=422)
    assert wrong["errors"] == {"values": {"inspections": ["“本期监督检查次数”应为非负整数。"]}}
    # Another city may not fill in Wuhan's report.
    complete(api, "reg_yichang", task["id"], {"values": GOOD_VALUES}, status=403)
    assert submission(world, "420100").status == "not_started"

    complete(api, "reg_wuhan", task["id"], {"values": GOOD_VALUES})
    assert submission(world, "420100").status == "submitted"
    review = [t for t in api("reg_province").get("/api/v1/tasks").get_json()["items"]
              if t["name"] == "review_report" and t["case_id"] == task["case_id"]]
    assert len(review) == 1
    assert [t for t in api("reg_wuhan").get("/api/v1/tasks").get_json()["items"] if t["name"] == "review_report"] == []
    complete(api, "reg_province", review[0]["id"], {"decision": "return"}, status=422)  # a reason is required
    complete(api, "reg_province", review[0]["id"], {"decision": "return", "reason": "检查次数与台账不符"})

    back = fill_task(api, "reg_wuhan")
    assert back["case_id"] == task["case_id"] and back["id"] != task["id"]
    assert _due(back) == _due(task)  # a returned report is still due by the same deadline
    row = submission(world, "420100")
    assert row.status == "returned" and row.return_reason == "检查次数与台账不符"
    # The corrected form starts from what was submitted; the page shows the reason.
    assert api("reg_wuhan").get(f"/api/v1/tasks/{back['id']}").get_json()["data"] == {"values": GOOD_VALUES}
    page = _browser(app, "reg_wuhan").get(f"/reports/tasks/{back['id']}").get_data(as_text=True)
    assert 'data-testid="return-reason"' in page and "检查次数与台账不符" in page

    complete(api, "reg_wuhan", back["id"], {"values": {**GOOD_VALUES, "inspections": 2}})
    review = [t for t in api("reg_province").get("/api/v1/tasks").get_json()["items"] if t["name"] == "review_report"]
    complete(api, "reg_province", review[0]["id"], {"decision": "accept"})
    row = submission(world, "420100")
    assert row.status == "accepted" and row.values["inspections"] == 2 and row.accepted_at is not None
    with Session(world.engine) as s:
        case = s.get(ProcessInstance, task["case_id"])
        assert case.status == "completed" and case.outcome == "accepted"
    listed = api("reg_province").get("/api/v1/report-submissions").get_json()["items"]
    assert {r["region_code"]: r["state"] for r in listed}["420100"] == "accepted"


def test_an_unsubmitted_report_is_flagged_overdue_once_at_the_deadline(world, api, monkeypatch):
    due = datetime.now(CHINA_TZ) + timedelta(seconds=3)
    monkeypatch.setattr(report_submission, "deadline_at", lambda day: due)
    publish(api)
    task = fill_task(api, "reg_wuhan")
    complete(api, "reg_wuhan", task["id"], {"values": GOOD_VALUES})  # Wuhan reports in time
    if datetime.now(CHINA_TZ) < due - timedelta(seconds=0.5):  # (unless this machine was that slow)
        assert fire_due_timers(world.engine) == 0
    time.sleep(max(0.0, (due - datetime.now(CHINA_TZ)).total_seconds()) + 0.1)
    assert fire_due_timers(world.engine) == len(CITIES) - 1  # every city but Wuhan
    assert fire_due_timers(world.engine) == 0

    yichang = submission(world, "420500")
    assert yichang.overdue_since is not None and yichang.status == "not_started"
    assert submission(world, "420100").overdue_since is None
    assert events(world, yichang.instance_id, "report_overdue") == 1
    with Session(world.engine) as s:
        kinds = s.scalars(select(Notification.kind).where(Notification.user_id == world.users["reg_yichang"])).all()
    assert "report_overdue" in kinds
    states = {r["region_code"]: r for r in api("reg_province").get("/api/v1/report-submissions").get_json()["items"]}
    assert states["420500"]["state"] == "overdue" and states["420500"]["days_overdue"] >= 0
    assert states["420100"]["state"] == "submitted"

    # Yichang submits late and is returned: the timer re-arms past its deadline but flags nothing again.
    late = fill_task(api, "reg_yichang")
    complete(api, "reg_yichang", late["id"], {"values": GOOD_VALUES})
    review = [t for t in api("reg_province").get("/api/v1/tasks").get_json()["items"]
              if t["name"] == "review_report" and t["case_id"] == late["case_id"]]
    complete(api, "reg_province", review[0]["id"], {"decision": "return", "reason": "请补充说明逾期原因"})
    fire_due_timers(world.engine)
    assert events(world, yichang.instance_id, "report_overdue") == 1
    assert fill_task(api, "reg_yichang")["case_id"] == late["case_id"]


def test_closing_records_the_unsubmitted_as_missed_and_withdraws_their_fill_tasks(app, world, api):
    definition = publish(api)
    close_url = f"/api/v1/report-definitions/{definition['id']}/close"
    task = fill_task(api, "reg_wuhan")
    complete(api, "reg_wuhan", task["id"], {"values": GOOD_VALUES})
    # A submission waits for review: closing now would leave it undecided.
    r = api("reg_province").post(close_url)
    assert r.status_code == 409 and "1 份报表待审核" in r.get_json()["message"]
    assert api("reg_wuhan").post(close_url).status_code == 403  # the province closes, not a city
    review = [t for t in api("reg_province").get("/api/v1/tasks").get_json()["items"] if t["name"] == "review_report"]
    complete(api, "reg_province", review[0]["id"], {"decision": "accept"})

    r = api("reg_province").post(close_url)
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    rows = {r["region_code"]: r for r in api("reg_province").get(
        f"/api/v1/report-submissions?definition_id={definition['id']}").get_json()["items"]}
    assert rows.pop("420100")["state"] == "accepted"
    assert {r["state"] for r in rows.values()} == {"missed"} and len(rows) == len(CITIES) - 1
    assert all(r["open_task"] is None for r in rows.values())
    assert [t for t in api("reg_yichang").get("/api/v1/tasks").get_json()["items"] if t["name"] == "fill_report"] == []
    yichang_case = rows["420500"]["case_id"]
    with Session(world.engine) as s:
        case = s.get(ProcessInstance, yichang_case)
        assert (case.status, case.outcome) == ("cancelled", "missed")
        assert s.scalar(select(func.count()).select_from(DueJob).where(DueJob.instance_id == yichang_case)) == 0
        assert s.scalar(select(HumanTask.status).where(HumanTask.instance_id == yichang_case)) == "cancelled"
    assert events(world, yichang_case, "terminated") == 1
    assert api("reg_province").post(close_url).status_code == 409  # closed already

    page = _browser(app, "reg_province").get(f"/reports/submissions?definition={definition['id']}")
    assert page.get_data(as_text=True).count('data-state="missed"') == len(CITIES) - 1


def test_county_reports_go_to_the_county_office_only(world, api):
    definition = publish(api, include_counties=True)
    counties = [c.code for city in CITIES for c in children(city) if c.level == "county"]
    with Session(world.engine) as s:
        total = s.scalar(select(func.count()).select_from(ReportSubmission).where(
            ReportSubmission.definition_id == definition["id"]))
        district = s.scalar(select(HumanTask).where(HumanTask.region_code == "420106",
                                                    HumanTask.task_name == "fill_report"))
        assert district.levels == "county"
    assert total == len(CITIES) + len(counties)
    # Wuhan sees its districts' submissions, but fills in (and may complete) only its own.
    regions = {r["region_code"] for r in api("reg_wuhan").get("/api/v1/report-submissions").get_json()["items"]}
    assert "420100" in regions and "420106" in regions and "420500" not in regions
    assert fill_task(api, "reg_wuhan")["case_id"] != district.instance_id
    complete(api, "reg_wuhan", district.id, {"values": GOOD_VALUES}, status=403)


def test_definition_input_is_validated_and_reserved_to_the_province(world, api):
    bad = api("reg_province").post("/api/v1/report-definitions", json=definition_body(fields=[
        {"key": "Bad Key", "label_zh": "甲", "type": "integer"},
        {"key": "note", "label_zh": "说明", "type": "text", "prefill": "hazards"}]))
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]["fields"]["0"]) == {"key"}
    assert set(bad.get_json()["errors"]["fields"]["1"]) == {"prefill"}
    duplicate = api("reg_province").post("/api/v1/report-definitions", json=definition_body(
        fields=[FIELDS[0], FIELDS[0]]))
    assert duplicate.status_code == 422 and "cranes_filed" in duplicate.get_json()["errors"]["fields"][0]
    assert api("reg_wuhan").post("/api/v1/report-definitions", json=definition_body()).status_code == 403
    draft = api("reg_province").post("/api/v1/report-definitions", json=definition_body(publish=False)).get_json()
    assert draft["status"] == "draft"
    assert [d["id"] for d in api("reg_wuhan").get("/api/v1/report-definitions").get_json()["items"]] == []
    assert api("reg_wuhan").post(f"/api/v1/report-definitions/{draft['id']}/publish").status_code == 403
    assert api("reg_province").post(f"/api/v1/report-definitions/{draft['id']}/publish").status_code == 200
    assert api("reg_province").post(f"/api/v1/report-definitions/{draft['id']}/publish").status_code == 409
    for username in ("owner_wuhan", "contractor_wuhan", "admin"):
        assert api(username).get("/api/v1/report-definitions").status_code == 403
        assert api(username).get("/api/v1/report-submissions").status_code == 403


@pytest.mark.parametrize("url", ["/reports/definitions", "/reports/submissions"])
@pytest.mark.parametrize("username", ["owner_wuhan", "owner_yichang", "admin"])
def test_report_pages_refuse_enterprises_and_the_system_administrator(app, world, url, username):
    assert _browser(app, username).get(url).status_code == 403


def test_province_defines_and_publishes_in_the_browser_and_wuhan_fills_in(app, world):
    province = _browser(app, "reg_province")
    page = province.get("/reports/definitions")
    assert page.status_code == 200 and "field-editor" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    today = _today()
    form = {"csrf_token": token, "title": "季度报表", "period_type": "quarter", "year": str(today.year),
            "number": "9", "deadline_on": (today + timedelta(days=5)).isoformat(),
            "fields-0-key": "cranes_filed", "fields-0-label_zh": "备案台数", "fields-0-type": "integer",
            "fields-0-required": "1", "fields-0-prefill": "cranes_filed",
            "fields-1-key": "remarks", "fields-1-label_zh": "情况说明", "fields-1-type": "text", "fields-1-required": "1",
            "fields-2-key": "dropped", "fields-2-label_zh": "删掉的行", "fields-2-type": "text", "fields-2-remove": "1"}
    refused = province.post("/reports/definitions", data={**form, "cf_action": "save"})
    assert refused.status_code == 422 and "应在 1 到 4 之间" in refused.get_data(as_text=True)
    assert province.post("/reports/definitions", data={**form, "cf_action": "save", "csrf_token": "x"}).status_code == 400
    number = (today.month - 1) // 3 + 1
    saved = province.post("/reports/definitions", data={**form, "number": str(number), "cf_action": "save"})
    assert saved.status_code == 302
    draft = api_definitions(app)[0]
    assert [f["key"] for f in draft["fields"]] == ["cranes_filed", "remarks"] and draft["status"] == "draft"
    assert _browser(app, "reg_wuhan").post(f"/reports/definitions/{draft['id']}/publish",
                                           data={"csrf_token": token}).status_code in (400, 403)
    published = province.post(f"/reports/definitions/{draft['id']}/publish", data={"csrf_token": token})
    assert published.status_code == 302
    listing = province.get(f"/reports/submissions?definition={draft['id']}").get_data(as_text=True)
    assert listing.count('data-state="not_started"') == len(CITIES)

    wuhan = _browser(app, "reg_wuhan")
    own = wuhan.get("/reports/submissions").get_data(as_text=True)
    assert "武汉市" in own and "宜昌市" not in own and 'data-testid="open-task"' in own
    with Session(world.engine) as s:
        task_id = s.scalar(select(HumanTask.id).where(HumanTask.region_code == "420100",
                                                      HumanTask.task_name == "fill_report"))
    assert wuhan.get(f"/tasks/{task_id}").headers["Location"].endswith(f"/reports/tasks/{task_id}")
    assert f"/tasks/{task_id}" in wuhan.get("/inbox").get_data(as_text=True)
    case_id = submission(world, "420100").instance_id
    assert wuhan.get(f"/cases/{case_id}").status_code == 200 and province.get(f"/cases/{case_id}").status_code == 200
    assert _browser(app, "reg_yichang").get(f"/cases/{case_id}").status_code == 404
    assert _browser(app, "reg_yichang").get(f"/reports/tasks/{task_id}").status_code == 404
    form_page = wuhan.get(f"/reports/tasks/{task_id}").get_data(as_text=True)
    assert 'name="values.cranes_filed" inputmode="numeric" value="0"' in form_page
    token = csrf_from(form_page)
    empty = wuhan.post(f"/reports/tasks/{task_id}", data={"csrf_token": token, "values.cranes_filed": "0"})
    assert empty.status_code == 422 and "“情况说明”为必填项。" in empty.get_data(as_text=True)
    done = wuhan.post(f"/reports/tasks/{task_id}", data={"csrf_token": token, "values.cranes_filed": "0",
                                                         "values.remarks": "无"})
    assert done.status_code == 302
    assert submission(world, "420100").values == {"cranes_filed": 0, "remarks": "无"}


def api_definitions(app):
    from tests.conftest import ApiClient

    return ApiClient(app, "reg_province").get("/api/v1/report-definitions").get_json()["items"]
