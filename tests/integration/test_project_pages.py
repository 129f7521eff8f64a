"""Project ledger pages: the list with its filters, the ledger, and the authority's status form."""
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Project
from forms import t
from tests.conftest import csrf_from
from tests.helpers import approved_crane
from tests.integration.test_installation_api import CREW, record_number, register, registered
from tests.integration.test_personnel_pages import _login
from tests.integration.test_project_ledger_api import dismantled

XSS = "<script>alert(1)</script>"


def browser(app, username):
    client = app.test_client()
    _login(client, username)
    return client


@pytest.fixture
def site(api, world):
    """A crane in use on a Wuhan project whose name carries markup; returns (project id, crane id)."""
    register(api, "installer_wuhan", CREW)
    crane_id = approved_crane(api, "PAGE-LEDGER-1")
    registered(api, crane_id)
    with Session(world.engine) as s:
        project = s.scalar(select(Project))
        project.name = f"光谷三期{XSS}"
        s.commit()
        return project.id, crane_id


def test_the_list_filters_by_text_and_status_and_escapes_names(app, site):
    reg = browser(app, "reg_wuhan")
    home = reg.get("/inbox").get_data(as_text=True)
    assert 'href="/projects"' in home
    page = reg.get("/projects").get_data(as_text=True)
    assert "4201062026-0001" in page and "光谷三期&lt;script&gt;" in page and XSS not in page
    assert "4201062026-0001" in reg.get("/projects?q=2026-0001").get_data(as_text=True)
    assert "4201062026-0001" not in reg.get("/projects?q=%E6%BB%A8%E6%B1%9F").get_data(as_text=True)  # 滨江
    assert "4201062026-0001" not in reg.get("/projects?status=completed").get_data(as_text=True)
    assert "4201062026-0001" in reg.get("/projects?status=bogus").get_data(as_text=True)  # ignored
    assert "4201062026-0001" not in browser(app, "reg_yichang").get("/projects").get_data(as_text=True)
    contractor = browser(app, "contractor_wuhan").get("/projects").get_data(as_text=True)
    assert "4201062026-0001" in contractor and 'href="/projects"' in contractor


def test_the_ledger_page_shows_the_site_and_only_the_authority_gets_the_form(app, api, site):
    project_id, crane_id = site
    reg = browser(app, "reg_wuhan")
    page = reg.get(f"/projects/{project_id}").get_data(as_text=True)
    assert record_number(api, crane_id) in page and '<span class="badge in_use">在用</span>' in page
    assert "武汉城建工程总承包有限公司" in page and "湖北华安起重设备安装工程有限公司" in page
    assert "李建国" in page and "鄂A082020000123" in page and "安装单位技术负责人" in page
    assert 'data-testid="status-form"' in page and XSS not in page
    contractor = browser(app, "contractor_wuhan").get(f"/projects/{project_id}")
    assert contractor.status_code == 200 and 'data-testid="status-form"' not in contractor.get_data(as_text=True)
    for username in ("reg_yichang", "owner_yichang"):
        assert browser(app, username).get(f"/projects/{project_id}").status_code == 404
    english = reg.get(f"/projects/{project_id}?lang=en").get_data(as_text=True)
    assert '<span class="badge in_use">In use</span>' in english and "Under construction</span>" in english


def test_the_status_form_refuses_completion_with_the_crane_on_site_then_marks_it(app, api, site):
    project_id, crane_id = site
    reg = browser(app, "reg_wuhan")
    url = f"/projects/{project_id}/status"
    token = csrf_from(reg.get(f"/projects/{project_id}").get_data(as_text=True))
    assert reg.post(url, data={"status": "completed"}).status_code == 400  # no CSRF token
    bad = reg.post(url, data={"csrf_token": token, "status": "finished"})
    assert bad.status_code == 422 and "应为以下之一" in bad.get_data(as_text=True)
    refused = reg.post(url, data={"csrf_token": token, "status": "completed", "reason": "封顶"})
    assert refused.status_code == 409
    assert (f'data-testid="status-refused">{t("project_cranes_on_site", "zh_CN", cranes=record_number(api, crane_id))}<'
            in refused.get_data(as_text=True))
    assert browser(app, "contractor_wuhan").post(url, data={
        "csrf_token": token, "status": "completed"}).status_code == 400  # another session's token
    contractor = browser(app, "contractor_wuhan")
    own = csrf_from(contractor.get(f"/projects/{project_id}").get_data(as_text=True))
    assert contractor.post(url, data={"csrf_token": own, "status": "completed"}).status_code == 403
    yichang = browser(app, "reg_yichang")
    assert yichang.post(url, data={"csrf_token": csrf_from(yichang.get("/projects").get_data(as_text=True)),
                                   "status": "completed"}).status_code == 404
    # Dismantled: the crane has left and the form marks the project 完工.
    dismantled(api, crane_id)
    done = reg.post(url, data={"csrf_token": token, "status": "completed", "reason": "竣工验收备案"})
    assert done.status_code == 302 and done.location.endswith(f"/projects/{project_id}?done=1")
    page = reg.get(done.location).get_data(as_text=True)
    assert 'data-testid="project-status">完工' in page and "竣工验收备案" in page and "已拆离本工程" in page
    assert api("reg_wuhan").get(f"/api/v1/projects/{project_id}").get_json()["status"] == "completed"
