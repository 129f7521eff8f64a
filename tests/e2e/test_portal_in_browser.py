"""The enterprise portal in a browser: a crane filing form in steps, a draft saved and reopened,
uploads with progress and previews, the dashboard with the returned task first, and the dashboard
on a phone. Writes docs/screenshots/portal-form.png and portal-dashboard.png."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_crane_filing_walkthrough import DOCUMENTS, login

pytestmark = pytest.mark.e2e

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2213fd60000000049454e44ae426082")
REASON = "产品合格证扫描件不清晰，请重新上传"


def fill_step_one(page, serial: str) -> None:
    page.locator('select[name="crane_type"]').select_option("tower_crane")
    for name, value in {"model": "QTZ125(TC6013-8)", "manufacturer": "徐工集团工程机械股份有限公司",
                        "manufacturing_licence_no": "TS2410135-2027", "factory_serial": serial,
                        "manufacture_date": "2023-05-10", "rated_moment_knm": "1250",
                        "product_certificate_no": f"HG-{serial}", "supervision_certificate_no": f"JJ-{serial}",
                        "purchase_date": "2023-06-01"}.items():
        page.locator(f'[name="{name}"]').fill(value)


def test_owner_fills_a_filing_in_steps_with_a_draft_and_uploads(page, tmp_path, shot):
    login(page, "owner_wuhan")
    page.goto("/cases")
    with page.expect_navigation():
        page.get_by_test_id("start-crane_registration").click()
    task_url = page.url
    assert re.search(r"/tasks/\d+$", task_url)

    # Step 1 only; the documents are the next step.
    expect(page.get_by_test_id("step-indicator")).to_be_visible()
    expect(page.locator('.form-step[data-step="1"]')).to_be_visible()
    expect(page.locator('.form-step[data-step="2"]')).to_be_hidden()
    fill_step_one(page, "PORTAL-E2E-1")
    with page.expect_navigation():
        page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("draft-saved")).to_be_visible()

    page.goto(task_url)  # reopened: the draft is back
    expect(page.get_by_test_id("draft-restored")).to_be_visible()
    expect(page.locator('[name="model"]')).to_have_value("QTZ125(TC6013-8)")
    expect(page.locator('[name="factory_serial"]')).to_have_value("PORTAL-E2E-1")

    page.get_by_test_id("step-next").click()
    expect(page.locator('.form-step[data-step="2"]')).to_be_visible()
    expect(page.locator('.form-step[data-step="1"]')).to_be_hidden()

    # Refused before sending (type), and by the server with its message (bytes are not a PNG).
    photo_field = page.locator('[data-field="documents.photo"]')
    notes = tmp_path / "notes.txt"
    notes.write_text("not a document")
    page.get_by_test_id("file-documents.photo").set_input_files(str(notes))
    expect(photo_field.get_by_test_id("upload-error")).to_contain_text("仅支持")
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"GIF89a not really a png")
    page.get_by_test_id("file-documents.photo").set_input_files(str(fake))
    expect(photo_field.get_by_test_id("upload-error").nth(1)).to_contain_text("文件类型")
    for button in photo_field.get_by_test_id("remove-upload").all()[::-1]:
        button.click()
    expect(photo_field.locator("li.upload")).to_have_count(0)

    photo = tmp_path / "crane-photo.png"
    photo.write_bytes(PNG_1PX)
    page.get_by_test_id("file-documents.photo").set_input_files(str(photo))
    uploaded = photo_field.locator("li.upload.done")
    expect(uploaded).to_have_count(1)
    expect(uploaded.get_by_test_id("upload-progress")).to_have_attribute("value", "100")
    expect(uploaded.locator(".upload-percent")).to_have_text("100%")
    expect(uploaded.get_by_test_id("upload-thumb")).to_be_visible()
    for name in DOCUMENTS:
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
        page.get_by_test_id(f"file-documents.{name}").set_input_files(str(pdf))
        done = page.locator(f'[data-field="documents.{name}"] li.upload.done')
        expect(done.locator(".pdf-icon")).to_be_visible()
        expect(done.locator("a.upload-preview")).to_have_attribute("href", re.compile(r"/attachments/\d+\?inline=1"))
    shot(page, "portal-form")

    with page.expect_navigation():
        page.get_by_test_id("submit-task").click()
    expect(page.locator(".alert.ok")).to_be_visible()
    case_id = int(re.search(r"/cases/(\d+)", page.url).group(1))

    # 武汉 returns it with a reason; the owner's dashboard puts it on top.
    login(page, "reg_wuhan")
    page.goto("/inbox")
    row = page.locator("tr[data-task-id]").filter(has=page.locator(f'a[href="/cases/{case_id}"]'))
    review_id = row.get_attribute("data-task-id")
    page.goto(f"/tasks/{review_id}")
    page.get_by_label("退回补正").check()
    page.locator('[name="reason"]').fill(REASON)
    with page.expect_navigation():
        page.get_by_test_id("submit-task").click()

    login(page, "owner_wuhan")
    page.goto("/cases")
    returned = page.get_by_test_id("returned-tasks")
    expect(returned).to_contain_text(REASON)
    first_section = page.locator(".board-section").first
    expect(first_section).to_have_attribute("data-testid", "returned-tasks")
    case_row = page.locator(f'tr[data-case-id="{case_id}"]')
    expect(case_row.get_by_test_id("current-step")).not_to_have_text("—")
    expect(case_row.get_by_test_id("holder")).to_contain_text("武汉鑫塔")
    shot(page, "portal-dashboard")
    with page.expect_navigation():
        returned.locator("a.button.primary").first.click()
    expect(page.get_by_test_id("return-reason")).to_contain_text(REASON)


def test_dashboard_fits_a_phone_without_horizontal_scroll(browser, live_server, page):
    login(page, "owner_wuhan")
    page.goto("/cases")
    with page.expect_navigation():
        page.get_by_test_id("start-crane_registration").click()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=live_server, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        login(phone, "owner_wuhan")
        phone.goto("/cases")
        expect(phone.get_by_test_id("my-cases")).to_be_visible()
        widths = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"horizontal scroll on a phone: {widths}"
    finally:
        context.close()
