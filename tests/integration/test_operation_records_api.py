"""A crane's operation records (self-check, maintenance, repair, fault): who may write them, the
rules they follow, the monthly self-check count, open faults and the refit maintenance that gate
the next notice, the integrated owner's rules, and their place in the safety technical archive."""
import io
import json
import zipfile
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.db import Crane, Enterprise
from engine.services.settings import CHINA_TZ
from tests.conftest import csrf_from
from tests.helpers import approved_crane, upload, uscc_of
from tests.integration import test_installation_api as site
from tests.integration import test_jacking_api as jacking
from tests.integration.test_personnel_pages import _login


@pytest.fixture
def in_use(api):
    site.register(api, "installer_wuhan", site.CREW)
    crane_id = approved_crane(api, "OPS-1")
    site.registered(api, crane_id)
    return crane_id


def today():
    return datetime.now(CHINA_TZ).date()


def record(api, username, crane_id, status=201, **overrides):
    data = {"kind": "self_check", "performed_on": today().isoformat(), "person_in_charge": "黄河",
            "result": "normal", "items": ["structure", "wire_rope", "safety_devices"], "summary": "月度检查，无异常"}
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    r = api(username).post(f"/api/v1/cranes/{crane_id}/operations", json=data)
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


def maintenance(**overrides):
    return {"kind": "maintenance", "result": None, "items": None, "summary": "更换起升钢丝绳，紧固标准节螺栓", **overrides}


def test_the_site_records_self_checks_and_others_may_not(api, in_use):
    done = record(api, "contractor_wuhan", in_use)
    assert done["kind_label"] == "定期自行检查" and done["performer"]["name"] == "武汉城建工程总承包有限公司"
    assert done["project_id"] is not None
    record(api, "installer_wuhan", in_use)  # the installer of the current installation checks too
    refused = record(api, "owner_wuhan", in_use, status=422)
    assert refused["errors"]["kind"] == ["定期自行检查由现场使用单位或其安装单位记录。"]
    assert record(api, "supervisor_wuhan", in_use, status=403)["message"].startswith("只有产权单位")
    assert record(api, "reg_wuhan", in_use, status=403)
    record(api, "owner_yichang", in_use, status=404)  # cannot even see the crane
    errors = record(api, "contractor_wuhan", in_use, status=422, **assessment(api))["errors"]
    assert errors == {"kind": ["安全评估由产权单位委托并登记。"]}
    listing = api("reg_wuhan").get(f"/api/v1/cranes/{in_use}/operations").get_json()
    assert [r["kind"] for r in listing["items"]] == ["self_check", "self_check"]
    assert listing["may_record"] is False
    assert api("contractor_wuhan").get(f"/api/v1/cranes/{in_use}/operations").get_json()["may_record"] is True


def test_each_field_is_checked_with_its_rule(world, api, in_use):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    errors = record(api, "contractor_wuhan", in_use, status=422, performed_on=tomorrow)["errors"]
    assert errors == {"performed_on": ["日期不能晚于今天。"]}
    errors = record(api, "contractor_wuhan", in_use, status=422, items=[], result=None)["errors"]
    assert errors == {"items": ["定期自行检查应至少勾选一项检查项目。"], "result": ["此项为必填项。"]}
    errors = record(api, "contractor_wuhan", in_use, status=422, items=["structure", "structure", "nonsense"])["errors"]
    assert "items" in errors
    errors = record(api, "owner_wuhan", in_use, status=422, kind="maintenance", summary="保养")["errors"]
    assert errors == {"result": ["仅定期自行检查和安全评估填写此项。"], "items": ["仅定期自行检查填写此项。"]}
    errors = record(api, "owner_wuhan", in_use, status=422, **maintenance(resolves=1))["errors"]
    assert errors == {"resolves": ["只有维修记录可以关联所修复的故障。"]}
    errors = record(api, "owner_wuhan", in_use, status=422, kind="overhaul")["errors"]
    assert list(errors) == ["kind"]
    with Session(world.engine) as s:
        filed_on = s.get(Crane, in_use).filed_at.astimezone(CHINA_TZ).date()
    before = (filed_on - timedelta(days=1)).isoformat()
    errors = record(api, "owner_wuhan", in_use, status=422, **maintenance(performed_on=before))["errors"]
    assert errors == {"performed_on": [f"日期不能早于设备备案日期（{filed_on.isoformat()}）。"]}
    other = upload(api("installer_wuhan"))
    errors = record(api, "owner_wuhan", in_use, status=422, **maintenance(attachments=[other]))["errors"]
    assert list(errors) == ["attachments"]
    english = api("contractor_wuhan").post(f"/api/v1/cranes/{in_use}/operations?lang=en", json={
        "kind": "self_check", "performed_on": tomorrow, "person_in_charge": "黄河", "result": "normal",
        "items": ["structure"], "summary": "x"})
    assert english.get_json()["errors"]["performed_on"] == ["The date cannot be in the future."]


def test_an_integrated_owner_maintains_its_own_cranes(world, api, in_use):
    installer_uscc = uscc_of(api, "installer_wuhan")
    refused = record(api, "contractor_wuhan", in_use, status=422, **maintenance(maintainer_uscc=installer_uscc))
    assert refused["errors"]["maintainer_uscc"][0].startswith("该设备的产权单位为租赁、安装、维保一体化企业")
    done = record(api, "owner_wuhan", in_use, **maintenance())
    assert done["performer"]["uscc"] == uscc_of(api, "owner_wuhan")
    owner_id = world.user("owner_wuhan").enterprise_id
    with Session(world.engine) as s:
        s.execute(update(Enterprise).where(Enterprise.id == owner_id).values(integrated=False))
        s.commit()
    done = record(api, "contractor_wuhan", in_use, **maintenance(maintainer_uscc=installer_uscc))
    assert done["performer"]["name"] == "湖北华安起重设备安装工程有限公司"
    refused = record(api, "contractor_wuhan", in_use, status=422,
                     **maintenance(maintainer_uscc=uscc_of(api, "supervisor_wuhan")))
    assert refused["errors"]["maintainer_uscc"] == ["维保单位须为产权单位本身，或已通过申报的维保或安装单位。"]


def test_an_open_fault_blocks_jacking_until_a_repair_puts_it_right(api, in_use):
    fault = record(api, "contractor_wuhan", in_use, kind="fault", result=None, items=None,
                   summary="回转制动器异响，已停机")
    listing = api("owner_wuhan").get(f"/api/v1/cranes/{in_use}/operations").get_json()
    assert listing["open_faults"] == [fault["id"]]
    refused = jacking.lodge(api, in_use, status=422)
    assert refused["errors"]["record_number"] == ["设备安全技术档案不完整：有 1 条运行故障尚未修复。"]
    errors = record(api, "owner_wuhan", in_use, status=422, **maintenance(kind="repair", resolves=fault["id"] + 99))
    assert errors["errors"] == {"resolves": ["所修复的故障记录不存在、不属于该设备或已修复。"]}
    repair = record(api, "owner_wuhan", in_use, **maintenance(kind="repair", resolves=fault["id"], summary="更换制动片"))
    assert repair["resolves"] == fault["id"]
    record(api, "owner_wuhan", in_use, status=422, **maintenance(kind="repair", resolves=fault["id"]))  # once only
    assert api("owner_wuhan").get(f"/api/v1/cranes/{in_use}/operations").get_json()["open_faults"] == []
    jacking.lodge(api, in_use)


def test_months_on_site_with_too_few_self_checks_are_listed(world, api, in_use):
    start = (today().replace(day=1) - timedelta(days=40)).replace(day=1)  # the first of the month before last
    with Session(world.engine) as s:
        crane = s.get(Crane, in_use)
        crane.accepted_on = start
        crane.filed_at = datetime(start.year, start.month, 1, tzinfo=CHINA_TZ) - timedelta(days=30)
        s.commit()
    first = start.isoformat()
    second = (start + timedelta(days=14)).isoformat()
    last_month = (today().replace(day=1) - timedelta(days=1)).replace(day=10).isoformat()
    for day in (first, second, last_month):
        record(api, "contractor_wuhan", in_use, performed_on=day)
    listing = api("owner_wuhan").get(f"/api/v1/cranes/{in_use}/operations").get_json()
    months = {m["month"]: (m["count"], m["complete"]) for m in listing["self_checks"]}
    assert months[start.strftime("%Y-%m")] == (2, True)
    assert months[last_month[:7]] == (1, True)
    assert months[today().strftime("%Y-%m")] == (0, False)  # the current month can still catch up
    assert listing["self_check_shortfalls"] == [last_month[:7]]


def test_operation_records_are_in_the_archive_and_its_zip(api, in_use):
    photo = upload(api("contractor_wuhan"), name="检查记录.pdf")
    done = record(api, "contractor_wuhan", in_use, attachments=[photo])
    timeline = api("owner_wuhan").get(f"/api/v1/cranes/{in_use}/archive").get_json()["timeline"]
    (entry,) = [e for e in timeline if e["kind"] == "operation"]
    assert entry["operation_id"] == done["id"] and entry["title"] == "定期自行检查"
    assert "月度检查，无异常" in entry["summary"] and entry["files"][0]["name"] == "检查记录.pdf"
    data = api("owner_wuhan").get(f"/api/v1/cranes/{in_use}/archive.zip", buffered=True).get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        path = entry["files"][0]["path"]
        assert path.startswith("operations/") and path in zf.namelist()
    assert any(f["path"] == path and f["matches_upload"] for f in manifest["files"])


def test_refit_maintenance_is_needed_before_the_crane_goes_up_again(api, in_use):
    r = api("installer_wuhan").post("/api/v1/cases", json={
        "process_key": "dismantling_notice", "data": site.dismantling_data(api, in_use)})
    site.notice_passed(api, r)
    assert site.crane_status(api, in_use) == "filed"
    refused = site.lodge(api, in_use, project_code="4201062026-0019")
    assert refused.status_code == 422
    (message,) = refused.get_json()["errors"]["record_number"]
    assert message.startswith("设备安全技术档案不完整：上次拆卸（") and "后尚无维护保养记录" in message
    record(api, "owner_wuhan", in_use, **maintenance(summary="转场保养：结构件探伤，更换钢丝绳"))
    assert site.lodge(api, in_use, project_code="4201062026-0019").status_code == 201


def test_only_the_integrated_owner_or_its_partner_installs_its_cranes(world, api):
    site.register(api, "installer_wuhan", site.CREW)
    crane_id = approved_crane(api, "OPS-INT")
    owner_id = world.user("owner_wuhan").enterprise_id
    with Session(world.engine) as s:
        s.execute(update(Enterprise).where(Enterprise.id == owner_id).values(partner_installer_uscc=None))
        s.commit()
    refused = site.lodge(api, crane_id)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["record_number"][0].startswith("该设备的产权单位为租赁、安装、维保一体化企业")
    with Session(world.engine) as s:
        s.execute(update(Enterprise).where(Enterprise.id == owner_id).values(
            partner_installer_uscc=uscc_of(api, "installer_wuhan")))
        s.commit()
    assert site.lodge(api, crane_id).status_code == 201


def test_the_crane_page_records_a_self_check_and_shows_the_month(app, api, in_use):
    """Through the page form: a bad date is refused with the rule, a good post lands in the table,
    and a regulator sees the records without a form and is refused a post."""
    contractor = app.test_client()
    _login(contractor, "contractor_wuhan")
    page = contractor.get(f"/cranes/{in_use}").get_data(as_text=True)
    assert 'data-testid="operation-form"' in page and 'name="items"' in page
    form = {"csrf_token": csrf_from(page), "kind": "self_check", "performed_on": "2099-01-01",
            "person_in_charge": "黄河", "result": "normal", "items": ["structure", "brakes"], "summary": "周检"}
    bad = contractor.post(f"/cranes/{in_use}/operations", data=form)
    assert bad.status_code == 422 and "日期不能晚于今天。" in bad.get_data(as_text=True)
    files = {"attachments": (io.BytesIO(b"%PDF-1.4\n% check\n"), "自检表.pdf")}
    done = contractor.post(f"/cranes/{in_use}/operations", data={**form, "performed_on": today().isoformat(), **files},
                           content_type="multipart/form-data")
    assert done.status_code == 302 and done.location.endswith("#operations")
    page = contractor.get(done.location).get_data(as_text=True)
    assert "运行记录已存入安全技术档案。" in page and "自检表.pdf" in page and "制动器、传动机构" in page
    assert f'data-month="{today():%Y-%m}"' in page and "1 / 2" in page
    regulator = app.test_client()
    _login(regulator, "reg_wuhan")
    page = regulator.get(f"/cranes/{in_use}").get_data(as_text=True)
    assert "周检" in page and 'data-testid="operation-form"' not in page
    refused = regulator.post(f"/cranes/{in_use}/operations", data={
        **form, "performed_on": today().isoformat(), "csrf_token": csrf_from(page)})
    assert refused.status_code == 403


def assessment(api, **overrides):
    return {"kind": "assessment", "result": "qualified", "items": None, "assessor_uscc": uscc_of(api, "inspector_wuhan"),
            "report_number": "HBTJ-PG-2026-0031", "summary": "JGJ/T 189 安全评估：主要结构件无裂纹，可继续使用", **overrides}


def test_an_ageing_crane_needs_a_qualified_assessment_in_force(world, api):
    """Past its JGJ/T 189 age a crane is notified only with a 合格 assessment whose validity covers
    the start; an unqualified or expired one refuses it again, and the owner alone records it."""
    site.register(api, "installer_wuhan", site.CREW)
    crane_id = approved_crane(api, "OPS-AGE")
    with Session(world.engine) as s:  # 16 years old: past the 15 years of a 630–1250 kN·m tower crane
        s.get(Crane, crane_id).manufacture_date = today().replace(year=today().year - 16)
        s.commit()
    over_age = "该设备已超过安全评估年限，须提供有效期内结论为合格的安全评估报告。"
    assert site.lodge(api, crane_id).get_json()["errors"]["record_number"] == [over_age]
    errors = record(api, "owner_wuhan", crane_id, status=422, **assessment(api, assessor_uscc=None, report_number=None))
    assert errors["errors"] == {"assessor_uscc": ["此项为必填项。"], "report_number": ["此项为必填项。"]}
    errors = record(api, "owner_wuhan", crane_id, status=422, **assessment(api, result="normal"))["errors"]
    assert list(errors) == ["result"]
    errors = record(api, "owner_wuhan", crane_id, status=422, **assessment(
        api, assessor_uscc=uscc_of(api, "installer_wuhan")))["errors"]
    assert errors == {"assessor_uscc": ["评估机构须为已通过申报的检验检测机构。"]}
    done = record(api, "owner_wuhan", crane_id, **assessment(api))
    valid_until = today().replace(year=today().year + 1) - timedelta(days=1)
    assert (done["result"], done["valid_until"]) == ("qualified", valid_until.isoformat())
    r = site.lodge(api, crane_id)
    assert r.status_code == 201, r.get_data(as_text=True)
    record(api, "contractor_wuhan", crane_id, status=403, **assessment(api))  # not on its site yet
    record(api, "owner_wuhan", crane_id, **assessment(api, result="unqualified", report_number="HBTJ-PG-2026-0032"))
    listing = api("owner_wuhan").get(f"/api/v1/cranes/{crane_id}/operations").get_json()
    assert (listing["items"][0]["result"], listing["items"][0]["valid_until"]) == ("unqualified", None)
    assert not _assessed(world, crane_id)  # the latest conclusion decides


def test_an_assessment_holds_for_its_validity_period(world, api):
    site.register(api, "installer_wuhan", site.CREW)
    crane_id = approved_crane(api, "OPS-AGE-2")
    long_ago = today() - timedelta(days=400)
    with Session(world.engine) as s:
        crane = s.get(Crane, crane_id)
        crane.manufacture_date = today().replace(year=today().year - 16)
        crane.filed_at = datetime(long_ago.year, long_ago.month, long_ago.day, tzinfo=CHINA_TZ)
        s.commit()
    record(api, "owner_wuhan", crane_id, **assessment(api, performed_on=long_ago.isoformat()))
    assert site.lodge(api, crane_id).status_code == 422  # 合格, but its year is over
    record(api, "owner_wuhan", crane_id, **assessment(api, report_number="HBTJ-PG-2026-0040"))
    assert site.lodge(api, crane_id).status_code == 201


def test_a_report_lodged_with_the_filing_counts_from_the_filing_date(world, api):
    """An over-age crane is filed with its assessment report: that report holds for the validity
    period from the filing, and no longer."""
    site.register(api, "installer_wuhan", site.CREW)
    old = today().replace(year=today().year - 16).isoformat()
    owner = api("owner_wuhan")
    crane_id = approved_crane(api, "OPS-AGE-3", manufacture_date=old, purchase_date=old, documents={
        **{d: [upload(owner)] for d in ("manufacturing_licence", "product_certificate", "supervision_certificate",
                                        "ownership_proof", "assessment_report")}})
    assert _assessed(world, crane_id)
    assert site.lodge(api, crane_id).status_code == 201
    with Session(world.engine) as s:
        s.get(Crane, crane_id).filed_at = datetime.now(CHINA_TZ) - timedelta(days=400)
        s.commit()
    assert not _assessed(world, crane_id)


def _assessed(world, crane_id) -> bool:
    from engine.services.crane_facts import crane_facts

    with Session(world.engine) as s:
        return crane_facts(s.get(Crane, crane_id), today()).valid_assessment
