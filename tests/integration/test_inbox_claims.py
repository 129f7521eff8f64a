"""The regulator's inbox: filters, search, due-date order, SLA badges, and claiming tasks."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.db import AuditEvent
from engine.domain.workdays import WorkdayCalendar
from engine.services.inbox import task_sla
from engine.services.settings import CHINA_TZ
from forms import t
from tests.conftest import DEMO_PASSWORD, csrf_from
from tests.helpers import open_task_id, start_filing

COLLEAGUE = "reg_wuhan2"


@pytest.fixture
def colleague(world):
    """The second regulator of the Wuhan city office."""
    return world.user(COLLEAGUE).id


@pytest.fixture
def filing(api):
    case = start_filing(api("owner_wuhan"), serial="INBOX-1")
    return {"case": case, "task": open_task_id(case)}


def _set_task(world, task_id, **values):
    with world.engine.begin() as conn:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        conn.execute(text(f"UPDATE human_task SET {sets} WHERE id = :id"), {**values, "id": task_id})


def _ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def _events(world, action):
    with Session(world.engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- filters, search and order ------------------------------------------------------------------

def test_filters_by_procedure_region_and_overdue(api, filing):
    reg = api("reg_wuhan")
    task = filing["task"]
    assert _ids(reg.get("/api/v1/tasks?process_key=crane_registration")) == [task]
    assert _ids(reg.get("/api/v1/tasks?process_key=installation_notice")) == []
    assert _ids(reg.get("/api/v1/tasks?region=420106")) == [task]  # 武昌区, the applicant's county
    assert _ids(reg.get("/api/v1/tasks?region=420100")) == [task]
    assert _ids(reg.get("/api/v1/tasks?region=420102")) == []  # 江岸区
    assert _ids(reg.get("/api/v1/tasks?overdue=true")) == []
    assert _ids(api("reg_province").get("/api/v1/tasks?region=420100")) == [task]


def test_overdue_filter_and_badge(api, world, browser, filing):
    reg = api("reg_wuhan")
    _set_task(world, filing["task"], due_at=datetime.now(timezone.utc) - timedelta(days=3))
    assert _ids(reg.get("/api/v1/tasks?overdue=1")) == [filing["task"]]
    item = reg.get("/api/v1/tasks").get_json()["items"][0]
    assert item["sla"]["state"] == "overdue" and item["sla"]["workdays_left"] < 0
    html = browser("reg_wuhan").get("/inbox?overdue=1").get_data(as_text=True)
    assert f'data-task-id="{filing["task"]}"' in html and "已逾期" in html


@pytest.fixture
def browser(app, world):
    """A logged-in browser session (cookie + CSRF token) for the HTML pages."""
    def login(username):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                        "csrf_token": csrf_from(page)})
        assert r.status_code in (302, 303), r.get_data(as_text=True)
        return client
    return login


def test_region_outside_jurisdiction_is_422_naming_the_field(api, filing):
    r = api("reg_wuhan").get("/api/v1/tasks?region=420500")  # 宜昌市
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"region": [t("region_outside_jurisdiction", "zh_CN")]}
    r = api("reg_wuhan").get("/api/v1/tasks?region=420500&lang=en")
    assert r.get_json()["errors"] == {"region": [t("region_outside_jurisdiction", "en")]}


@pytest.mark.parametrize(("query", "field"), [
    ("region=999999", "region"), ("region=4201", "region"), ("overdue=perhaps", "overdue"),
    ("claimed=others", "claimed"), ("sort=title", "sort"), ("q=x", "q"), ("q=" + "长" * 65, "q"),
    ("per_page=500", "per_page"), ("page=0", "page"), ("colour=red", "colour")])
def test_every_query_parameter_is_validated(api, world, query, field):
    r = api("reg_wuhan").get(f"/api/v1/tasks?{query}&lang=en")
    assert r.status_code == 422, r.get_data(as_text=True)
    errors = r.get_json()["errors"]
    assert list(errors) == [field] and errors[field][0]
    assert all(ord(c) < 0x3000 for c in errors[field][0])  # English, as asked


def test_search_covers_business_key_record_number_title_enterprise_and_uscc(api, world, filing):
    reg = api("reg_wuhan")
    case, task = filing["case"], filing["task"]
    owner = api("owner_wuhan").get("/api/v1/me").get_json()
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE crane SET record_number = :n WHERE id = :id"),
                     {"n": "鄂A-T202699999", "id": case["subject"]["id"]})
    for q in (case["business_key"], case["business_key"][:8], "鄂A-T2026999", owner["enterprise_name"][2:6],
              owner["enterprise_uscc"], owner["enterprise_uscc"].lower()[:10]):
        assert _ids(reg.get("/api/v1/tasks", query_string={"q": q})) == [task], q
    for q in ("不存在的企业", "91000000000000000X", "鄂E-T", "%%", "__"):
        assert _ids(reg.get("/api/v1/tasks", query_string={"q": q})) == [], q
    # The case title as the inbox row holds it.
    _set_task(world, task, case_title="建筑起重机械产权备案（光谷科技园四期）")
    assert _ids(reg.get("/api/v1/tasks", query_string={"q": "光谷科技园"})) == [task]


def test_sorted_by_due_date_ascending_by_default_and_descending_on_request(api, world):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    tasks = [open_task_id(start_filing(owner, serial=f"SORT-{i}")) for i in range(3)]
    now = datetime.now(timezone.utc)
    for offset, task in zip((5, 1, 3), tasks):
        _set_task(world, task, due_at=now + timedelta(days=offset))
    expected = [tasks[1], tasks[2], tasks[0]]
    assert _ids(reg.get("/api/v1/tasks")) == expected
    assert _ids(reg.get("/api/v1/tasks?sort=due_asc")) == expected
    assert _ids(reg.get("/api/v1/tasks?sort=due_desc")) == expected[::-1]


# --- SLA in working days ------------------------------------------------------------------------

def _due(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CHINA_TZ)


def test_sla_counts_working_days_of_the_calendar():
    # 2026-10-01..07 National Day holidays; 2026-10-10 (Saturday) a make-up working day.
    calendar = WorkdayCalendar(holidays={date(2026, 10, d) for d in range(1, 8)},
                               makeup_workdays={date(2026, 10, 10)}, years={2026})
    now = datetime(2026, 9, 30, 10, 0, tzinfo=CHINA_TZ)
    assert task_sla(_due(date(2026, 9, 30)), now, calendar).state == "due_soon"  # due today
    assert task_sla(_due(date(2026, 10, 8)), now, calendar).state == "due_soon"  # next working day
    on_track = task_sla(_due(date(2026, 10, 10)), now, calendar)
    assert (on_track.state, on_track.workdays_left) == ("on_track", 3)  # 8th, 9th, 10th
    late = task_sla(_due(date(2026, 9, 29)), now, calendar)
    assert late.state == "overdue" and late.workdays_left < 0
    assert task_sla(None, now, calendar) is None


def test_inbox_page_shows_sla_badges(api, world, browser):
    owner = api("owner_wuhan")
    tasks = [open_task_id(start_filing(owner, serial=f"SLA-{i}")) for i in range(3)]
    now = datetime.now(timezone.utc)
    _set_task(world, tasks[0], due_at=now - timedelta(days=2))
    _set_task(world, tasks[1], due_at=now + timedelta(hours=1))
    _set_task(world, tasks[2], due_at=now + timedelta(days=30))
    html = browser("reg_wuhan").get("/inbox").get_data(as_text=True)
    assert "已逾期" in html and "即将到期" in html and "个工作日" in html
    en = browser("reg_wuhan").get("/inbox?lang=en").get_data(as_text=True)
    assert "Overdue" in en and "Due soon" in en and "working days left" in en


# --- claim, unclaim, reassign -------------------------------------------------------------------

def test_claim_blocks_others_and_unclaim_releases(api, world, colleague, filing):
    task = filing["task"]
    reg, other = api("reg_wuhan"), api(COLLEAGUE)
    r = reg.post(f"/api/v1/tasks/{task}/claim")
    assert r.status_code == 200 and r.get_json()["claimed_by_id"] == reg.user["id"]
    assert r.get_json()["claimed_by"] == reg.user["display_name"] and r.get_json()["claimed_at"]
    assert reg.post(f"/api/v1/tasks/{task}/claim").status_code == 200  # again: no change
    # Someone else cannot claim it (409) nor complete it (403 naming the holder).
    r = other.post(f"/api/v1/tasks/{task}/claim")
    assert r.status_code == 409 and reg.user["display_name"] in r.get_json()["message"]
    r = other.post(f"/api/v1/tasks/{task}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 403
    assert r.get_json()["message"] == t("task_claimed_by", "zh_CN", name=reg.user["display_name"])
    r = other.post(f"/api/v1/tasks/{task}/complete?lang=en", json={"data": {"decision": "approve"}})
    assert r.get_json()["message"] == t("task_claimed_by", "en", name=reg.user["display_name"])
    assert other.post(f"/api/v1/tasks/{task}/unclaim").status_code == 403  # only the holder releases
    # Filters: claimed by me / unclaimed, per user.
    assert _ids(reg.get("/api/v1/tasks?claimed=me")) == [task]
    assert _ids(other.get("/api/v1/tasks?claimed=me")) == []
    assert _ids(other.get("/api/v1/tasks?claimed=unclaimed")) == []
    assert _ids(other.get("/api/v1/tasks")) == [task]  # still visible, with its holder
    r = reg.post(f"/api/v1/tasks/{task}/unclaim")
    assert r.status_code == 200 and r.get_json()["claimed_by_id"] is None
    assert reg.post(f"/api/v1/tasks/{task}/unclaim").status_code == 409  # nobody holds it
    assert _ids(other.get("/api/v1/tasks?claimed=unclaimed")) == [task]
    r = other.post(f"/api/v1/tasks/{task}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [e.action for e in _events(world, "claim")] == ["claim"]
    assert [e.action for e in _events(world, "unclaim")] == ["unclaim"]


def test_holder_completes_a_claimed_task(api, world, filing):
    reg = api("reg_wuhan")
    assert reg.post(f"/api/v1/tasks/{filing['task']}/claim").status_code == 200
    r = reg.post(f"/api/v1/tasks/{filing['task']}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert reg.post(f"/api/v1/tasks/{filing['task']}/unclaim").status_code == 409  # no longer open


@pytest.mark.parametrize("username", ["owner_wuhan", "contractor_wuhan"])
def test_enterprises_cannot_claim(api, world, filing, username):
    r = api(username).post(f"/api/v1/tasks/{filing['task']}/claim")
    assert r.status_code == 403 and r.get_json()["message"] == t("task_claim_regulators_only", "zh_CN")


def test_enterprise_cannot_claim_its_own_correction_task(api, world, filing):
    reg, owner = api("reg_wuhan"), api("owner_wuhan")
    case = reg.post(f"/api/v1/tasks/{filing['task']}/complete",
                    json={"data": {"decision": "return", "reason": "请补充合格证"}}).get_json()
    correction = open_task_id(case)
    assert owner.post(f"/api/v1/tasks/{correction}/claim").status_code == 403
    assert reg.post(f"/api/v1/tasks/{correction}/claim").status_code == 403  # not a regulator's task


def test_regulator_outside_the_region_cannot_claim(api, world, filing):
    assert api("reg_yichang").post(f"/api/v1/tasks/{filing['task']}/claim").status_code == 403
    assert api("reg_wuhan").post("/api/v1/tasks/999999/claim").status_code == 404


def test_reassign_to_a_colleague_with_reason(api, world, colleague, filing):
    task = filing["task"]
    reg, other = api("reg_wuhan"), api(COLLEAGUE)
    assert reg.post(f"/api/v1/tasks/{task}/claim").status_code == 200
    url = f"/api/v1/tasks/{task}/reassign"
    r = reg.post(url, json={"user_id": colleague})
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["reason"]
    for target in (world.users["reg_yichang"], world.users["reg_province"], world.users["owner_wuhan"], 999999):
        r = reg.post(url, json={"user_id": target, "reason": "出差"})
        assert r.status_code == 422, target
        assert r.get_json()["errors"] == {"user_id": [t("reassign_target_ineligible", "zh_CN")]}
    r = reg.post(url, json={"user_id": colleague, "reason": "出差，由李强办理"})
    assert r.status_code == 200 and r.get_json()["claimed_by_id"] == colleague
    # The previous holder may no longer complete, reassign back or release it.
    assert reg.post(f"/api/v1/tasks/{task}/complete", json={"data": {"decision": "approve"}}).status_code == 403
    assert reg.post(url, json={"user_id": world.users["reg_wuhan"], "reason": "收回"}).status_code == 409
    assert reg.post(f"/api/v1/tasks/{task}/unclaim").status_code == 403
    (event,) = _events(world, "reassign")
    assert event.actor_id == world.users["reg_wuhan"]
    assert event.detail["to_user_id"] == colleague and event.detail["reason"] == "出差，由李强办理"
    assert event.detail["from_user_id"] == world.users["reg_wuhan"]
    history = api("owner_wuhan").get(f"/api/v1/cases/{filing['case']['id']}").get_json()["history"]
    assert [e["action"] for e in history][-2:] == ["claim", "reassign"]
    r = other.post(f"/api/v1/tasks/{task}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)


def test_higher_level_office_may_reassign_a_claimed_task(api, world, colleague, filing):
    task = filing["task"]
    assert api(COLLEAGUE).post(f"/api/v1/tasks/{task}/claim").status_code == 200
    province = api("reg_province")
    # Only colleagues of the province office itself are eligible, here the province regulator itself.
    r = province.post(f"/api/v1/tasks/{task}/reassign",
                      json={"user_id": world.users["reg_province"], "reason": "省厅督办"})
    assert r.status_code == 200 and r.get_json()["claimed_by_id"] == world.users["reg_province"]
    # A city colleague cannot take it over from the province.
    r = api("reg_wuhan").post(f"/api/v1/tasks/{task}/reassign", json={"user_id": colleague, "reason": "x"})
    assert r.status_code == 409


# --- pages --------------------------------------------------------------------------------------

def test_page_filters_and_validation(api, world, browser, filing):
    client = browser("reg_wuhan")
    html = client.get("/inbox?region=420106&q=" + filing["case"]["business_key"]).get_data(as_text=True)
    assert f'data-task-id="{filing["task"]}"' in html
    r = client.get("/inbox?region=420500")
    assert r.status_code == 422
    assert t("region_outside_jurisdiction", "zh_CN") in r.get_data(as_text=True)
    r = client.get("/inbox?region=420500&lang=en")
    assert t("region_outside_jurisdiction", "en") in r.get_data(as_text=True)
    html = client.get("/inbox?claimed=me").get_data(as_text=True)
    assert f'data-task-id="{filing["task"]}"' not in html


def test_page_claim_unclaim_and_reassign(api, world, browser, colleague, filing):
    task = filing["task"]
    client = browser("reg_wuhan")
    html = client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="claim"' in html
    r = client.post(f"/tasks/{task}/claim", data={"csrf_token": csrf_from(html), "next": "/inbox"})
    assert r.status_code in (302, 303) and r.headers["Location"].endswith("/inbox")
    html = client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="unclaim"' in html and "陈静" in html
    # Another regulator sees the holder and no form to submit.
    other = browser(COLLEAGUE)
    page = other.get(f"/tasks/{task}").get_data(as_text=True)
    assert "陈静" in page and 'data-testid="submit-task"' not in page
    r = other.post(f"/tasks/{task}/claim", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 409
    # Without the CSRF token nothing happens.
    assert client.post(f"/tasks/{task}/unclaim").status_code == 400
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'data-testid="submit-task"' in page and 'data-testid="unclaim"' in page
    form = client.get(f"/tasks/{task}/reassign").get_data(as_text=True)
    assert f'<option value="{colleague}"' in form and f'value="{world.users["reg_wuhan"]}"' in form
    assert f'value="{world.users["reg_province"]}"' not in form
    r = client.post(f"/tasks/{task}/reassign", data={"csrf_token": csrf_from(form), "user_id": str(colleague),
                                                     "reason": ""})
    assert r.status_code == 422 and t("length_between", "zh_CN", min=1, max=500) in r.get_data(as_text=True)
    r = client.post(f"/tasks/{task}/reassign", data={"csrf_token": csrf_from(form), "user_id": str(colleague),
                                                     "reason": "休假"})
    assert r.status_code in (302, 303)
    page = other.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'data-testid="submit-task"' in page
    r = client.post(f"/tasks/{task}/unclaim", data={"csrf_token": csrf_from(form)})
    assert r.status_code == 403


def test_enterprise_inbox_page_has_no_claim_buttons(api, world, browser, filing):
    reg = api("reg_wuhan")
    reg.post(f"/api/v1/tasks/{filing['task']}/complete", json={"data": {"decision": "return", "reason": "补正"}})
    html = browser("owner_wuhan").get("/inbox").get_data(as_text=True)
    assert 'data-testid="inbox"' in html and 'data-testid="claim"' not in html
