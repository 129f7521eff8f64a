"""In the browser: an enterprise signs up, files itself, the Wuhan regulator approves, and the
enterprise can then start a crane filing."""
import re

from playwright.sync_api import expect

from engine.domain.uscc import uscc_check_char
from tests.e2e.test_crane_filing_walkthrough import login, open_review_from_inbox, submit

NEW_PASSWORD = "Secure-pass-2026"


def test_signup_filing_approved_then_crane_filing_allowed(page, tmp_path, shot):
    first17 = "91420106MA4E2E001"
    uscc = first17 + uscc_check_char(first17)
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_role("link", name="企业注册").click()
    page.locator('[name="enterprise_name"]').fill("武汉江城起重设备安装有限公司")
    page.locator('[name="uscc"]').fill(uscc)
    page.locator('select[name="region_code"]').select_option("420106")
    page.locator('[name="username"]').fill("jiangcheng")
    page.locator('[name="display_name"]').fill("吴磊")
    page.locator('[name="password"]').fill(NEW_PASSWORD)
    shot(page, "12-enterprise-signup")
    with page.expect_navigation():
        page.get_by_test_id("register").click()
    expect(page.get_by_test_id("filing-hint")).to_be_visible()
    expect(page.get_by_test_id("start-crane_registration")).to_have_count(0)

    with page.expect_navigation():
        page.get_by_test_id("start-enterprise_filing").click()
    assert re.search(r"/tasks/\d+$", page.url)
    values = {"name": "武汉江城起重设备安装有限公司", "uscc": uscc, "region_code": "420106",
              "address": "武汉市武昌区和平大道 88 号", "legal_representative": "吴刚",
              "legal_representative_id": "11010519491231002X", "contact_person": "吴磊",
              "contact_phone": "027-87654321", "technical_lead": "陈工"}
    for name, value in values.items():
        page.locator(f'[name="{name}"]').fill(value)
    page.locator('input[name="roles"][value="owner"]').check()
    page.get_by_test_id("step-next").click()  # the form goes step by step: the safety staff next
    page.locator('[name="safety_staff.0.name"]').fill("黄芳")
    page.locator('[name="safety_staff.0.certificate_no"]').fill("鄂建安C1(2022)0012345")
    licence = tmp_path / "business-licence.pdf"
    licence.write_bytes(b"%PDF-1.4\n% business licence\n%%EOF\n")
    page.get_by_test_id("file-documents.business_licence").set_input_files(str(licence))
    shot(page, "13-enterprise-filing-form")
    submit(page)
    expect(page.locator(".alert.ok")).to_be_visible()
    case_id = int(re.search(r"/cases/(\d+)", page.url).group(1))

    login(page, "reg_wuhan")
    open_review_from_inbox(page, case_id)
    expect(page.get_by_test_id("submission")).to_contain_text("营业执照")
    expect(page.get_by_test_id("submission")).to_contain_text("business-licence.pdf")
    shot(page, "14-enterprise-filing-review")
    page.locator('input[name="decision"][value="approve"]').check()
    submit(page)
    expect(page.get_by_test_id("case-status")).to_contain_text("准予")

    page.context.clear_cookies()
    page.goto("/login")
    page.locator('input[name="username"]').fill("jiangcheng")
    page.locator('input[name="password"]').fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.locator('form button[type="submit"].primary').click()
    page.goto("/cases")
    expect(page.get_by_test_id("filing-hint")).to_have_count(0)
    expect(page.get_by_test_id("start-crane_registration")).to_be_visible()
