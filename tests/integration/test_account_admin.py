"""Hierarchical account administration: province → city → county admins, regulators, enterprise admins."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.db import AuditEvent, User
from engine.services.accounts import MAX_FAILED_LOGINS
from forms import t
from tests.conftest import DEMO_PASSWORD, ApiClient, csrf_from

NEW_PASSWORD = "Changed-pass-2027"


def _create(admin, **body):
    body.setdefault("display_name", "新账户")
    return admin.post("/api/v1/accounts", json=body)


def _regulator(admin, username, level, region, password=None, account_admin=False):
    body = {"username": username, "regulator_level": level, "region_code": region, "account_admin": account_admin}
    if password:
        body["password"] = password
    r = _create(admin, **body)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def _login(client, username, password):
    return client.post("/api/v1/session", json={"username": username, "password": password})


def _first_login(app, username, password) -> ApiClient:
    """Log in with an administrator-given password and change it, as the user must."""
    user = ApiClient(app, username, password)
    r = user.post("/api/v1/me/password", json={"current_password": password, "new_password": NEW_PASSWORD})
    assert r.status_code == 200, r.get_data(as_text=True)
    user.token = r.get_json()["token"]
    return user


def _refused(r, key):
    assert r.status_code == 403, r.get_data(as_text=True)
    assert r.get_json()["error"] == "not_permitted"
    assert r.get_json()["message"] == t(key, "zh_CN")


# --- the hierarchy --------------------------------------------------------------------------------

def test_province_admin_creates_a_city_admin_who_creates_county_admins_and_regulators(app, api):
    province = api("admin_hubei")
    city = _regulator(province, "admin_yichang", "city", "420500", account_admin=True)
    assert city["kind"] == "regulator" and city["account_admin"] and city["must_change_password"]
    assert len(city["initial_password"]) >= 10
    yichang = _first_login(app, "admin_yichang", city["initial_password"])
    county_admin = _regulator(yichang, "admin_xiling", "county", "420502", account_admin=True)
    county_reg = _regulator(yichang, "reg_xiling", "county", "420502")
    city_reg = _regulator(yichang, "reg_yichang2", "city", "420500")
    assert {a["created_by_id"] for a in (county_admin, county_reg, city_reg)} == {yichang.user["id"]}
    # The county admin creates the regulators of its own county only.
    xiling = _first_login(app, "admin_xiling", county_admin["initial_password"])
    _regulator(xiling, "reg_xiling2", "county", "420502")
    _refused(_create(xiling, username="reg_wujiagang", regulator_level="county", region_code="420503"),
             "account_outside_jurisdiction")


@pytest.mark.parametrize(("username", "body", "reason"), [
    ("admin_hubei", {"regulator_level": "county", "region_code": "420106", "account_admin": True},
     "account_admin_one_level"),
    ("admin_hubei", {"regulator_level": "province", "region_code": "420000", "account_admin": True},
     "account_same_level"),
    ("admin_wuhan", {"regulator_level": "city", "region_code": "420100", "account_admin": True}, "account_same_level"),
    ("admin_wuhan", {"regulator_level": "province", "region_code": "420000"}, "account_higher_level"),
    ("admin_wuhan", {"regulator_level": "county", "region_code": "420502"}, "account_outside_jurisdiction"),
    ("admin_wuhan", {"regulator_level": "city", "region_code": "420500", "account_admin": False},
     "account_outside_jurisdiction"),
])
def test_creation_at_same_or_higher_level_or_outside_the_jurisdiction_is_403_naming_the_reason(
        api, world, username, body, reason):
    admin = api(username)
    _refused(_create(admin, username="refused_one", **body), reason)
    r = admin.post("/api/v1/accounts?lang=en", json={"username": "refused_one", "display_name": "x", **body})
    assert r.status_code == 403 and r.get_json()["message"] == t(reason, "en")
    with Session(world.engine) as s:
        assert s.scalar(select(User).where(User.username == "refused_one")) is None


def test_city_admin_lists_the_regulators_of_its_city_and_counties_only(api, world):
    admin = api("admin_wuhan")
    _regulator(admin, "reg_wuchang", "county", "420106")
    _regulator(admin, "admin_hongshan", "county", "420111", account_admin=True)
    items = admin.get("/api/v1/accounts").get_json()["items"]
    names = {a["username"] for a in items}
    assert {"reg_wuhan", "reg_wuchang", "admin_hongshan"} <= names
    # Not itself, not Yichang or the province, not enterprise users.
    assert not names & {"admin_wuhan", "reg_yichang", "reg_province", "admin_hubei", "owner_wuhan"}
    assert all(a["kind"] == "regulator" and a["region_code"].startswith("4201") and a["manageable"] for a in items)
    counties = admin.get("/api/v1/accounts?level=county").get_json()
    assert {a["username"] for a in counties["items"]} == {"reg_wuchang", "admin_hongshan"}
    wuchang = admin.get("/api/v1/accounts?region=420106").get_json()
    assert [a["username"] for a in wuchang["items"]] == ["reg_wuchang"]
    assert [a["username"] for a in admin.get("/api/v1/accounts?q=HONGSHAN").get_json()["items"]] == ["admin_hongshan"]
    r = admin.get("/api/v1/accounts?region=420500")
    assert r.status_code == 422 and r.get_json()["errors"]["region"] == [t("region_outside_jurisdiction", "zh_CN")]
    # The province admin sees the Wuhan accounts too, including the city admin below it.
    province = {a["username"] for a in api("admin_hubei").get("/api/v1/accounts").get_json()["items"]}
    assert {"reg_wuhan", "reg_yichang", "reg_province", "admin_wuhan", "reg_wuchang"} <= province
    assert "admin_hubei" not in province


def test_accounts_outside_the_scope_are_not_found_and_peers_are_refused(api, world):
    admin = api("admin_wuhan")
    assert admin.get(f"/api/v1/accounts/{world.users['reg_yichang']}").status_code == 404
    assert admin.get(f"/api/v1/accounts/{world.users['owner_wuhan']}").status_code == 404
    assert admin.post(f"/api/v1/accounts/{world.users['reg_province']}/disable").status_code == 404
    own = admin.get(f"/api/v1/accounts/{world.users['admin_wuhan']}").get_json()
    assert own["manageable"] is False and own["refusal"] == t("account_self", "zh_CN")
    _refused(admin.post(f"/api/v1/accounts/{world.users['admin_wuhan']}/disable"), "account_self")
    peer = _regulator(api("admin_hubei"), "admin_wuhan2", "city", "420100", account_admin=True)
    _refused(admin.post(f"/api/v1/accounts/{peer['id']}/reset-password"), "account_same_level")
    # The province admin manages the city admin below it.
    assert api("admin_hubei").post(f"/api/v1/accounts/{world.users['admin_wuhan']}/unlock").status_code == 200


def test_accounts_are_managed_by_account_admins_only(api, world):
    for username in ("reg_wuhan", "reg_province", "admin"):
        _refused(api(username).get("/api/v1/accounts"), "accounts_not_admin")
        _refused(_create(api(username), username="nobody_new"), "accounts_not_admin")


# --- enterprise administrators -------------------------------------------------------------------

def test_enterprise_admin_manages_the_users_of_its_own_enterprise_only(app, api, world):
    owner = api("owner_wuhan")
    r = _create(owner, username="owner_wuhan_clerk", display_name="李四（设备科）", password="Clerk-pass-2026")
    assert r.status_code == 201, r.get_data(as_text=True)
    clerk = r.get_json()
    assert clerk["kind"] == "enterprise" and clerk["enterprise_id"] == world.user("owner_wuhan").enterprise_id
    assert clerk["account_admin"] is False and clerk["initial_password"] == "Clerk-pass-2026"
    assert [a["username"] for a in owner.get("/api/v1/accounts").get_json()["items"]] == ["owner_wuhan_clerk"]
    # Another enterprise's admin and the regional admins do not see it.
    assert api("owner_yichang").get(f"/api/v1/accounts/{clerk['id']}").status_code == 404
    assert api("admin_wuhan").get(f"/api/v1/accounts/{clerk['id']}").status_code == 404
    assert api("owner_yichang").post(f"/api/v1/accounts/{clerk['id']}/disable").status_code == 404
    assert owner.post(f"/api/v1/accounts/{clerk['id']}/disable").get_json()["is_active"] is False
    assert owner.post(f"/api/v1/accounts/{clerk['id']}/enable").get_json()["is_active"] is True
    # It cannot disable itself, create another admin, or give an enterprise user a region.
    _refused(owner.post(f"/api/v1/accounts/{world.users['owner_wuhan']}/disable"), "account_self")
    _refused(_create(owner, username="owner_wuhan_admin2", account_admin=True), "account_same_level")
    r = _create(owner, username="owner_wuhan_x", regulator_level="county", region_code="420106")
    assert r.status_code == 422 and r.get_json()["errors"]["regulator_level"] == [
        t("account_no_level_for_enterprise", "zh_CN")]
    # The ordinary user it created manages nobody.
    user = _first_login(app, "owner_wuhan_clerk", "Clerk-pass-2026")
    _refused(user.get("/api/v1/accounts"), "accounts_not_admin")
    assert user.get("/api/v1/processes").status_code == 200


def test_the_signing_up_account_becomes_its_enterprise_admin(client, world):
    from engine.domain.uscc import uscc_check_char

    first17 = "91420106MA4TX0001"
    r = client.post("/api/v1/enterprises", json={
        "enterprise_name": "新注册起重机械租赁有限公司", "uscc": first17 + uscc_check_char(first17), "region_code": "420106",
        "username": "signup_admin", "display_name": "注册人", "password": "Secure-pass-2026"})
    assert r.status_code == 201, r.get_data(as_text=True)
    token = r.get_json()["token"]
    r = client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"},
                    json={"username": "signup_clerk", "display_name": "职员"})
    assert r.status_code == 201, r.get_data(as_text=True)


# --- password reset, unlock, disable -------------------------------------------------------------

def test_reset_forces_a_change_at_next_login_and_kills_the_old_token(app, client, api, world):
    admin = api("admin_wuhan")
    created = _regulator(admin, "reg_jiangan", "county", "420102", password="First-pass-2026")
    user = _first_login(app, "reg_jiangan", "First-pass-2026")
    assert user.get("/api/v1/tasks").status_code == 200
    r = admin.post(f"/api/v1/accounts/{created['id']}/reset-password")
    assert r.status_code == 200
    temporary = r.get_json()["temporary_password"]
    assert r.get_json()["must_change_password"] is True and len(temporary) >= 10
    assert user.get("/api/v1/tasks").status_code == 401  # the old token is dead
    assert _login(client, "reg_jiangan", NEW_PASSWORD).status_code == 401
    fresh = ApiClient(app, "reg_jiangan", temporary)
    r = fresh.get("/api/v1/tasks")
    assert r.status_code == 403 and r.get_json()["message"] == t("password_change_required", "zh_CN")
    assert fresh.get("/api/v1/me").status_code == 200
    r = fresh.post("/api/v1/me/password", json={"current_password": temporary, "new_password": temporary})
    assert r.status_code == 422 and "new_password" in r.get_json()["errors"]
    r = fresh.post("/api/v1/me/password", json={"current_password": temporary, "new_password": "Third-pass-2028"})
    assert r.status_code == 200
    fresh.token = r.get_json()["token"]
    assert fresh.get("/api/v1/tasks").status_code == 200
    # An administrator-chosen temporary password must meet the policy as well.
    r = admin.post(f"/api/v1/accounts/{created['id']}/reset-password", json={"password": "short1"})
    assert r.status_code == 422 and r.get_json()["errors"]["password"] == [t("password_policy", "zh_CN")]


def test_forced_change_redirects_every_page_until_done(app, api, world):
    created = _regulator(api("admin_wuhan"), "reg_qiaokou", "county", "420104", password="First-pass-2026")
    browser = app.test_client()
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    r = browser.post("/login", data={"username": "reg_qiaokou", "password": "First-pass-2026", "csrf_token": token})
    assert r.status_code == 302
    for url in ("/", "/inbox", "/cranes"):
        r = browser.get(url)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account/password"), url
    page = browser.get("/account/password").get_data(as_text=True)
    assert 'data-testid="password-change-required"' in page
    token = csrf_from(page)
    r = browser.post("/account/password", data={"csrf_token": token, "current_password": "First-pass-2026",
                                                "new_password": NEW_PASSWORD, "confirm_password": "Other-pass-2027"})
    assert r.status_code == 422 and t("password_mismatch", "zh_CN") in r.get_data(as_text=True)
    r = browser.post("/account/password", data={"csrf_token": token, "current_password": "First-pass-2026",
                                                "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert r.status_code == 302
    assert browser.get("/inbox").status_code == 200  # the session survives its own change
    assert created["id"] == world.user("reg_qiaokou").id and not world.user("reg_qiaokou").must_change_password


def test_unlock_after_lock_out(app, client, api, world):
    for _ in range(MAX_FAILED_LOGINS):
        assert _login(client, "reg_wuhan", "wrong-password-1").status_code == 401
    assert _login(client, "reg_wuhan", DEMO_PASSWORD).status_code == 401  # locked
    admin = api("admin_wuhan")
    locked = admin.get("/api/v1/accounts?status=locked").get_json()["items"]
    assert [a["username"] for a in locked] == ["reg_wuhan"] and locked[0]["locked"] is True
    r = admin.post(f"/api/v1/accounts/{world.users['reg_wuhan']}/unlock")
    assert r.status_code == 200 and r.get_json()["locked"] is False
    assert _login(client, "reg_wuhan", DEMO_PASSWORD).status_code == 201


def test_disable_blocks_login_and_ends_tokens(app, client, api, world):
    reg = api("reg_wuhan")
    admin = api("admin_wuhan")
    r = admin.post(f"/api/v1/accounts/{world.users['reg_wuhan']}/disable")
    assert r.status_code == 200 and r.get_json()["is_active"] is False
    assert reg.get("/api/v1/me").status_code == 401
    assert _login(client, "reg_wuhan", DEMO_PASSWORD).status_code == 401
    assert [a["username"] for a in admin.get("/api/v1/accounts?status=disabled").get_json()["items"]] == ["reg_wuhan"]
    assert admin.post(f"/api/v1/accounts/{world.users['reg_wuhan']}/enable").status_code == 200
    assert _login(client, "reg_wuhan", DEMO_PASSWORD).status_code == 201


def test_every_action_is_audited(api, world):
    admin = api("admin_wuhan")
    created = _regulator(admin, "reg_audited", "county", "420106")
    for action in ("disable", "enable", "unlock", "reset-password"):
        assert admin.post(f"/api/v1/accounts/{created['id']}/{action}").status_code == 200
    with Session(world.engine) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.actor_id == world.users["admin_wuhan"])
                         .order_by(AuditEvent.id)).all()
    assert [r.action for r in rows] == ["account_created", "account_disabled", "account_enabled", "account_unlocked",
                                        "password_reset"]
    assert {r.detail["account_id"] for r in rows} == {created["id"]}
    assert "password" not in str([r.detail for r in rows]).replace("generated", "")


# --- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_invalid_input_is_422_naming_the_fields_in_the_users_language(api, world, lang):
    admin = api("admin_wuhan")
    r = admin.post(f"/api/v1/accounts?lang={lang}", json={
        "username": "bad name!", "display_name": "", "password": "onlyletters", "regulator_level": "county",
        "region_code": "420100"})
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert errors["username"] == [t("username_format", lang)]
    assert errors["password"] == [t("password_policy", lang)]
    assert errors["display_name"] == [t("length_between", lang, min=1, max=100)]
    r = admin.post(f"/api/v1/accounts?lang={lang}", json={"username": "ok_name", "display_name": "x",
                                                          "regulator_level": "county", "region_code": "420100"})
    assert r.status_code == 422 and r.get_json()["errors"] == {"region_code": [t("level_region_mismatch", lang)]}
    r = admin.post(f"/api/v1/accounts?lang={lang}", json={"username": "reg_wuhan", "display_name": "x",
                                                          "regulator_level": "county", "region_code": "420106"})
    assert r.status_code == 422 and r.get_json()["errors"] == {"username": [t("username_taken", lang)]}
    r = admin.post(f"/api/v1/me/password?lang={lang}", json={"current_password": "wrong", "new_password": "short"})
    assert r.status_code == 422 and r.get_json()["errors"] == {"new_password": [t("password_policy", lang)]}
    r = admin.post(f"/api/v1/me/password?lang={lang}", json={"current_password": "wrong-one-123",
                                                             "new_password": NEW_PASSWORD})
    assert r.status_code == 422 and r.get_json()["errors"] == {"current_password": [t("password_wrong", lang)]}


@pytest.mark.parametrize("body", [[], "x", {"password": 5}, {"unknown": 1}])
def test_malformed_reset_bodies_are_422(api, world, body):
    admin = api("admin_wuhan")
    r = admin.post(f"/api/v1/accounts/{world.users['reg_wuhan']}/reset-password", json=body)
    assert r.status_code == 422


# --- pages ---------------------------------------------------------------------------------------

def _browser(app, username, password=DEMO_PASSWORD):
    browser = app.test_client()
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    assert browser.post("/login", data={"username": username, "password": password,
                                        "csrf_token": token}).status_code == 302
    return browser


def test_pages_create_list_and_manage_accounts(app, world):
    browser = _browser(app, "admin_wuhan")
    assert 'data-testid="nav-accounts"' in browser.get("/inbox").get_data(as_text=True)
    page = browser.get("/accounts/new").get_data(as_text=True)
    assert 'value="420106"' in page and 'value="420502"' not in page  # only its jurisdiction is offered
    token = csrf_from(page)
    r = browser.post("/accounts/new", data={"csrf_token": token, "username": "reg_hanyang", "display_name": "汉阳监督员",
                                            "regulator_level": "county", "region_code": "420105"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'data-testid="shown-password"' in html
    r = browser.post("/accounts/new", data={"csrf_token": token, "username": "reg_far", "display_name": "x",
                                            "regulator_level": "county", "region_code": "420502"})
    assert r.status_code == 422 and t("account_outside_jurisdiction", "zh_CN") in r.get_data(as_text=True)
    listing = browser.get("/accounts?level=county&q=hanyang").get_data(as_text=True)
    assert "reg_hanyang" in listing and "reg_wuhan" not in listing
    assert browser.get("/accounts?region=420500").status_code == 422
    account_id = world.user("reg_hanyang").id
    r = browser.post(f"/accounts/{account_id}/disable", data={"csrf_token": token})
    assert r.status_code == 302 and not world.user("reg_hanyang").is_active
    r = browser.post(f"/accounts/{account_id}/reset-password", data={"csrf_token": token})
    assert r.status_code == 200 and 'data-testid="shown-password"' in r.get_data(as_text=True)
    assert browser.post(f"/accounts/{account_id}/bogus", data={"csrf_token": token}).status_code == 404
    assert browser.post(f"/accounts/{account_id}/enable").status_code == 400  # no CSRF token


def test_pages_refuse_users_who_do_not_manage_accounts(app, world):
    browser = _browser(app, "reg_wuhan")
    assert 'data-testid="nav-accounts"' not in browser.get("/inbox").get_data(as_text=True)
    assert browser.get("/accounts").status_code == 403
    assert browser.get("/accounts/new").status_code == 403
    assert browser.get("/account/password").status_code == 200  # everybody changes their own


def test_enterprise_admin_page_has_no_level_or_region(app, world):
    browser = _browser(app, "owner_wuhan")
    page = browser.get("/accounts/new").get_data(as_text=True)
    assert 'name="region_code"' not in page and 'name="username"' in page


def test_demo_accounts_are_unchanged_and_the_new_admins_exist(world):
    with world.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT username, account_admin FROM user_account")).all())
    assert rows["admin_hubei"] and rows["admin_wuhan"] and rows["owner_wuhan"] and rows["owner_yichang"]
    assert not rows["reg_wuhan"] and not rows["admin"] and not rows["reg_province"]
