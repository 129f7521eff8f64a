"""Browser sessions end after SESSION_IDLE_MINUTES without a request and after SESSION_MAX_HOURS in any case."""
import time

from tests.conftest import DEMO_PASSWORD, csrf_from


def _browser(app):
    browser = app.test_client()
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    assert browser.post("/login", data={"username": "reg_wuhan", "password": DEMO_PASSWORD,
                                        "csrf_token": token}).status_code == 302
    return browser


def _age(browser, *, idle: int = 0, since: int = 0):
    """Pretend the last request was `idle` seconds ago and the login `since` seconds ago."""
    with browser.session_transaction() as sess:
        now = int(time.time())
        sess["seen"] = now - idle
        sess["since"] = now - max(since, idle)


def _seen(browser) -> int:
    with browser.session_transaction() as sess:
        return sess["seen"]


def test_idle_timeout_defaults_to_30_minutes(app):
    from web.config import load_config

    assert load_config()["SESSION_IDLE_MINUTES"] == 30
    assert app.config["SESSION_IDLE_MINUTES"] == 30


def test_an_idle_session_expires_and_the_login_page_says_so(app, world):
    browser = _browser(app)
    _age(browser, idle=29 * 60)
    assert browser.get("/inbox").status_code == 200  # still alive, and the request counts as activity
    assert abs(_seen(browser) - time.time()) < 5
    _age(browser, idle=31 * 60)
    r = browser.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = browser.get(r.headers["Location"])
    assert page.status_code == 200 and "会话已过期，请重新登录" in page.get_data(as_text=True)
    assert "会话已过期" not in browser.get("/login").get_data(as_text=True)  # said once
    assert browser.get("/inbox").status_code == 302  # the session is gone for good


def test_an_expired_session_gets_401_from_the_api(app, world):
    browser = _browser(app)
    assert browser.get("/api/v1/me").status_code == 200
    _age(browser, idle=31 * 60)
    r = browser.get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"


def test_the_absolute_lifetime_ends_even_an_active_session(app, world):
    browser = _browser(app)
    _age(browser, idle=10, since=(app.config["SESSION_MAX_HOURS"] * 3600) + 60)
    assert browser.get("/inbox").status_code == 302


def test_keep_alive_restarts_the_idle_timer(app, world):
    browser = _browser(app)
    _age(browser, idle=29 * 60 + 30)
    r = browser.get("/session/keep-alive", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.get_json()["remaining"] >= 30 * 60 - 5
    assert abs(_seen(browser) - time.time()) < 5
    assert browser.get("/inbox").status_code == 200


def test_status_check_does_not_count_as_activity(app, world):
    browser = _browser(app)
    _age(browser, idle=29 * 60)
    before = _seen(browser)
    r = browser.get("/session/status", headers={"Accept": "application/json"})
    assert r.status_code == 200 and 0 < r.get_json()["remaining"] <= 60
    assert _seen(browser) == before
    _age(browser, idle=31 * 60)
    r = browser.get("/session/status", headers={"Accept": "application/json"})
    assert r.status_code == 401


def test_pages_carry_the_expiry_script_and_the_remaining_time(app, world):
    browser = _browser(app)
    html = browser.get("/inbox").get_data(as_text=True)
    assert "session-expiry.js" in html and 'data-remaining="' in html
    assert 'data-testid="stay-signed-in"' in html
    assert "session-expiry.js" not in app.test_client().get("/login").get_data(as_text=True)
    r = app.test_client().get("/static/session-expiry.js", buffered=True)
    assert r.status_code == 200 and "keepalive" in r.get_data(as_text=True)
    r.close()


def test_keep_alive_needs_a_session(client, world):
    assert client.get("/session/keep-alive", headers={"Accept": "application/json"}).status_code == 401
