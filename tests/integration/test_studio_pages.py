"""The admin studio pages: process list, modeler, diff and the migration form (with CSRF)."""
import pytest

from engine.db.uow import unit_of_work
from engine.services import definitions
from tests.conftest import DEMO_PASSWORD, csrf_from
from tests.helpers import start_filing
from workflows.catalog import get_entry

SOURCE = get_entry("crane_registration").path.read_text(encoding="utf-8")


def _browser(app, username):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    return client


def _v2(world, xml=None):
    with unit_of_work(world.engine) as s:
        definitions.deploy(s, process_key="crane_registration", file_name="crane_registration.bpmn",
                           xml=(xml or SOURCE.replace('name="备案审核"', 'name="备案审查"')).encode(),
                           actor=world.user("admin"))


def test_process_list_shows_versions_counts_and_links(app, api, world):
    start_filing(api("owner_wuhan"), serial="PAGE-1")
    _v2(world)
    html = _browser(app, "admin").get("/admin/definitions").get_data(as_text=True)
    assert 'data-testid="version-crane_registration-2"' in html and "/admin/studio/crane_registration/v1" in html
    assert "/api/v1/studio/processes/crane_registration/versions/2/bpmn" in html
    assert 'action="/admin/studio/crane_registration/diff"' in html and "系统管理员" in html


def test_modeler_page_loads_only_our_own_scripts(app, world):
    r = _browser(app, "admin").get("/admin/studio/crane_registration/v1")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "bpmn-modeler.production.min.js" in html and "studio-modeler.js" in html
    assert 'data-deploy-url="/api/v1/studio/processes/crane_registration/deploy"' in html
    assert "<script>" not in html and "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert _browser(app, "admin").get("/admin/studio/crane_registration/v9").status_code == 404


def test_diff_page_lists_the_changes(app, world):
    _v2(world)
    html = _browser(app, "admin").get("/admin/studio/crane_registration/diff?from=1&to=2").get_data(as_text=True)
    assert 'data-element-id="review_filing"' in html and "备案审核" in html and "备案审查" in html
    assert _browser(app, "admin").get("/admin/studio/crane_registration/diff?from=x&to=2").status_code == 422


def test_migration_form_moves_the_selected_cases(app, api, world):
    case = start_filing(api("owner_wuhan"), serial="PAGE-2")
    _v2(world)
    admin = _browser(app, "admin")
    page = admin.get("/admin/studio/crane_registration/migration?from=1&to=2").get_data(as_text=True)
    assert f'value="{case["id"]}" aria-label="#{case["id"]}" checked' in page
    r = admin.post("/admin/studio/crane_registration/migration", data={
        "csrf_token": csrf_from(page), "from_version": "1", "to_version": "2", "case_ids": [str(case["id"])]})
    assert r.status_code == 200
    assert 'data-testid="migration-results"' in r.get_data(as_text=True)
    assert api("owner_wuhan").get(f"/api/v1/cases/{case['id']}").get_json()["definition_version"] == 2
    no_token = admin.post("/admin/studio/crane_registration/migration",
                          data={"from_version": "1", "to_version": "2", "case_ids": [str(case["id"])]})
    assert no_token.status_code == 400


@pytest.mark.parametrize("url", ["/admin/definitions", "/admin/studio/crane_registration/v1",
                                 "/admin/studio/crane_registration/diff?from=1&to=2",
                                 "/admin/studio/crane_registration/migration"])
def test_studio_pages_are_for_admins_only(app, world, url):
    assert _browser(app, "reg_province").get(url).status_code == 403
