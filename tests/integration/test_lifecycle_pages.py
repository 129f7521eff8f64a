"""The crane's later procedures through the HTML pages, by the demo accounts: use registration,
dismantling notice, jacking / anchorage notice and record cancellation, each in its approve path
and in its return / reject paths. Set-up goes through the API; the steps under test are done on
the generic task form (GET /tasks/<id>, POST /tasks/<id>) and the start buttons of /cases."""
import io
import re
from datetime import timedelta

from tests.conftest import csrf_from
from tests.helpers import PDF, approved_crane, upload
from tests.integration import test_installation_api as site
from tests.integration import test_jacking_api as jacking
from tests.integration.test_installation_pages import _kept_ids
from tests.integration.test_personnel_pages import _login
from tests.integration.test_record_cancellation_api import _filed_crane, _request

REASON_REQUIRED = "退回补正或不予办理时必须填写理由。"
REGISTRATION_DOCS = ("lease_contract", "management_rules", "emergency_plan")
DISMANTLING_DOCS = ("dismantling_scheme", "emergency_plan", "safety_agreement")
JACKING_DOCS = ("jacking_scheme", "technical_briefing")
CREW_FORM = {"crew.0.name": "李建国", "crew.0.certificate_no": "鄂A082020000123",
             "crew.1.name": "王小军", "crew.1.certificate_no": "鄂A042021000456",
             "crew.2.name": "王小军", "crew.2.certificate_no": "鄂A012021000789"}
OPERATORS_FORM = {"operators.0.name": "赵大勇", "operators.0.certificate_no": "鄂A052022000321",
                  "operators.1.name": "赵大勇", "operators.1.certificate_no": "鄂A042022000654"}


# ---------------------------------------------------------------------------------------------
# helpers

def _browser(app, username):
    client = app.test_client()
    _login(client, username)
    return client


def _task_url(api, username, name):
    items = api(username).get("/api/v1/tasks").get_json()["items"]
    mine = [t for t in items if t["name"] == name]
    assert len(mine) == 1, (username, name, items)
    return f"/tasks/{mine[0]['id']}"


def _case_of(api, username, task_name):
    items = api(username).get("/api/v1/tasks").get_json()["items"]
    (task,) = [t for t in items if t["name"] == task_name]
    return task["case_id"]


def _open_steps(api, username):
    return [t["name"] for t in api(username).get("/api/v1/tasks").get_json()["items"]]


def _pdfs(*names):
    return {f"documents.{name}": (io.BytesIO(PDF), f"{name}.pdf") for name in names}


def _kept(page):
    """The keep boxes of the uploads a page already holds, as a browser posts them back."""
    return {f"documents.{name}.keep": ids for name, ids in _kept_ids(page).items()}


def _submit(client, url, page, fields, files=None):
    data = {"csrf_token": csrf_from(page), **fields}
    if files:
        return client.post(url, data={**data, **files}, content_type="multipart/form-data")
    return client.post(url, data=data)


def _text(response):
    return response.get_data(as_text=True)


def _done(client, response):
    """A submission that went through: back to the case page, which is returned as text."""
    assert response.status_code == 302, _text(response)[:3000]
    assert re.search(r"/cases/\d+\?done=1$", response.location), response.location
    return _text(client.get(response.location))


def _field_error(page, key, message):
    """The error is rendered inside the field it belongs to."""
    block = re.search(rf'<div class="field has-error" data-field="{re.escape(key)}">(.*?)</div>', page, re.S)
    assert block is not None, f"{key} is not marked as erroneous"
    assert message in block.group(1), block.group(1)


def _reason_required(client, url, decision):
    """A return / reject without a reason is refused on the page; returns the re-rendered page."""
    page = _text(client.get(url))
    bad = _submit(client, url, page, {"decision": decision})
    assert bad.status_code == 422
    text = _text(bad)
    assert "提交的内容有误，请按提示修改。" in text
    _field_error(text, "reason", REASON_REQUIRED)
    return text


def _crane(api, crane_id):
    return api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}").get_json()


def _in_use_crane(api, serial):
    site.register(api, "installer_wuhan", site.CREW)
    crane_id = approved_crane(api, serial)
    site.registered(api, crane_id)
    return crane_id


def _start_on_page(client, process_key):
    home = _text(client.get("/cases"))
    assert f'data-testid="start-{process_key}"' in home
    r = client.post(f"/cases/start/{process_key}", data={"csrf_token": csrf_from(home)})
    assert r.status_code == 302 and re.search(r"/tasks/\d+$", r.location), r.location
    return r.location, _text(client.get(r.location))


# ---------------------------------------------------------------------------------------------
# 1. use registration

def _accepted_crane(api, serial):
    site.register(api, "installer_wuhan", site.CREW)
    site.register(api, "contractor_wuhan", site.OPERATORS)
    crane_id = approved_crane(api, serial)
    site.accepted(api, crane_id, site.today_china())
    return crane_id


def test_use_registration_is_applied_for_and_issued_in_the_pages(app, world, api):
    """The contractor's registration form opens pre-filled with the crane, refuses a crew without
    a signaller (422, in Chinese, at the field), then lodges; the regulator sees the package, cannot
    refuse without a reason, and approves: the crane is in use with a 鄂A-TDJ<year>NNNNN number."""
    crane_id = _accepted_crane(api, "PAGE-REG-1")
    contractor = _browser(app, "contractor_wuhan")
    url = _task_url(api, "contractor_wuhan", "apply_registration")
    page = _text(contractor.get(url))
    assert "申请使用登记" in page
    assert f'name="crane_id" value="{crane_id}"' in page
    assert 'name="operators.0.certificate_no"' in page and 'name="equipment_manager"' in page
    assert all(f'name="documents.{d}"' in page for d in REGISTRATION_DOCS)
    form = {"crane_id": str(crane_id), "equipment_manager": "黄河", "operators.0.name": "赵大勇",
            "operators.0.certificate_no": "鄂A052022000321"}
    bad = _submit(contractor, url, page, form, _pdfs(*REGISTRATION_DOCS))
    assert bad.status_code == 422
    page = _text(bad)
    assert "作业人员缺少有效的特种作业证书：" in page and "起重信号司索工" in page
    assert _crane(api, crane_id)["status"] == "accepted"
    assert set(_kept_ids(page)) == set(REGISTRATION_DOCS)  # the uploads stay attached
    case = _done(contractor, _submit(contractor, url, page, {**form, **OPERATORS_FORM, **_kept(page)}))
    assert "使用登记审核" in case  # the regulator's step is open
    assert _crane(api, crane_id)["status"] == "registration_pending"

    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_registration")
    page = _text(regulator.get(url))
    assert 'data-testid="submission"' in page and "黄河" in page and "鄂A042022000654" in page
    assert all(f"{d}.pdf" in page for d in REGISTRATION_DOCS)
    assert 'name="decision" value="approve"' in page and "> 同意</label>" in page and "> 不同意</label>" in page
    _reason_required(regulator, url, "reject")
    case = _done(regulator, _submit(regulator, url, page, {"decision": "approve"}))
    assert "<strong>核发使用登记证明</strong>" in case and "无待办环节。" in case
    crane = _crane(api, crane_id)
    assert crane["status"] == "in_use"
    assert re.fullmatch(rf"鄂A-TDJ{site.today_china().year}\d{{5}}", crane["use_registration_no"])
    crane_page = _text(contractor.get(f"/cranes/{crane_id}"))
    assert ">在用<" in crane_page
    assert f'data-testid="use-registration-no">{crane["use_registration_no"]}' in crane_page
    assert _open_steps(api, "contractor_wuhan") == []


def test_use_registration_is_returned_corrected_and_refused_in_the_pages(app, world, api):
    """The regulator returns the application with a reason (422 without one) and the crane goes back
    to accepted; the contractor's correction form holds the first application and is lodged again;
    the regulator then refuses it with a reason and the case ends 不予 with the crane still accepted."""
    crane_id = _accepted_crane(api, "PAGE-REG-2")
    contractor_api = api("contractor_wuhan")
    application = {"crane_id": crane_id, "equipment_manager": "黄河",
                   "operators": [{"name": "赵大勇", "certificate_no": "鄂A052022000321"},
                                 {"name": "赵大勇", "certificate_no": "鄂A042022000654"}],
                   "documents": {d: [upload(contractor_api, name=f"{d}.pdf")] for d in REGISTRATION_DOCS}}
    site.complete(api, "contractor_wuhan", _case_of(api, "contractor_wuhan", "apply_registration"), application)

    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_registration")
    page = _reason_required(regulator, url, "return")
    assert _crane(api, crane_id)["status"] == "registration_pending"
    case = _done(regulator, _submit(regulator, url, page, {"decision": "return", "reason": "租赁合同未盖章"}))
    assert "租赁合同未盖章" in case and "补正登记申请" in case
    assert _crane(api, crane_id)["status"] == "accepted"

    contractor = _browser(app, "contractor_wuhan")
    url = _task_url(api, "contractor_wuhan", "correct_registration")
    page = _text(contractor.get(url))
    assert "补正登记申请" in page and 'value="黄河"' in page and 'value="鄂A042022000654"' in page
    assert re.search(r'data-testid="return-reason">.*租赁合同未盖章', page)
    assert set(_kept_ids(page)) == set(REGISTRATION_DOCS)
    form = {"crane_id": str(crane_id), "equipment_manager": "黄河", **OPERATORS_FORM, **_kept(page)}
    bad = _submit(contractor, url, page, {**form, "equipment_manager": ""})
    assert bad.status_code == 422
    _field_error(_text(bad), "equipment_manager", "此项为必填项。")
    _done(contractor, _submit(contractor, url, page, form, {"documents.other": (io.BytesIO(PDF), "seal.pdf")}))
    assert _crane(api, crane_id)["status"] == "registration_pending"

    url = _task_url(api, "reg_wuhan", "review_registration")
    assert "seal.pdf" in _text(regulator.get(url))
    page = _reason_required(regulator, url, "reject")
    case = _done(regulator, _submit(regulator, url, page, {"decision": "reject", "reason": "设备未按期维护保养"}))
    assert 'data-testid="case-status">不予<' in case and "设备未按期维护保养" in case
    crane = _crane(api, crane_id)
    assert crane["status"] == "accepted" and crane["use_registration_no"] is None
    assert _open_steps(api, "contractor_wuhan") == []

    # After the refusal the contractor applies again from /cases, picking the accepted crane.
    home = _text(contractor.get("/cases"))
    assert f'<option value="{crane_id}">{crane["record_number"]}' in home
    wrong = contractor.post("/cases/start/use_registration", data={"csrf_token": csrf_from(home), "crane_id": "999999"})
    assert wrong.status_code == 422 and 'data-testid="start-error"' in _text(wrong)
    r = contractor.post("/cases/start/use_registration", data={"csrf_token": csrf_from(home), "crane_id": str(crane_id)})
    assert r.status_code == 302 and re.search(r"/tasks/\d+$", r.location), _text(r)[:2000]
    page = _text(contractor.get(r.location))
    assert f'value="{crane_id}"' in page
    _done(contractor, _submit(contractor, r.location, page, {"crane_id": str(crane_id), "equipment_manager": "黄河",
                                                             **OPERATORS_FORM}, _pdfs(*REGISTRATION_DOCS)))
    assert _crane(api, crane_id)["status"] == "registration_pending"
    home = _text(contractor.get("/cases"))
    assert 'data-testid="start-use_registration" disabled' in home  # nothing left to register


# ---------------------------------------------------------------------------------------------
# 2. dismantling notice

def _works_form(api, crane_id, **overrides):
    form = {"record_number": _crane(api, crane_id)["record_number"], "planned_start": site.start_day().isoformat(),
            "erected_height_m": "45.5", "technical_lead": "孙建国", "safety_officer": "周安", **CREW_FORM}
    form.update(overrides)
    return form


def test_dismantling_notice_is_lodged_passed_and_acknowledged_in_the_pages(app, world, api):
    """The installer starts a dismantling notice from /cases; a start inside the 2-workday lead time
    is refused at the date (422, Chinese); lodged, it cancels the use registration; the general
    contractor and the supervisor pass it on their review pages and the authority acknowledges it:
    the crane is filed and idle again, off the project."""
    crane_id = _in_use_crane(api, "PAGE-DIS-1")
    number = _crane(api, crane_id)["record_number"]
    installer = _browser(app, "installer_wuhan")
    url, page = _start_on_page(installer, "dismantling_notice")
    assert "填报拆卸告知" in page
    assert 'name="record_number"' in page and 'name="crew.0.certificate_no"' in page
    assert all(f'name="documents.{d}"' in page for d in DISMANTLING_DOCS)
    assert 'name="project_code"' not in page  # the project is the one the crane stands on
    too_soon = site.today_china() + timedelta(days=1)
    bad = _submit(installer, url, page, _works_form(api, crane_id, planned_start=too_soon.isoformat()),
                  _pdfs(*DISMANTLING_DOCS))
    assert bad.status_code == 422
    page = _text(bad)
    _field_error(page, "planned_start", "告知应在安装前至少 2 个工作日提交")
    crane = _crane(api, crane_id)
    assert crane["status"] == "in_use" and crane["use_registration_no"]
    case = _done(installer, _submit(installer, url, page, {**_works_form(api, crane_id), **_kept(page)}))
    assert "施工总承包单位审核" in case and "监理单位审核" in case
    crane = _crane(api, crane_id)
    assert crane["status"] == "dismantle_notified" and crane["use_registration_no"] is None

    for username, step in (("contractor_wuhan", "contractor_review"), ("supervisor_wuhan", "supervisor_review")):
        party = _browser(app, username)
        url = _task_url(api, username, step)
        page = _text(party.get(url))
        assert number in page and "dismantling_scheme.pdf" in page and "孙建国" in page
        assert 'name="decision" value="pass"' in page and 'name="decision" value="return"' in page
        case = _done(party, _submit(party, url, page, {"decision": "pass"}))
    assert "告知审核" in case

    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_notice")
    page = _text(regulator.get(url))
    assert number in page and "safety_agreement.pdf" in page
    assert 'name="decision" value="approve"' in page and 'value="reject"' not in page  # notices are not refused
    case = _done(regulator, _submit(regulator, url, page, {"decision": "approve"}))
    assert 'data-testid="case-status">准予<' in case and "无待办环节。" in case
    crane = _crane(api, crane_id)
    assert (crane["status"], crane["project"]) == ("filed", None)


def test_dismantling_notice_returned_by_the_supervisor_and_the_authority_in_the_pages(app, world, api):
    """A party's return and the authority's return each need a reason (422 without); the installer's
    correction form is pre-filled with the notice, refuses a crew member whose name does not match
    the certificate, and goes back to both parties; the crane stays 拆卸告知 throughout."""
    crane_id = _in_use_crane(api, "PAGE-DIS-2")
    number = _crane(api, crane_id)["record_number"]
    r = api("installer_wuhan").post("/api/v1/cases", json={"process_key": "dismantling_notice",
                                                           "data": site.dismantling_data(api, crane_id)})
    assert r.status_code == 201, _text(r)
    site.complete(api, "contractor_wuhan", r.get_json()["id"], {"decision": "pass"})

    supervisor = _browser(app, "supervisor_wuhan")
    url = _task_url(api, "supervisor_wuhan", "supervisor_review")
    page = _reason_required(supervisor, url, "return")
    case = _done(supervisor, _submit(supervisor, url, page, {"decision": "return", "reason": "拆卸方案未附群塔作业措施"}))
    assert "拆卸方案未附群塔作业措施" in case and "补正拆卸告知" in case

    installer = _browser(app, "installer_wuhan")
    url = _task_url(api, "installer_wuhan", "correct_dismantling")
    page = _text(installer.get(url))
    assert f'value="{number}"' in page and 'value="孙建国"' in page and 'value="鄂A012021000789"' in page
    assert set(_kept_ids(page)) == set(DISMANTLING_DOCS)
    form = {**_works_form(api, crane_id), **_kept(page)}
    bad = _submit(installer, url, page, {**form, "crew.0.name": "张三"})
    assert bad.status_code == 422
    _field_error(_text(bad), "crew.0.certificate_no", "证书 鄂A082020000123 未在本单位人员库中登记，或与姓名不符。")
    case = _done(installer, _submit(installer, url, page, form))
    assert "施工总承包单位审核" in case and "监理单位审核" in case
    assert _crane(api, crane_id)["status"] == "dismantle_notified"

    site.complete(api, "contractor_wuhan", r.get_json()["id"], {"decision": "pass"})
    site.complete(api, "supervisor_wuhan", r.get_json()["id"], {"decision": "pass"})
    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_notice")
    page = _reason_required(regulator, url, "return")
    case = _done(regulator, _submit(regulator, url, page, {"decision": "return", "reason": "应急预案不完整"}))
    assert "应急预案不完整" in case and "补正拆卸告知" in case
    assert _open_steps(api, "installer_wuhan") == ["correct_dismantling"]
    assert _crane(api, crane_id)["status"] == "dismantle_notified"


# ---------------------------------------------------------------------------------------------
# 3. jacking / anchorage notice

def _signoff_form(**overrides):
    form = {"conclusion": "pass", "accepted_on": site.today_china().isoformat(), "verticality_permille": "1.5",
            "measured_at": "free", "safety_devices_ok": "1", "structure_ok": "1", "foundation_ok": "1",
            "clearance_ok": "1"}
    form.update(overrides)
    return form


def test_jacking_notice_is_lodged_acknowledged_and_accepted_in_the_pages(app, world, api):
    """The installer starts a jacking notice from /cases; jacking without the number of sections is
    refused at that field; the authority acknowledges it on its review page; the user's acceptance
    form refuses a pass with 4.5‰ verticality, and both parties' passes close the case with the
    crane still in use."""
    crane_id = _in_use_crane(api, "PAGE-JACK-1")
    number = _crane(api, crane_id)["record_number"]
    installer = _browser(app, "installer_wuhan")
    url, page = _start_on_page(installer, "jacking_notice")
    assert 'name="works" value="jacking"' in page and 'name="added_sections"' in page
    assert all(f'name="documents.{d}"' in page for d in JACKING_DOCS)
    form = _works_form(api, crane_id, erected_height_m="78", works="jacking")
    bad = _submit(installer, url, page, form, _pdfs(*JACKING_DOCS))
    assert bad.status_code == 422
    page = _text(bad)
    _field_error(page, "added_sections", "此项为必填项。")
    case = _done(installer, _submit(installer, url, page, {**form, "added_sections": "6", **_kept(page)}))
    assert number in case and "告知审核" in case

    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_jacking")
    page = _text(regulator.get(url))
    assert "jacking_scheme.pdf" in page and "technical_briefing.pdf" in page and "顶升加节" in page
    case = _done(regulator, _submit(regulator, url, page, {"decision": "approve"}))
    assert "使用单位组织验收" in case

    contractor = _browser(app, "contractor_wuhan")
    url = _task_url(api, "contractor_wuhan", "signoff_user")
    page = _text(contractor.get(url))
    assert 'name="verticality_permille"' in page and 'name="safety_devices_ok"' in page
    bad = _submit(contractor, url, page, _signoff_form(verticality_permille="4.5"))
    assert bad.status_code == 422
    _field_error(_text(bad), "verticality_permille", "垂直度偏差超过 4.0‰，不能验收合格。")
    case = _done(contractor, _submit(contractor, url, page, _signoff_form()))
    assert "监理单位验收签字" in case
    case_id = _case_of(api, "supervisor_wuhan", "signoff_supervisor")
    supervisor = _browser(app, "supervisor_wuhan")
    url = _task_url(api, "supervisor_wuhan", "signoff_supervisor")
    page = _text(supervisor.get(url))
    case = _done(supervisor, _submit(supervisor, url, page, _signoff_form()))
    assert "<strong>顶升/附着验收合格</strong>" in case and "无待办环节。" in case
    assert api("installer_wuhan").get(f"/api/v1/cases/{case_id}").get_json()["status"] == "completed"
    assert _crane(api, crane_id)["status"] == "in_use"


def test_jacking_notice_returned_and_acceptance_failed_in_the_pages(app, world, api):
    """The authority's return needs a reason (422 without) and reopens the notice, pre-filled, for
    the installer; a failed acceptance needs a reason too and sends the installer a rectification
    form that refuses an empty account; after it the user signs again, the crane staying in use."""
    crane_id = _in_use_crane(api, "PAGE-JACK-2")
    case_id = jacking.lodge(api, crane_id)["id"]
    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_jacking")
    page = _reason_required(regulator, url, "return")
    case = _done(regulator, _submit(regulator, url, page, {"decision": "return", "reason": "方案缺少附着计算书"}))
    assert "方案缺少附着计算书" in case and "补正告知" in case

    installer = _browser(app, "installer_wuhan")
    url = _task_url(api, "installer_wuhan", "correct_jacking")
    page = _text(installer.get(url))
    assert 'name="works" value="both" checked' in page and 'name="added_sections" value="6"' in page
    assert set(_kept_ids(page)) == set(JACKING_DOCS)
    form = {**_works_form(api, crane_id, erected_height_m="78", works="both", added_sections="6"), **_kept(page)}
    case = _done(installer, _submit(installer, url, page, form,
                                    {"documents.anchorage_design": (io.BytesIO(PDF), "anchorage.pdf")}))
    assert "告知审核" in case
    regulator_page = _text(regulator.get(_task_url(api, "reg_wuhan", "review_jacking")))
    assert "anchorage.pdf" in regulator_page
    site.complete(api, "reg_wuhan", case_id, {"decision": "approve"})
    site.complete(api, "contractor_wuhan", case_id, site.signoff(site.today_china()))

    supervisor = _browser(app, "supervisor_wuhan")
    url = _task_url(api, "supervisor_wuhan", "signoff_supervisor")
    page = _text(supervisor.get(url))
    bad = _submit(supervisor, url, page, _signoff_form(conclusion="fail"))
    assert bad.status_code == 422
    _field_error(_text(bad), "reason", REASON_REQUIRED)
    case = _done(supervisor, _submit(supervisor, url, page, _signoff_form(conclusion="fail", reason="第三道附着杆未调平")))
    assert "第三道附着杆未调平" in case and "验收整改" in case

    url = _task_url(api, "installer_wuhan", "rectify_jacking")
    page = _text(installer.get(url))
    assert 'name="measures"' in page and 'name="documents.evidence"' in page
    bad = _submit(installer, url, page, {"measures": ""})
    assert bad.status_code == 422
    _field_error(_text(bad), "measures", "此项为必填项。")
    case = _done(installer, _submit(installer, url, page, {"measures": "附着杆已调平复紧"},
                                    {"documents.evidence": (io.BytesIO(PDF), "levelled.pdf")}))
    assert "使用单位组织验收" in case
    assert api("installer_wuhan").get(f"/api/v1/cases/{case_id}").get_json()["status"] == "running"
    assert _crane(api, crane_id)["status"] == "in_use"


# ---------------------------------------------------------------------------------------------
# 4. record cancellation

def test_record_cancellation_is_requested_and_approved_in_the_pages(app, world, api):
    """The owner starts a cancellation from /cases; a transfer without the transferee is refused at
    both transferee fields (422, Chinese); the scrapping request with its evidence reaches the filing
    authority, whose page shows it read-only and whose approval cancels the crane's record."""
    crane_id = _filed_crane(api, "PAGE-CANCEL-1")
    owner = _browser(app, "owner_wuhan")
    url, page = _start_on_page(owner, "record_cancellation")
    assert "填报注销申请" in page
    assert 'name="crane_id"' in page and '<option value="transfer"' in page and 'name="transferee_uscc"' in page
    assert 'name="documents.evidence"' in page
    bad = _submit(owner, url, page, {"crane_id": str(crane_id), "reason": "transfer"})
    assert bad.status_code == 422
    page = _text(bad)
    for key in ("transferee_name", "transferee_uscc"):
        _field_error(page, key, "产权转让须填写受让单位名称和统一社会信用代码。")
    form = {"crane_id": str(crane_id), "reason": "scrapped", "remarks": "结构件严重锈蚀，已报废"}
    case = _done(owner, _submit(owner, url, page, form, {"documents.evidence": (io.BytesIO(PDF), "scrap.pdf")}))
    assert "备案注销（报废）" in case and "注销审核" in case
    assert _crane(api, crane_id)["status"] == "filed"

    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_cancellation")
    page = _text(regulator.get(url))
    assert 'data-testid="submission"' in page and "结构件严重锈蚀，已报废" in page and "scrap.pdf" in page
    assert 'value="scrapped" selected' in page
    assert 'name="decision" value="approve"' in page and "> 同意</label>" in page and "> 不同意</label>" in page
    case = _done(regulator, _submit(regulator, url, page, {"decision": "approve"}))
    assert 'data-testid="case-status">准予<' in case and "<strong>备案注销</strong>" in case
    assert "无待办环节。" in case
    assert _crane(api, crane_id)["status"] == "cancelled"


def test_record_cancellation_is_returned_corrected_and_refused_in_the_pages(app, world, api):
    """The authority's return needs a reason (422 without); the owner's correction form holds the
    request, refuses a crane that is not the owner's, and goes back with new evidence; the authority
    refuses it with a reason (422 without): the case ends 不予 and the crane stays filed."""
    crane_id = _filed_crane(api, "PAGE-CANCEL-2")
    r = _request(api, crane_id, remarks="已报废")
    assert r.status_code == 201, _text(r)
    regulator = _browser(app, "reg_wuhan")
    url = _task_url(api, "reg_wuhan", "review_cancellation")
    page = _reason_required(regulator, url, "return")
    case = _done(regulator, _submit(regulator, url, page, {"decision": "return", "reason": "请补充报废证明"}))
    assert "请补充报废证明" in case and "补正注销申请" in case

    owner = _browser(app, "owner_wuhan")
    url = _task_url(api, "owner_wuhan", "correct_cancellation")
    page = _text(owner.get(url))
    assert f'name="crane_id" value="{crane_id}"' in page and 'value="scrapped" selected' in page
    form = {"crane_id": str(crane_id), "reason": "scrapped", "remarks": "已报废，附报废证明"}
    bad = _submit(owner, url, page, {**form, "crane_id": str(crane_id + 1000)})
    assert bad.status_code == 422
    _field_error(_text(bad), "crane_id", "该设备不存在或不属于本单位。")
    case = _done(owner, _submit(owner, url, page, form, {"documents.evidence": (io.BytesIO(PDF), "scrap-proof.pdf")}))
    assert "注销审核" in case

    url = _task_url(api, "reg_wuhan", "review_cancellation")
    assert "scrap-proof.pdf" in _text(regulator.get(url))
    page = _reason_required(regulator, url, "reject")
    case = _done(regulator, _submit(regulator, url, page, {"decision": "reject", "reason": "设备仍在使用"}))
    assert 'data-testid="case-status">不予<' in case and "设备仍在使用" in case and "无待办环节。" in case
    assert _crane(api, crane_id)["status"] == "filed"
    assert _open_steps(api, "owner_wuhan") == []
