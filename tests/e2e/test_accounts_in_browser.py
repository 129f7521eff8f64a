"""In the browser: the Wuhan city account administrator creates a county regulator, who logs in with
the password shown once, is made to change it, and then reaches the inbox."""
from playwright.sync_api import expect

from tests.e2e.test_crane_filing_walkthrough import login

NEW_PASSWORD = "Wuchang-pass-2027"


def test_city_admin_creates_a_county_regulator_who_must_change_the_password(page, shot):
    login(page, "admin_wuhan")
    with page.expect_navigation():
        page.get_by_test_id("nav-accounts").click()
    with page.expect_navigation():
        page.get_by_test_id("new-account").click()
    page.locator('[name="username"]').fill("reg_wuchang_e2e")
    page.locator('[name="display_name"]').fill("武昌区监督员")
    page.locator('select[name="regulator_level"]').select_option("county")
    page.locator('select[name="region_code"]').select_option("420106")
    with page.expect_navigation():
        page.get_by_test_id("create-account").click()
    expect(page.get_by_test_id("shown-username")).to_have_text("reg_wuchang_e2e")
    initial = page.get_by_test_id("shown-password").inner_text().strip()
    assert len(initial) >= 10

    page.goto("/accounts?level=county")
    expect(page.get_by_test_id("accounts")).to_contain_text("reg_wuchang_e2e")
    expect(page.get_by_test_id("accounts")).to_contain_text("待改密码")
    shot(page, "accounts")

    page.context.clear_cookies()
    page.goto("/login")
    page.locator('input[name="username"]').fill("reg_wuchang_e2e")
    page.locator('input[name="password"]').fill(initial)
    with page.expect_navigation():
        page.locator('form button[type="submit"].primary').click()
    assert page.url.endswith("/account/password")
    expect(page.get_by_test_id("password-change-required")).to_be_visible()
    page.goto("/inbox")  # every page leads back to the change until it is done
    assert page.url.endswith("/account/password")
    page.locator('[name="current_password"]').fill(initial)
    page.locator('[name="new_password"]').fill(NEW_PASSWORD)
    page.locator('[name="confirm_password"]').fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_test_id("change-password").click()
    assert page.url.endswith("/inbox")
    expect(page.locator("h1")).to_have_text("待办任务")
    expect(page.get_by_test_id("current-user")).to_contain_text("武昌区监督员")
