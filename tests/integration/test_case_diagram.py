"""The case diagram: the deployed model of the case's definition version, the elements the case
has passed and those it waits at, for those who may see the case; and the case page's panel."""
from tests.conftest import DEMO_PASSWORD, csrf_from
from tests.helpers import open_task_id, start_filing


def _diagram(client, case_id):
    r = client.get(f"/api/v1/cases/{case_id}/diagram")
    return r.status_code, r.get_json()


def test_filing_waiting_for_review(api, world):
    owner = api("owner_wuhan")
    case = start_filing(owner, serial="DIAGRAM-1")
    status, body = _diagram(owner, case["id"])
    assert status == 200
    assert set(body) == {"xml", "completed", "active"}
    assert body["xml"].lstrip().startswith("<?xml") and 'id="review_filing"' in body["xml"]
    assert body["completed"] == sorted(["start", "submit_filing", "merge_submission", "record_submission"])
    # The review and the timer that flags it overdue both wait.
    assert body["active"] == ["review_filing", "review_overdue"]

    status, same = _diagram(api("reg_wuhan"), case["id"])
    assert status == 200 and same == body
    assert _diagram(api("reg_yichang"), case["id"])[0] == 404
    assert _diagram(api("owner_yichang"), case["id"])[0] == 404


def test_returned_then_approved(api, world):
    owner, reg = api("owner_wuhan"), api("reg_wuhan")
    case = start_filing(owner, serial="DIAGRAM-2")
    returned = reg.post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                        json={"data": {"decision": "return", "reason": "铭牌照片不清晰"}}).get_json()
    _, body = _diagram(owner, case["id"])
    assert body["active"] == ["correct_filing"]
    assert {"review_filing", "review_decision", "mark_returned"} <= set(body["completed"])
    assert "review_overdue" not in body["completed"] + body["active"]  # cancelled with the review

    correction = owner.get(f"/api/v1/tasks/{open_task_id(returned)}").get_json()
    again = owner.post(f"/api/v1/tasks/{correction['id']}/complete", json={"data": correction["data"]})
    assert again.status_code == 200, again.get_data(as_text=True)
    _, body = _diagram(owner, case["id"])
    # Reviewed once already, under review again: shown as the current step only.
    assert body["active"] == ["review_filing", "review_overdue"]
    assert "review_filing" not in body["completed"] and "correct_filing" in body["completed"]

    done = reg.post(f"/api/v1/tasks/{open_task_id(again.get_json())}/complete",
                    json={"data": {"decision": "approve"}})
    assert done.status_code == 200, done.get_data(as_text=True)
    _, body = _diagram(owner, case["id"])
    assert body["active"] == []
    assert {"issue_record_number", "end_filed"} <= set(body["completed"])


def test_unknown_case_and_anonymous(api, client, world):
    assert _diagram(api("admin"), 999999)[0] == 404
    assert client.get("/api/v1/cases/1/diagram").status_code == 401


def test_case_page_panel_loads_local_assets_and_the_session_may_fetch_the_diagram(app, api, world):
    case = start_filing(api("owner_wuhan"), serial="DIAGRAM-3")
    browser = app.test_client()
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    assert browser.post("/login", data={"username": "owner_wuhan", "password": DEMO_PASSWORD,
                                        "csrf_token": token}).status_code == 302
    page = browser.get(f"/cases/{case['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-url="/api/v1/cases/{case["id"]}/diagram"' in html
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in html
    assert "/static/case-diagram.js" in html
    assert "已完成" in html and "当前环节" in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    # The page's script fetches with the session cookie, no bearer token.
    r = browser.get(f"/api/v1/cases/{case['id']}/diagram")
    assert r.status_code == 200 and r.get_json()["active"] == ["review_filing", "review_overdue"]
