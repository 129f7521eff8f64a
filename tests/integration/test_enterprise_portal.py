"""The enterprise portal: the dashboard (returned tasks first, open tasks, cases with step, holder and
due date, drafts) and drafts of task forms kept server-side."""
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from engine.db import HumanTask, TaskDraft
from tests.conftest import DEMO_PASSWORD, csrf_from
from tests.helpers import PNG, filing_data, open_task_id, start_filing, upload

REASON = "请补充产品合格证扫描件"


def _login(client, username):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code == 302


@pytest.fixture
def pages(app, world):
    def logged_in(username):
        client = app.test_client()
        _login(client, username)
        return client
    return logged_in


def _returned_filing(api, serial):
    """A filing of owner_wuhan that reg_wuhan returned with REASON; the id of the correction task."""
    case = start_filing(api("owner_wuhan"), serial=serial)
    r = api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                              json={"data": {"decision": "return", "reason": REASON}})
    assert r.status_code == 200, r.get_data(as_text=True)
    return case["id"], open_task_id(r.get_json())


def _draft_rows(world):
    with Session(world.engine) as s:
        return s.scalar(select(func.count()).select_from(TaskDraft))


def _put_draft(api_client, url, data):
    return api_client.client.put(url, headers=api_client._h(), json={"data": data})


def _delete(api_client, url):
    return api_client.client.delete(url, headers=api_client._h())


# --- dashboard ------------------------------------------------------------------------------------

def test_dashboard_shows_the_returned_task_first_with_reason_step_holder_and_due_date(api, pages, world):
    reviewed = start_filing(api("owner_wuhan"), serial="PORTAL-CLAIMED")
    waiting = start_filing(api("owner_wuhan"), serial="PORTAL-WAITING")
    returned_case, correction = _returned_filing(api, "PORTAL-RETURNED")
    regulator = api("reg_wuhan")
    assert regulator.post(f"/api/v1/tasks/{open_task_id(reviewed)}/claim").status_code == 200

    html = pages("owner_wuhan").get("/cases").get_data(as_text=True)
    returned_at = html.index('data-testid="returned-tasks"')
    assert returned_at < html.index('data-testid="my-cases"')
    assert 'data-testid="open-tasks"' not in html[:returned_at]
    section = html[returned_at:html.index("</section>", returned_at)]
    assert REASON in section and f'href="/tasks/{correction}"' in section

    def row(case_id):
        start = html.index(f'data-case-id="{case_id}"')
        return html[start:html.index("</tr>", start)]

    claimed = row(reviewed["id"])
    assert regulator.user["display_name"] in claimed  # the claiming regulator holds it
    assert "备案审核" in claimed or "审核" in claimed
    due = api("owner_wuhan").get(f"/api/v1/cases/{reviewed['id']}").get_json()["open_tasks"][0]["due_at"]
    assert due[:10] in claimed or re.search(r"\d{4}年\d{1,2}月\d{1,2}日", claimed)
    assert 'data-testid="sla"' in claimed
    assert "武汉市住建局" in row(waiting["id"])  # unclaimed: the office that reviews it
    assert world.user("owner_wuhan").enterprise.name in row(returned_case)  # back with the applicant


def test_dashboard_never_lists_other_enterprises_cases(api, pages, world):
    mine = start_filing(api("owner_wuhan"), serial="PORTAL-MINE")
    theirs = start_filing(api("owner_yichang"), serial="PORTAL-THEIRS")
    wuhan = pages("owner_wuhan").get("/cases").get_data(as_text=True)
    assert mine["business_key"] in wuhan and theirs["business_key"] not in wuhan
    yichang = pages("owner_yichang").get("/cases").get_data(as_text=True)
    assert theirs["business_key"] in yichang and mine["business_key"] not in yichang
    installer = pages("installer_wuhan").get("/cases").get_data(as_text=True)
    assert mine["business_key"] not in installer and theirs["business_key"] not in installer


def test_dashboard_filters_by_status_and_procedure(api, pages, world):
    case = start_filing(api("owner_wuhan"), serial="PORTAL-FILTER")
    client = pages("owner_wuhan")
    assert case["business_key"] in client.get("/cases?status=running&process_key=crane_registration").get_data(
        as_text=True)
    assert case["business_key"] not in client.get("/cases?status=completed").get_data(as_text=True)
    assert case["business_key"] not in client.get("/cases?process_key=record_cancellation").get_data(as_text=True)
    assert client.get("/cases?status=<script>&process_key=nope&page=x").status_code == 200


@contextmanager
def _counting(engine):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_dashboard_query_count_stays_constant_as_cases_grow(api, pages, world):
    client = pages("owner_wuhan")
    _returned_filing(api, "PORTAL-COUNT-0")
    start_filing(api("owner_wuhan"), serial="PORTAL-COUNT-1")
    client.get("/cases")  # warm caches (catalog, definitions)
    with _counting(world.engine) as few:
        assert client.get("/cases").status_code == 200
    for index in range(2, 7):
        start_filing(api("owner_wuhan"), serial=f"PORTAL-COUNT-{index}")
    _returned_filing(api, "PORTAL-COUNT-R2")
    with _counting(world.engine) as many:
        html = client.get("/cases").get_data(as_text=True)
    assert html.count("data-case-id=") == 8
    assert len(many) == len(few), "\n".join(many)


# --- drafts on the task page ----------------------------------------------------------------------

def _start_on_the_page(client):
    page = client.get("/cases").get_data(as_text=True)
    r = client.post("/cases/start/crane_registration", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302 and "/tasks/" in r.location
    return int(r.location.rsplit("/", 1)[1])


def test_draft_is_saved_reopened_after_login_and_deleted_on_submit(app, api, pages, world):
    client = pages("owner_wuhan")
    task_id = _start_on_the_page(client)
    form = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-step="2"' in form and 'data-testid="save-draft"' in form  # steps by field group
    r = client.post(f"/tasks/{task_id}", data={"csrf_token": csrf_from(form), "cf_action": "draft",
                                               "model": "QTZ125", "factory_serial": "DRAFT-001",
                                               "design_life_years": "abc"})
    assert r.status_code == 302 and r.location.endswith(f"/tasks/{task_id}?saved=1")

    again = pages("owner_wuhan")  # a new login session
    reopened = again.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'value="QTZ125"' in reopened and 'value="DRAFT-001"' in reopened
    assert 'data-testid="draft-restored"' in reopened
    dashboard = again.get("/cases").get_data(as_text=True)
    assert f'href="/tasks/{task_id}"' in dashboard[dashboard.index('data-testid="drafts"'):]
    assert "QTZ125" not in pages("owner_yichang").get("/cases").get_data(as_text=True)

    owner = api("owner_wuhan")
    data = filing_data(owner, serial="DRAFT-001", model="QTZ125")
    assert owner.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}).status_code == 200
    assert _draft_rows(world) == 0
    assert 'data-testid="drafts"' not in again.get("/cases").get_data(as_text=True)


def test_submitting_the_form_on_the_page_deletes_the_draft(api, pages, world):
    client = pages("owner_wuhan")
    task_id = _start_on_the_page(client)
    owner = api("owner_wuhan")
    assert _put_draft(owner, f"/api/v1/tasks/{task_id}/draft", {"model": "QTZ40"}).status_code == 200
    data = filing_data(owner, serial="PAGE-SUBMIT-1")
    form = {"csrf_token": csrf_from(client.get(f"/tasks/{task_id}").get_data(as_text=True)),
            **{k: str(v) for k, v in data.items() if k != "documents"},
            **{f"documents.{doc}.keep": [str(i) for i in ids] for doc, ids in data["documents"].items()}}
    r = client.post(f"/tasks/{task_id}", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert _draft_rows(world) == 0


def test_a_start_form_draft_becomes_the_draft_of_the_first_task(api, pages, world):
    owner = api("owner_wuhan")
    url = "/api/v1/processes/crane_registration/draft"
    assert _put_draft(owner, url, {"model": "QTZ63", "factory_serial": "START-1"}).status_code == 200
    assert owner.get(url).get_json()["data"]["model"] == "QTZ63"
    client = pages("owner_wuhan")
    task_id = _start_on_the_page(client)
    assert 'value="QTZ63"' in client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert owner.get(url).status_code == 404  # starting the case used it up


def test_starting_a_case_through_the_api_deletes_the_start_form_draft(api, world):
    owner = api("owner_wuhan")
    url = "/api/v1/processes/crane_registration/draft"
    assert _put_draft(owner, url, {"model": "QTZ63"}).status_code == 200
    start_filing(owner, serial="API-START-1")
    assert owner.get(url).status_code == 404
    assert _draft_rows(world) == 0


# --- drafts API: scope, shape, size ---------------------------------------------------------------

def test_task_draft_api_round_trip_and_scope(api, world):
    _, task_id = _returned_filing(api, "DRAFT-API-1")
    url = f"/api/v1/tasks/{task_id}/draft"
    owner = api("owner_wuhan")
    assert owner.get(url).status_code == 404  # none yet
    photo = upload(owner, PNG, "photo.png")
    saved = _put_draft(owner, url, {"model": "QTZ80", "documents": {"photo": [photo]}})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    body = owner.get(url).get_json()
    assert body["data"] == {"model": "QTZ80", "documents": {"photo": [photo]}} and body["task_id"] == task_id
    for stranger in ("owner_yichang", "installer_wuhan"):
        assert api(stranger).get(url).status_code == 404
        assert _put_draft(api(stranger), url, {"model": "X"}).status_code == 404
    assert api("reg_wuhan").get(url).status_code == 403  # sees the case, keeps no drafts of enterprises
    assert _delete(owner, url).status_code == 204
    assert owner.get(url).status_code == 404


def test_draft_refuses_wrong_shapes_foreign_files_and_oversized_data(api, world):
    _, task_id = _returned_filing(api, "DRAFT-API-2")
    url = f"/api/v1/tasks/{task_id}/draft"
    owner = api("owner_wuhan")
    wrong = _put_draft(owner, url, {"documents": "not-an-object", "colour": "red"})
    assert wrong.status_code == 422
    assert set(wrong.get_json()["errors"]) == {"documents", "colour"}
    foreign = upload(api("owner_yichang"))
    assert _put_draft(owner, url, {"documents": {"photo": [foreign]}}).status_code == 422
    assert owner.client.put(url, headers=owner._h(), json=["not", "an", "object"]).status_code == 422
    # Over the draft limit but within the request allowance: refused by the service (422) …
    assert _put_draft(owner, url, {"model": "x" * (260 * 1024)}).status_code == 422
    # … and a body far over it is refused before it is parsed (413).
    too_big = _put_draft(owner, url, {"model": "x" * (400 * 1024)})
    assert too_big.status_code == 413 and too_big.get_json()["message"]
    assert owner.get(url).status_code == 404  # nothing was stored


def test_draft_of_a_completed_task_is_refused(api, world):
    _, task_id = _returned_filing(api, "DRAFT-DONE-1")
    owner = api("owner_wuhan")
    data = filing_data(owner, serial="DRAFT-DONE-1")
    assert owner.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}).status_code == 200
    with Session(world.engine) as s:
        assert s.get(HumanTask, task_id).status == "completed"
    assert _put_draft(owner, f"/api/v1/tasks/{task_id}/draft", {"model": "X"}).status_code == 409


# --- my cranes and my personnel -------------------------------------------------------------------

def test_crane_list_filters_by_state_type_and_number(api, pages, world):
    from tests.helpers import approved_crane

    filed_id = approved_crane(api, "FILTER-FILED-1")
    pending = start_filing(api("owner_wuhan"), serial="FILTER-PENDING-1")
    record = api("owner_wuhan").get(f"/api/v1/cranes/{filed_id}").get_json()["record_number"]
    client = pages("owner_wuhan")

    def listed(query):
        html = client.get(f"/cranes?{query}").get_data(as_text=True)
        return {int(i) for i in re.findall(r'data-crane-id="(\d+)"', html)}

    assert listed("") == {filed_id, pending["subject"]["id"]}
    assert listed("state=filed") == {filed_id}
    assert listed("state=pending_review") == {pending["subject"]["id"]}
    assert listed("type=tower_crane&q=filter-pending") == {pending["subject"]["id"]}
    assert listed(f"q={record}") == {filed_id}
    assert listed("type=construction_hoist") == set()
    assert listed("state=bogus&type=nope") == {filed_id, pending["subject"]["id"]}  # unknown filters ignored
    assert listed("q=%25_") == set()  # LIKE wildcards are searched for literally
    html = client.get("/cranes").get_data(as_text=True)
    assert f'href="/cranes/{filed_id}"' in html and 'data-testid="crane-state"' in html
    assert pages("owner_yichang").get(f"/cranes?q={record}").get_data(as_text=True).count("data-crane-id") == 0


def test_personnel_list_marks_expired_and_expiring_certificates(pages, world):
    from datetime import timedelta

    from engine.db import Certificate, Person
    from engine.domain.resident_id import check_char
    from forms.fields import today_in_china

    today = today_in_china()
    enterprise_id = world.user("owner_wuhan").enterprise_id
    with Session(world.engine) as s:
        for name, number, days in (("过期人", "鄂A082019000001", -1), ("将到期", "鄂A082019000002", 10),
                                   ("有效人", "鄂A082019000003", 400)):
            first17 = f"11010519800101{abs(days) % 1000:03d}"
            s.add(Person(enterprise_id=enterprise_id, name=name, id_number=first17 + check_char(first17),
                         certificates=[Certificate(kind="special_operation", category="08", number=number,
                                                   issuer="湖北省住房和城乡建设厅",
                                                   valid_until=today + timedelta(days=days))]))
        s.commit()
    client = pages("owner_wuhan")
    html = client.get("/personnel").get_data(as_text=True)
    assert html.count('data-testid="cert-expired"') == 1 and html.count('data-testid="cert-expiring"') == 1
    assert html.count('data-testid="cert-valid"') == 1
    expired = client.get("/personnel?validity=expired").get_data(as_text=True)
    assert "过期人" in expired and "将到期" not in expired and "有效人" not in expired
    expiring = client.get("/personnel?validity=expiring").get_data(as_text=True)
    assert "将到期" in expiring and "过期人" not in expiring
    assert "有效人" in client.get("/personnel?q=鄂A082019000003").get_data(as_text=True)
    assert "有效人" not in client.get("/personnel?q=过期").get_data(as_text=True)
    assert "过期人" not in pages("owner_yichang").get("/personnel").get_data(as_text=True)
