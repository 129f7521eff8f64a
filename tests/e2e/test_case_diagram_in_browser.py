"""In the browser: the case page draws the model the case runs on with bpmn-js (served from
/static/vendor, nothing from outside), the passed steps and the current one marked."""
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.test_crane_filing_walkthrough import file_complete_case, login

VIEWER = Path(__file__).resolve().parents[2] / "web/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"


def test_case_diagram_marks_completed_and_current_steps(page, live_server, tmp_path, shot):
    if not VIEWER.exists():
        pytest.fail("the bpmn-js viewer is not in web/static/vendor: run `make assets`")
    outside = []

    def note(request):
        if not request.url.startswith(("data:", "blob:")) and urlsplit(request.url).hostname != "127.0.0.1":
            outside.append(request.url)

    page.on("request", note)
    case_id = file_complete_case(page, tmp_path, "ZL-E2E-DIAGRAM")

    login(page, "reg_wuhan")
    page.goto(f"/cases/{case_id}")
    diagram = page.get_by_test_id("case-diagram")
    expect(diagram.locator(".djs-container svg").first).to_be_visible()
    expect(diagram).to_have_attribute("data-state", "ready")
    expect(diagram.locator('g.djs-element.cf-active[data-element-id="review_filing"]')).to_have_count(1)
    expect(diagram.locator('g.djs-element.cf-completed[data-element-id="submit_filing"]')).to_have_count(1)
    expect(diagram.locator('g.djs-element.cf-completed[data-element-id="correct_filing"]')).to_have_count(0)
    expect(page.locator(".diagram-legend")).to_contain_text("已完成")
    expect(page.locator(".diagram-legend")).to_contain_text("当前环节")
    diagram.scroll_into_view_if_needed()
    shot(page, "case-diagram")
    assert outside == [], f"the page loaded from outside: {outside}"
