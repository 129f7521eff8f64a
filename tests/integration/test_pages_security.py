"""Browser pages: login required, CSRF, lock-out, safe redirects, security headers, escaping, scope."""
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import text

from tests.conftest import DEMO_PASSWORD, csrf_from
from tests.helpers import open_task_id, start_filing, wuhan_project

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _login(client, username, password=DEMO_PASSWORD, next_url=None):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    url = "/login" + (f"?next={quote(next_url, safe='')}" if next_url is not None else "")
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})


def _browser(app, username):
    client = app.test_client()
    r = _login(client, username)
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def _csrf(client):
    return csrf_from(client.get("/cases").get_data(as_text=True))


def _is_login_redirect(r, next_path=None):
    if r.status_code != 302:
        return False
    location = urlsplit(r.headers["Location"])
    if location.path != "/login":
        return False
    if next_path is not None:
        return parse_qs(location.query)["next"][0].rstrip("?") == next_path
    return True


@pytest.fixture
def filing(api):
    """A Wuhan filing waiting for review."""
    case = start_filing(api("owner_wuhan"), serial="PAGE-1")
    return {"case": case["id"], "task": open_task_id(case), "crane": case["subject"]["id"]}


@pytest.fixture
def returned(api, filing):
    """The same filing returned to the owner with a reason containing markup."""
    r = api("reg_wuhan").post(f"/api/v1/tasks/{filing['task']}/complete",
                              json={"data": {"decision": "return", "reason": XSS}})
    assert r.status_code == 200
    return {**filing, "correct_task": open_task_id(r.get_json())}


# --- login required -------------------------------------------------------------------------------

def _page_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("pages.")), key=lambda r: r.rule)


def _concrete(rule) -> str:
    return re.sub(r"<(?:int:)?(\w+)>", lambda m: "crane_registration" if m.group(1) == "process_key" else "1",
                  rule.rule)


def test_there_are_page_routes_to_check(app):
    endpoints = {r.endpoint for r in _page_rules(app)}
    assert {"pages.home", "pages.my_cases", "pages.case", "pages.task", "pages.inbox", "pages.cranes",
            "pages.crane", "pages.attachment", "pages.definitions", "pages.start", "pages.projects",
            "pages.project", "pages.project_status"} <= endpoints


def test_every_page_route_redirects_anonymous_users_to_login(app, filing):
    client = app.test_client()
    anonymous_csrf = csrf_from(client.get("/login").get_data(as_text=True))
    checked = []
    for rule in _page_rules(app):
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(url, method=method, data={"csrf_token": anonymous_csrf} if method == "POST" else None)
            assert _is_login_redirect(r, url), (method, url, r.status_code, r.headers.get("Location"))
            checked.append((method, url))
    assert ("POST", "/tasks/1") in checked and ("POST", "/cases/start/crane_registration") in checked
    assert filing and len(checked) >= 11


def test_api_docs_page_is_public_but_the_portal_is_not(client, world):
    assert client.get("/api/docs").status_code == 200
    assert _is_login_redirect(client.get("/"))


# --- CSRF -----------------------------------------------------------------------------------------

def test_login_form_without_csrf_token_is_400(client, world):
    client.get("/login")
    r = client.post("/login", data={"username": "owner_wuhan", "password": DEMO_PASSWORD})
    assert r.status_code == 400
    assert _is_login_redirect(client.get("/cases"))  # not logged in


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "wrong"])
def test_logged_in_posts_without_a_valid_csrf_token_are_400(app, api, filing, token):
    owner = _browser(app, "owner_wuhan")
    form = {} if token is None else {"csrf_token": token}
    assert owner.post("/cases/start/crane_registration", data=form).status_code == 400
    assert owner.post(f"/tasks/{filing['task']}", data={**form, "decision": "approve"}).status_code == 400
    assert owner.post("/logout", data=form).status_code == 400
    assert owner.get("/cases").status_code == 200  # still logged in: logout was refused
    assert api("owner_wuhan").get("/api/v1/cases").get_json()["total"] == 1  # nothing was started
    reg = _browser(app, "reg_wuhan")
    assert reg.post(f"/tasks/{filing['task']}", data={**form, "decision": "approve"}).status_code == 400
    assert api("reg_wuhan").get(f"/api/v1/tasks/{filing['task']}").get_json()["status"] == "open"


def test_api_call_with_session_cookie_needs_the_csrf_header(app, filing):
    reg = _browser(app, "reg_wuhan")
    url = f"/api/v1/tasks/{filing['task']}/complete"
    body = {"data": {"decision": "return", "reason": "请补充"}}
    assert reg.post(url, json=body).status_code == 400
    assert reg.post(url, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 400
    assert reg.post(url, json=body, headers={"X-CSRF-Token": _csrf(reg)}).status_code == 200


# --- login, lock-out, redirects -------------------------------------------------------------------

def test_wrong_password_shows_the_login_page_with_401(client, world):
    r = _login(client, "owner_wuhan", "not-the-password")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)
    assert _is_login_redirect(client.get("/cases"))


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, world):
    r = _login(client, "nobody", "whatever")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)


def test_account_is_locked_after_five_failures_even_with_the_right_password(app, client, world):
    for _ in range(5):
        assert _login(client, "owner_wuhan", "wrong").status_code == 401
    r = _login(client, "owner_wuhan")
    assert r.status_code == 401
    assert _is_login_redirect(client.get("/cases"))
    api_login = app.test_client().post("/api/v1/session", json={"username": "owner_wuhan", "password": DEMO_PASSWORD})
    assert api_login.status_code == 401
    assert _login(app.test_client(), "owner_yichang").status_code == 302  # other accounts are unaffected


def test_four_failures_do_not_lock_and_a_success_resets_the_count(client, world):
    for _ in range(4):
        assert _login(client, "owner_wuhan", "wrong").status_code == 401
    assert _login(client, "owner_wuhan").status_code == 302
    for _ in range(4):
        assert _login(client, "owner_wuhan", "wrong").status_code == 401
    assert _login(client, "owner_wuhan").status_code == 302


@pytest.mark.parametrize("target", [
    "https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "https:evil.example", "javascript:alert(1)", "evil.example/cases", " //evil.example",
])
def test_login_does_not_redirect_off_site(app, world, target):
    r = _login(app.test_client(), "owner_wuhan", next_url=target)
    assert r.status_code == 302
    location = r.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert "evil.example" not in location or location.startswith("/%5C")  # a same-site path at worst


def test_login_follows_a_local_next(app, world):
    r = _login(app.test_client(), "owner_wuhan", next_url="/cranes")
    assert r.status_code == 302 and r.headers["Location"] == "/cranes"


def test_session_cookie_is_http_only_and_same_site(client, world):
    r = _login(client, "owner_wuhan")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- headers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("url,username,status", [
    ("/login", None, 200), ("/cases", "owner_wuhan", 200), ("/inbox", "reg_wuhan", 200),
    ("/cases/999999", "owner_wuhan", 404), ("/api/v1/me", None, 401), ("/api/openapi.json", None, 200),
])
def test_security_headers_are_set(app, world, url, username, status):
    client = _browser(app, username) if username else app.test_client()
    r = client.get(url)
    assert r.status_code == status
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"


# --- escaping -------------------------------------------------------------------------------------

def test_reason_with_markup_is_escaped_on_the_case_and_task_pages(app, returned):
    owner = _browser(app, "owner_wuhan")
    for url in (f"/cases/{returned['case']}", f"/tasks/{returned['correct_task']}"):
        html = owner.get(url).get_data(as_text=True)
        assert XSS_ESCAPED in html, url
        assert XSS not in html, url
    reg = _browser(app, "reg_wuhan")
    html = reg.get(f"/cases/{returned['case']}").get_data(as_text=True)
    assert XSS_ESCAPED in html and XSS not in html


def test_model_with_markup_is_escaped_in_titles_and_lists(app, api):
    markup = '<img src=x onerror="alert(1)">'
    case = start_filing(api("owner_wuhan"), serial="XSS-MODEL", model=markup)
    owner = _browser(app, "owner_wuhan")
    for url in (f"/cases/{case['id']}", "/cases", "/cranes", f"/cranes/{case['subject']['id']}"):
        html = owner.get(url).get_data(as_text=True)
        assert "&lt;img src=x onerror=" in html, url
        assert markup not in html, url
    inbox = _browser(app, "reg_wuhan").get("/inbox").get_data(as_text=True)
    assert markup not in inbox and "&lt;img src=x onerror=" in inbox


# --- logout ---------------------------------------------------------------------------------------

def test_logout_requires_post(app, world):
    owner = _browser(app, "owner_wuhan")
    assert owner.get("/logout").status_code == 405
    assert owner.get("/cases").status_code == 200  # GET did not log out
    r = owner.post("/logout", data={"csrf_token": _csrf(owner)})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/login"
    assert _is_login_redirect(owner.get("/cases"))


# --- scope on pages -------------------------------------------------------------------------------

def test_regulator_of_another_region_gets_404_on_the_case_and_its_task(app, api, filing):
    yichang = _browser(app, "reg_yichang")
    assert yichang.get(f"/cases/{filing['case']}").status_code == 404
    assert yichang.get(f"/cranes/{filing['crane']}").status_code == 404
    assert yichang.get(f"/tasks/{filing['task']}").status_code == 404
    r = yichang.post(f"/tasks/{filing['task']}", data={"csrf_token": _csrf(yichang), "decision": "approve"})
    assert r.status_code == 404
    task = api("reg_wuhan").get(f"/api/v1/tasks/{filing['task']}").get_json()
    assert task["status"] == "open"
    assert f"/tasks/{filing['task']}" not in yichang.get("/inbox").get_data(as_text=True)
    assert f"/tasks/{filing['task']}" in _browser(app, "reg_wuhan").get("/inbox").get_data(as_text=True)


@pytest.fixture
def project(world):
    return wuhan_project(world, "4201062026-0200", "武昌古城改造一期")


@pytest.mark.parametrize(("username", "page", "mark"), [
    ("reg_wuhan", 200, 302), ("reg_province", 200, 302), ("contractor_wuhan", 200, 403),
    ("supervisor_wuhan", 200, 403), ("admin", 200, 403), ("reg_yichang", 404, 404), ("owner_yichang", 404, 404),
    ("installer_wuhan", 404, 404)])
def test_project_pages_by_role_and_region(app, project, username, page, mark):
    client = _browser(app, username)
    assert client.get(f"/projects/{project}").status_code == page
    listed = client.get("/projects").get_data(as_text=True)
    assert ("4201062026-0200" in listed) == (page == 200)
    url = f"/projects/{project}/status"
    assert client.post(url, data={"status": "completed"}).status_code == 400  # no CSRF token
    r = client.post(url, data={"csrf_token": _csrf(client), "status": "completed", "reason": "竣工"})
    assert r.status_code == mark
    status = _browser(app, "reg_wuhan").get(f"/projects/{project}").get_data(as_text=True)
    assert ('data-testid="project-status">完工' in status) == (mark == 302)


def test_owner_who_sees_the_case_still_cannot_complete_the_review(app, api, filing):
    owner = _browser(app, "owner_wuhan")
    page = owner.get(f"/tasks/{filing['task']}")
    assert page.status_code == 200
    r = owner.post(f"/tasks/{filing['task']}", data={"csrf_token": _csrf(owner), "decision": "approve"})
    assert r.status_code == 403
    assert api("reg_wuhan").get(f"/api/v1/tasks/{filing['task']}").get_json()["status"] == "open"


def test_regulator_in_scope_completes_the_review_from_the_page(app, api, filing):
    reg = _browser(app, "reg_province")
    r = reg.post(f"/tasks/{filing['task']}", data={"csrf_token": _csrf(reg), "decision": "approve"})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == f"/cases/{filing['case']}"
    assert api("owner_wuhan").get(f"/api/v1/cases/{filing['case']}").get_json()["outcome"] == "approved"


# --- session gone ---------------------------------------------------------------------------------

def test_enterprise_task_page_redirects_to_login_after_logout_and_back_after_login(app, returned):
    owner = _browser(app, "owner_wuhan")
    url = f"/tasks/{returned['correct_task']}"
    assert owner.get(url).status_code == 200
    owner.post("/logout", data={"csrf_token": _csrf(owner)})
    r = owner.get(url)
    assert _is_login_redirect(r, url)
    next_url = parse_qs(urlsplit(r.headers["Location"]).query)["next"][0]
    again = _login(owner, "owner_wuhan", next_url=next_url)
    assert again.status_code == 302 and urlsplit(again.headers["Location"]).path == url


def test_enterprise_task_page_redirects_to_login_without_the_cookie(app, returned):
    owner = _browser(app, "owner_wuhan")
    url = f"/tasks/{returned['correct_task']}"
    assert owner.get(url).status_code == 200
    owner.delete_cookie("session")
    assert _is_login_redirect(owner.get(url), url)


def test_session_ends_when_the_users_token_version_changes(app, world, returned):
    owner = _browser(app, "owner_wuhan")
    url = f"/tasks/{returned['correct_task']}"
    assert owner.get(url).status_code == 200
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET token_version = token_version + 1 WHERE username = 'owner_wuhan'"))
    assert _is_login_redirect(owner.get(url), url)
