"""Who may call which API endpoint: authentication (401), role (403) and scope (404), per demo user.

The fixture case is a Wuhan crane filing by owner_wuhan (region 420106), waiting for review by a
city (武汉 420100) or province (湖北 420000) regulator.
"""
import io

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from engine.domain.uscc import uscc_check_char
from forms import t
from tests.conftest import DEMO_PASSWORD
from tests.helpers import PDF, filing_data, open_task_id, start_filing, upload, wuhan_project

USERS = ("admin", "owner_wuhan", "installer_wuhan", "contractor_wuhan", "owner_yichang", "supervisor_wuhan",
         "inspector_wuhan",
         "reg_wuhan", "reg_yichang", "reg_province")
SEES_WUHAN_CASE = {"admin", "owner_wuhan", "reg_wuhan", "reg_province"}
REVIEWS_WUHAN_CASE = {"reg_wuhan", "reg_province"}
OWNERS = {"owner_wuhan", "owner_yichang"}
ENTERPRISES = {"owner_wuhan", "installer_wuhan", "contractor_wuhan", "owner_yichang", "supervisor_wuhan",
               "inspector_wuhan"}
# The fixture project: a Wuhan (420106) site of contractor_wuhan supervised by supervisor_wuhan.
SEES_WUHAN_PROJECT = {"admin", "contractor_wuhan", "supervisor_wuhan", "reg_wuhan", "reg_province"}
MARKS_WUHAN_PROJECT = {"reg_wuhan", "reg_province"}


def _only(allowed, yes, no):
    return {user: (yes if user in allowed else no) for user in USERS}


# Expected status of each OpenAPI operation for each demo user (against the Wuhan filing).
MATRIX = {
    "POST /api/v1/session": _only(USERS, 201, None),
    "POST /api/v1/enterprises": _only(USERS, 201, None),  # public sign-up; a fresh code per call
    "GET /api/v1/me": _only(USERS, 200, None),
    "GET /api/v1/processes": _only(USERS, 200, None),
    "GET /api/v1/cases": _only(USERS, 200, None),
    "POST /api/v1/cases": _only(OWNERS, 201, 403),
    "GET /api/v1/cases/{id}": _only(SEES_WUHAN_CASE, 200, 404),
    "GET /api/v1/cases/{id}/diagram": _only(SEES_WUHAN_CASE, 200, 404),
    "GET /api/v1/tasks": _only(USERS, 200, None),
    "GET /api/v1/tasks/{id}": _only(SEES_WUHAN_CASE, 200, 404),
    # Completion by anyone who cannot act is 403, whether or not the case is visible to them.
    "POST /api/v1/tasks/{id}/complete": _only(REVIEWS_WUHAN_CASE, 200, 403),
    # Claims are for the regulators who may act on the task; the others are refused (403).
    "POST /api/v1/tasks/{id}/claim": _only(REVIEWS_WUHAN_CASE, 200, 403),
    "POST /api/v1/tasks/{id}/unclaim": _only(REVIEWS_WUHAN_CASE, 200, 403),  # after claiming it
    "POST /api/v1/tasks/{id}/reassign": _only(REVIEWS_WUHAN_CASE, 200, 403),  # to themselves
    "POST /api/v1/attachments": _only(USERS, 201, None),
    "GET /api/v1/attachments/{id}": _only(SEES_WUHAN_CASE, 200, 404),
    "GET /api/v1/cranes": _only(USERS, 200, None),
    "GET /api/v1/cranes/{id}": _only(SEES_WUHAN_CASE, 200, 404),
    "GET /api/v1/cranes/{id}/archive": _only(SEES_WUHAN_CASE, 200, 404),
    "GET /api/v1/cranes/{id}/archive.zip": _only(SEES_WUHAN_CASE, 200, 404),
    # The fixture crane is not filed yet, so it has no certificate for anyone (404); who may download
    # a filed crane's certificate is tested in tests/integration/test_certificates.py.
    "GET /api/v1/cranes/{id}/certificates/{kind}": _only(USERS, 404, 404),
    "GET /api/v1/cranes/{id}/operations": _only(SEES_WUHAN_CASE, 200, 404),
    # Only the owner keeps records of its crane, and not before the filing is approved (422).
    "POST /api/v1/cranes/{id}/operations": {user: 422 if user == "owner_wuhan" else 403 if user in SEES_WUHAN_CASE
                                            else 404 for user in USERS},
    "GET /api/v1/personnel": _only(USERS, 200, None),
    "POST /api/v1/personnel": _only(ENTERPRISES, 201, 403),
    "GET /api/v1/personnel/{id}": _only(SEES_WUHAN_CASE, 200, 404),  # a person of owner_wuhan
    "GET /api/v1/projects": _only(USERS, 200, None),
    "GET /api/v1/projects/{id}": _only(SEES_WUHAN_PROJECT, 200, 404),
    # Those who see the project but are not its authority are refused (403); the others never see it.
    "POST /api/v1/projects/{id}/status": {user: 200 if user in MARKS_WUHAN_PROJECT else
                                          403 if user in SEES_WUHAN_PROJECT else 404 for user in USERS},
    # Account administration: every demo enterprise's first account administers its own users; the
    # fixture account is a user of owner_wuhan, not found (404) for the other enterprise admins.
    # The plain regulators and the system administrator manage no accounts (403).
    "GET /api/v1/accounts": _only(ENTERPRISES, 200, 403),
    "POST /api/v1/accounts": _only(ENTERPRISES, 201, 403),
    **{op: {user: 200 if user == "owner_wuhan" else 404 if user in ENTERPRISES else 403 for user in USERS}
       for op in ("GET /api/v1/accounts/{id}", "POST /api/v1/accounts/{id}/disable",
                  "POST /api/v1/accounts/{id}/enable", "POST /api/v1/accounts/{id}/unlock",
                  "POST /api/v1/accounts/{id}/reset-password")},
    "POST /api/v1/me/password": _only(USERS, 200, None),
    # Drafts are kept by the enterprise acting on a task: the Wuhan review task is a regulator's, so
    # those who see it are refused (403) and the others never see it (404).
    "GET /api/v1/tasks/{id}/draft": _only(SEES_WUHAN_CASE, 403, 404),
    "PUT /api/v1/tasks/{id}/draft": _only(SEES_WUHAN_CASE, 403, 404),
    "DELETE /api/v1/tasks/{id}/draft": _only(SEES_WUHAN_CASE, 403, 404),
    # Start-form drafts: for enterprises that may start the procedure (crane filing: the owners).
    "GET /api/v1/processes/{key}/draft": _only(OWNERS, 200, 403),  # after saving one
    "PUT /api/v1/processes/{key}/draft": _only(OWNERS, 200, 403),
    "DELETE /api/v1/processes/{key}/draft": _only(OWNERS, 204, 403),
    # The process studio is for the system administrator only.
    "GET /api/v1/studio/processes": _only({"admin"}, 200, 403),
    "GET /api/v1/studio/processes/{key}": _only({"admin"}, 200, 403),
    "GET /api/v1/studio/processes/{key}/versions/{version}/bpmn": _only({"admin"}, 200, 403),
    "POST /api/v1/studio/processes/{key}/validate": _only({"admin"}, 200, 403),
    "POST /api/v1/studio/processes/{key}/deploy": _only({"admin"}, 201, 403),  # an edited model
    "GET /api/v1/studio/processes/{key}/diff": _only({"admin"}, 200, 403),  # v1 → v2
    "GET /api/v1/studio/processes/{key}/migration": _only({"admin"}, 200, 403),
    "POST /api/v1/studio/processes/{key}/migration": _only({"admin"}, 200, 403),  # the Wuhan filing to v2
    # Operations are for the system administrator only (the fixture's failed job and dead message).
    "GET /api/v1/ops/overview": _only({"admin"}, 200, 403),
    "GET /api/v1/ops/jobs": _only({"admin"}, 200, 403),
    "POST /api/v1/ops/jobs/{id}/retry": _only({"admin"}, 200, 403),
    "GET /api/v1/ops/incidents": _only({"admin"}, 200, 403),
    "GET /api/v1/ops/messages": _only({"admin"}, 200, 403),
    "POST /api/v1/ops/messages/{id}/resend": _only({"admin"}, 200, 403),
    "GET /api/v1/ops/audit-verification": _only({"admin"}, 200, 403),
    "POST /api/v1/ops/audit-verification": _only({"admin"}, 202, 403),
    # Notifications: everyone reads their own; the fixture's is reg_wuhan's (the Wuhan review task).
    "GET /api/v1/notifications": _only(USERS, 200, None),
    "POST /api/v1/notifications/{id}/read": _only({"reg_wuhan"}, 200, 404),
    "POST /api/v1/notifications/read-all": _only(USERS, 200, None),
    # The data exchange is for the regulators (scoped to their jurisdiction), not for enterprises.
    "GET /api/v1/exchange/changes": _only({"reg_wuhan", "reg_yichang", "reg_province"}, 200, 403),
    # Statistics are for the regulators (each within its jurisdiction), not for enterprises or the admin.
    "GET /api/v1/statistics/{section}": _only({"reg_wuhan", "reg_yichang", "reg_province"}, 200, 403),
    # Periodic reports: the province defines and publishes (a draft it just saved); every regulator
    # follows those of its jurisdiction; enterprises and the system administrator are refused.
    "GET /api/v1/report-definitions": _only({"reg_wuhan", "reg_yichang", "reg_province"}, 200, 403),
    "POST /api/v1/report-definitions": _only({"reg_province"}, 201, 403),
    "POST /api/v1/report-definitions/{id}/publish": _only({"reg_province"}, 200, 403),
    "POST /api/v1/report-definitions/{id}/close": _only({"reg_province"}, 200, 403),
    "GET /api/v1/report-submissions": _only({"reg_wuhan", "reg_yichang", "reg_province"}, 200, 403),
    # The usage report is for regulators (each of its own region by default), not for enterprises.
    "GET /api/v1/reports/usage": _only({"reg_wuhan", "reg_yichang", "reg_province"}, 200, 403),
}
PUBLIC = {"POST /api/v1/session", "POST /api/v1/enterprises"}


@pytest.fixture
def wuhan_filing(api, world):
    """A submitted Wuhan filing: ids of the case, its review task, the crane and one document; and
    a Wuhan project."""
    project_id = wuhan_project(world, "4201062026-0100", "光谷科技园四期")
    owner = api("owner_wuhan")
    case = start_filing(owner, serial="AUTH-WH-1")
    crane = owner.get(f"/api/v1/cranes/{case['subject']['id']}").get_json()
    person = owner.post("/api/v1/personnel", json={"name": "王五", "id_number": "11010519491231002X"})
    assert person.status_code == 201, person.get_data(as_text=True)
    account = owner.post("/api/v1/accounts", json={"username": "owner_wuhan_clerk", "display_name": "职员"})
    assert account.status_code == 201, account.get_data(as_text=True)
    return {"case": case["id"], "task": open_task_id(case), "crane": case["subject"]["id"],
            "attachment": crane["documents"][0]["attachment_id"], "person": person.get_json()["id"],
            "project": project_id, "account": account.get_json()["id"], **_ops_failures(world.engine, case["id"]),
            "notification": api("reg_wuhan").get("/api/v1/notifications").get_json()["items"][0]["id"],
            "report_definition": 0}  # the publish call saves the draft it publishes


def _ops_failures(engine, case_id):
    """A failed due job of the case and a dead outbox message, for the operations endpoints."""
    from sqlalchemy.orm import Session

    from engine.db import DueJob, OutboxMessage, utcnow

    with Session(engine) as s:
        job = DueJob(kind="timer", key=f"timer:{case_id}:matrix", instance_id=case_id, due_at=utcnow(),
                     status="failed", attempts=1, last_error="RuntimeError: matrix")
        message = OutboxMessage(topic="matrix", key="matrix:1", status="dead", attempts=1, last_error="refused")
        s.add_all([job, message])
        s.commit()
        return {"job": job.id, "message": message.id}


def _url(operation, ids):
    method, path = operation.split(" ")
    for marker, key in (("/cases/{id}", "case"), ("/tasks/{id}", "task"), ("/cranes/{id}", "crane"),
                        ("/attachments/{id}", "attachment"), ("/personnel/{id}", "person"),
                        ("/projects/{id}", "project"), ("/accounts/{id}", "account"),
                        ("/ops/jobs/{id}", "job"), ("/ops/messages/{id}", "message"),
                        ("/notifications/{id}", "notification"), ("/report-definitions/{id}", "report_definition")):
        path = path.replace(marker, marker.replace("{id}", str(ids[key])))
    return method, path.replace("{key}", "crane_registration").replace("{version}", "1").replace("{kind}", "filing") \
        .replace("{section}", "cranes")


def _studio_call(user, operation, url, ids):
    from workflows.catalog import get_entry

    model = get_entry("crane_registration").path.read_text(encoding="utf-8")
    edited = model.replace('name="补正备案申请"', 'name="补正备案材料"')
    if operation.endswith(("/validate", "/deploy")):
        return user.post(url, data=(edited if operation.endswith("/deploy") else model).encode(),
                         content_type="application/xml")
    if user.user["kind"] == "admin":  # the diff and the migration need a second version
        user.post(url.split("/diff")[0].split("/migration")[0] + "/deploy", data=edited.encode(),
                  content_type="application/xml")
    if operation.startswith("POST"):
        return user.post(url, json={"from_version": 1, "to_version": 2, "case_ids": [ids["case"]]})
    return user.get(url + ("?from=1&to=2" if operation.endswith(("/diff", "/migration")) else ""), buffered=True)


def _draft_call(user, operation, url):
    """Draft operations (ApiClient has no PUT or DELETE of its own); a start-form draft is saved
    before it is read."""
    def send(method, **kw):
        return user.client.open(url, method=method, headers=user._h(), **kw)
    if operation.startswith("GET") and "/processes/" in operation:
        send("PUT", json={"data": {"model": "QTZ80"}})
    if operation.startswith("PUT"):
        return send("PUT", json={"data": {"model": "QTZ80"}})
    return send(operation.split(" ")[0])


def _report_definition_call(api, user, operation, url):
    """Save a report definition, publish a draft the province saved just before, or close one it published."""
    body = {"title": "月报", "period_type": "month", "year": 2026, "number": 10, "deadline_on": "2026-11-10",
            "fields": [{"key": "remarks", "label_zh": "情况说明", "type": "text"}]}
    if operation.endswith("/publish"):
        draft = api("reg_province").post("/api/v1/report-definitions", json=body).get_json()
        return user.post(f"/api/v1/report-definitions/{draft['id']}/publish")
    if operation.endswith("/close"):
        published = api("reg_province").post("/api/v1/report-definitions", json={**body, "publish": True}).get_json()
        return user.post(f"/api/v1/report-definitions/{published['id']}/close")
    return user.post(url, json=body)


def _call(app, api, operation, username, ids):
    method, url = _url(operation, ids)
    if operation == "POST /api/v1/session":
        return app.test_client().post(url, json={"username": username, "password": DEMO_PASSWORD})
    if operation == "POST /api/v1/enterprises":
        first17 = f"91420106MA4T{USERS.index(username):05d}"
        return app.test_client().post(url, json={
            "enterprise_name": f"新注册企业{username}", "uscc": first17 + uscc_check_char(first17),
            "region_code": "420106", "username": f"signup_{username}", "display_name": "新用户",
            "password": "Secure-pass-2026"})
    user = api(username)
    if "/studio/" in operation:
        return _studio_call(user, operation, url, ids)
    if operation == "POST /api/v1/cases":
        return user.post(url, json={"process_key": "crane_registration",
                                    "data": filing_data(user, serial=f"MATRIX-{username}")})
    if operation.endswith("/draft"):
        return _draft_call(user, operation, url)
    if operation == "POST /api/v1/tasks/{id}/complete":
        return user.post(url, json={"data": {"decision": "approve"}})
    if operation == "POST /api/v1/tasks/{id}/claim":
        return user.post(url)
    if operation == "POST /api/v1/tasks/{id}/unclaim":
        user.post(url.replace("/unclaim", "/claim"))
        return user.post(url)
    if operation == "POST /api/v1/tasks/{id}/reassign":
        return user.post(url, json={"user_id": user.user["id"], "reason": "本人办理"})
    if operation == "POST /api/v1/personnel":
        return user.post(url, json={"name": "赵六", "id_number": "440524188001010014"})
    if operation == "POST /api/v1/cranes/{id}/operations":
        return user.post(url, json={"kind": "maintenance", "performed_on": "2026-01-05", "person_in_charge": "黄河",
                                    "summary": "例行保养"})
    if operation == "POST /api/v1/projects/{id}/status":
        return user.post(url, json={"status": "completed", "reason": "竣工验收"})
    if operation == "POST /api/v1/accounts":
        return user.post(url, json={"username": f"{username}_new_user", "display_name": "新职员"})
    if operation.startswith(("POST /api/v1/accounts/{id}/", "POST /api/v1/ops/", "POST /api/v1/notifications")):
        return user.post(url)
    if operation == "POST /api/v1/me/password":
        return user.post(url, json={"current_password": DEMO_PASSWORD, "new_password": "Changed-pass-2027"})
    if operation.startswith("POST /api/v1/report-definitions"):
        return _report_definition_call(api, user, operation, url)
    if operation == "POST /api/v1/attachments":
        return user.post(url, data={"file": (io.BytesIO(PDF), "m.pdf")}, content_type="multipart/form-data")
    return user.get(url, buffered=True)  # buffered: a streamed file download is read and closed


def test_matrix_lists_every_operation_of_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    operations = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    assert operations == set(MATRIX)
    public = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m, op in ops.items()
              if op.get("security") == []}
    assert public == PUBLIC


@pytest.mark.parametrize("operation", sorted(set(MATRIX) - PUBLIC))
def test_operation_without_credentials_is_401(client, wuhan_filing, operation):
    method, url = _url(operation, wuhan_filing)
    r = client.open(url, method=method, json={"data": {"decision": "approve"}})
    assert r.status_code == 401, r.get_data(as_text=True)
    assert r.get_json()["error"] == "unauthorized"
    assert r.get_json()["message"]


@pytest.mark.parametrize("url", ["/api/openapi.json", "/api/docs"])
def test_api_documentation_is_public(client, world, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(("operation", "username", "expected"), [
    (op, user, expected[user]) for op, expected in MATRIX.items() for user in USERS])
def test_operation_status_for_each_demo_user(app, api, wuhan_filing, operation, username, expected):
    r = _call(app, api, operation, username, wuhan_filing)
    assert r.status_code == expected, r.get_data(as_text=True)
    if expected == 403:
        assert r.get_json()["error"] == "not_permitted" and r.get_json()["message"]
    if expected == 404:
        assert r.get_json()["error"] == "not_found"


@pytest.mark.parametrize("username", sorted(set(USERS) - REVIEWS_WUHAN_CASE))
def test_refused_completion_leaves_the_review_task_open(api, wuhan_filing, username):
    r = api(username).post(f"/api/v1/tasks/{wuhan_filing['task']}/complete",
                           json={"data": {"decision": "approve"}})
    assert r.status_code == 403
    task = api("reg_wuhan").get(f"/api/v1/tasks/{wuhan_filing['task']}").get_json()
    assert task["status"] == "open" and task["completed_by_id"] is None
    case = api("owner_wuhan").get(f"/api/v1/cases/{wuhan_filing['case']}").get_json()
    assert [e["action"] for e in case["history"]] == ["start", "complete"]


@pytest.mark.parametrize("username", USERS)
def test_lists_show_only_what_the_user_may_see(api, wuhan_filing, username):
    user = api(username)
    expected = 1 if username in SEES_WUHAN_CASE else 0
    cases = user.get("/api/v1/cases").get_json()
    cranes = user.get("/api/v1/cranes").get_json()
    inbox = user.get("/api/v1/tasks").get_json()
    assert cases["total"] == expected and [c["id"] for c in cases["items"]] == [wuhan_filing["case"]] * expected
    assert cranes["total"] == expected and [c["id"] for c in cranes["items"]] == [wuhan_filing["crane"]] * expected
    reviews = 1 if username in REVIEWS_WUHAN_CASE else 0
    assert [tk["id"] for tk in inbox["items"]] == [wuhan_filing["task"]] * reviews


@pytest.mark.parametrize("username", USERS)
def test_each_user_may_start_the_procedures_of_its_roles(api, world, username):
    keys = {p["key"] for p in api(username).get("/api/v1/processes").get_json()["items"]}
    enterprise = username.endswith(("_wuhan", "_yichang")) and not username.startswith("reg_")
    expected = ({"crane_registration", "record_cancellation"} if username in OWNERS else set()) | (
        {"enterprise_filing"} if enterprise else set()) | (  # every enterprise may file (or amend) itself
        {"installation_notice", "dismantling_notice", "jacking_notice"} if username == "installer_wuhan" else set()) | (
        {"use_registration"} if username == "contractor_wuhan" else set()) | (
        {"inspection_rectification"} if username.startswith("reg_") else set())  # regulators start spot checks
    assert keys == expected


@pytest.mark.parametrize("username", ["reg_wuhan", "reg_province", "reg_yichang", "owner_yichang"])
def test_upload_not_attached_to_any_filing_is_readable_only_by_its_enterprise_and_admin(api, world, username):
    owner = api("owner_wuhan")
    att_id = upload(owner)
    url = f"/api/v1/attachments/{att_id}"
    assert owner.get(url, buffered=True).status_code == 200
    assert api("admin").get(url, buffered=True).status_code == 200
    assert api(username).get(url, buffered=True).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/cases/999999", "/api/v1/tasks/999999", "/api/v1/cranes/999999",
                                 "/api/v1/attachments/999999", "/api/v1/cases/99999999999999999999",
                                 "/api/v1/tasks/9223372036854775808"])
def test_unknown_or_out_of_range_ids_are_404_even_for_admin(api, world, url):
    r = api("admin").get(url)
    assert r.status_code == 404
    assert r.get_json()["error"] == "not_found"


def test_completing_a_task_that_does_not_exist_is_404(api, world):
    r = api("reg_wuhan").post("/api/v1/tasks/999999/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 404


# --- tokens -------------------------------------------------------------------------------------

def _bearer(client, token, method="GET", url="/api/v1/me"):
    return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"},
                       json={"process_key": "crane_registration"})


def test_token_is_refused_after_the_users_token_version_changes(api, world):
    owner = api("owner_wuhan")
    assert owner.get("/api/v1/me").status_code == 200
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET token_version = token_version + 1 WHERE username = :u"),
                     {"u": "owner_wuhan"})
    assert owner.get("/api/v1/me").status_code == 401
    assert owner.post("/api/v1/cases", json={"process_key": "crane_registration"}).status_code == 401
    assert api("owner_wuhan").get("/api/v1/me").status_code == 200  # a fresh login gets a valid token


def test_token_of_a_deactivated_user_is_refused(api, world):
    owner = api("owner_wuhan")
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET is_active = :f WHERE username = 'owner_wuhan'"), {"f": False})
    assert owner.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("method,url", [("GET", "/api/v1/me"), ("GET", "/api/v1/cases"),
                                        ("POST", "/api/v1/cases")])
def test_garbage_token_is_401(client, world, method, url):
    r = _bearer(client, "not-a-token", method, url)
    assert r.status_code == 401
    assert r.get_json()["error"] == "unauthorized"


def test_tampered_token_is_401(api, client):
    token = api("owner_wuhan").token
    payload, timestamp, signature = token.split(".")
    # The first character always carries signature bits (the last one may be padding only).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    admin_payload = URLSafeTimedSerializer("x", salt="craneflow-api-token").dumps(
        {"uid": api("admin").user["id"], "v": 1}).split(".")[0]
    assert _bearer(client, token).status_code == 200
    for bad in (f"{payload}.{timestamp}.{flipped}", f"{admin_payload}.{timestamp}.{signature}",
                f"{payload}.{timestamp}", token + "x"):
        assert _bearer(client, bad).status_code == 401, bad


def test_token_signed_with_another_secret_is_401(client, world):
    forged = URLSafeTimedSerializer("guessed-secret", salt="craneflow-api-token").dumps(
        {"uid": world.users["admin"], "v": 1})
    assert _bearer(client, forged).status_code == 401


def test_wrong_password_gives_no_token(client, world):
    r = client.post("/api/v1/session", json={"username": "owner_wuhan", "password": "wrong"})
    assert r.status_code == 401 and "token" not in r.get_json()


# --- enterprise status --------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_enterprise_that_is_not_approved_cannot_start_a_filing(api, world, status):
    owner = api("owner_wuhan")
    data = filing_data(owner, serial="NOT-APPROVED-1")
    ent_id = world.user("owner_wuhan").enterprise_id
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE enterprise SET status = :s WHERE id = :id"), {"s": status, "id": ent_id})
    body = {"process_key": "crane_registration", "data": data}
    r = owner.post("/api/v1/cases", json=body)
    assert r.status_code == 403
    assert r.get_json()["message"] == t("enterprise_not_approved", "zh_CN")
    r_en = owner.post("/api/v1/cases?lang=en", json=body)
    assert r_en.status_code == 403
    assert r_en.get_json()["message"] == t("enterprise_not_approved", "en")
    # Only the enterprise filing itself (to correct or resubmit it) remains available.
    assert [p["key"] for p in owner.get("/api/v1/processes").get_json()["items"]] == ["enterprise_filing"]
    assert owner.get("/api/v1/cases").get_json()["total"] == 0
