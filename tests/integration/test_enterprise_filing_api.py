"""Enterprise sign-up and filing: review by the registered region's regulator, corrections, changes."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Enterprise, EnterpriseStaff
from engine.domain.uscc import uscc_check_char
from tests.helpers import PDF, open_task_id, upload, uscc_of

PASSWORD = "Secure-pass-2026"


def _uscc(org: str, region: str = "420106") -> str:
    first17 = f"91{region}{org}"
    return first17 + uscc_check_char(first17)


def sign_up(app, *, username="newco_admin", uscc=None, region="420106"):
    client = app.test_client()
    r = client.post("/api/v1/enterprises", json={
        "enterprise_name": "武汉新塔起重设备安装有限公司", "uscc": uscc or _uscc("MA4N00001"),
        "region_code": region, "username": username, "display_name": "赵敏", "password": PASSWORD})
    return r


class Bearer:
    def __init__(self, app, token):
        self.client, self.headers = app.test_client(), {"Authorization": f"Bearer {token}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers, **kw)


def filing(api_client, uscc, region="420106", **overrides):
    data = {
        "name": "武汉新塔起重设备安装有限公司", "uscc": uscc, "region_code": region,
        "address": "武汉市武昌区中北路 100 号", "legal_representative": "钱伟",
        "legal_representative_id": "11010519491231002X", "contact_person": "赵敏",
        "contact_phone": "13800138000", "roles": ["installer", "owner"], "integrated": True,
        "qualification_no": "D342012345", "qualification_category": "起重设备安装工程专业承包",
        "qualification_grade": "二级", "qualification_valid_until": "2029-12-31",
        "safety_licence_no": "(鄂)JZ安许证字〔2024〕000123", "safety_licence_valid_until": "2027-06-30",
        "technical_lead": "孙强", "safety_staff": [{"name": "周杰", "certificate_no": "鄂建安C1(2021)0001234"}],
        "documents": {"business_licence": [upload(api_client, PDF, "licence.pdf")]},
    }
    data.update(overrides)
    return data


def test_sign_up_file_return_correct_approve_then_crane_filing_allowed(app, world, api):
    r = sign_up(app)
    assert r.status_code == 201, r.get_data(as_text=True)
    me = Bearer(app, r.get_json()["token"])
    user = r.get_json()["user"]
    assert me.get("/api/v1/processes").get_json()["items"] == [{"key": "enterprise_filing", "name": "建筑起重机械相关企业申报"}]
    uscc = _uscc("MA4N00001")
    r = me.post("/api/v1/cases", json={"process_key": "crane_registration", "data": {}})
    assert r.status_code == 403  # not approved yet

    r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(me, uscc)})
    assert r.status_code == 201, r.get_data(as_text=True)
    case = r.get_json()
    reg = api("reg_wuhan")
    assert api("reg_yichang").get("/api/v1/tasks").get_json()["items"] == []
    r = reg.post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                 json={"data": {"decision": "return", "reason": "安全生产许可证扫描件缺页"}})
    assert r.status_code == 200
    task = me.get(f"/api/v1/tasks/{open_task_id(r.get_json())}").get_json()
    assert task["data"]["safety_licence_no"] == "(鄂)JZ安许证字〔2024〕000123"
    with Session(world.engine) as s:
        assert s.get(Enterprise, user["enterprise_id"]).status == "returned"
    r = me.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {**task["data"], "technical_lead": "孙立强"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    r = reg.post(f"/api/v1/tasks/{open_task_id(r.get_json())}/complete", json={"data": {"decision": "approve"}})
    assert r.get_json()["outcome"] == "approved"
    with Session(world.engine) as s:
        ent = s.get(Enterprise, user["enterprise_id"])
        assert (ent.status, ent.technical_lead, ent.roles) == ("approved", "孙立强", {"installer", "owner"})
        assert ent.integrated is True
        assert [st.certificate_no for st in s.query(EnterpriseStaff).filter_by(enterprise_id=ent.id)] == ["鄂建安C1(2021)0001234"]
    keys = {p["key"] for p in me.get("/api/v1/processes").get_json()["items"]}
    assert keys == {"enterprise_filing", "crane_registration", "record_cancellation", "installation_notice",
                    "dismantling_notice", "jacking_notice"}


def test_sign_up_refuses_bad_codes_and_duplicates(app, world):
    assert sign_up(app).status_code == 201
    r = sign_up(app, username="other")
    assert r.status_code == 422 and "uscc" in r.get_json()["errors"]
    r = sign_up(app, username="newco_admin", uscc=_uscc("MA4N00002"))
    assert r.status_code == 422 and "username" in r.get_json()["errors"]
    bad = _uscc("MA4N00003")[:-1] + ("0" if _uscc("MA4N00003")[-1] != "0" else "1")
    r = sign_up(app, username="third", uscc=bad)
    assert r.status_code == 422 and r.get_json()["errors"]["uscc"] == ["统一社会信用代码校验位错误。"]
    r = sign_up(app, username="fourth", uscc=_uscc("MA4N00004"), region="420000")
    assert r.status_code == 422 and "region_code" in r.get_json()["errors"]


def test_filing_rules_installer_licence_id_number_and_foreign_uscc(app, world):
    me = Bearer(app, sign_up(app).get_json()["token"])
    uscc = _uscc("MA4N00001")
    r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(
        me, uscc, safety_licence_no=None, legal_representative_id="110105194912310021",
        safety_staff=[{"name": "周杰", "certificate_no": "C1-12345"}])})
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert set(errors) >= {"legal_representative_id", "safety_staff"}
    r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(me, uscc, safety_licence_no=None)})
    assert r.status_code == 422 and "safety_licence_no" in r.get_json()["errors"]
    r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(me, _uscc("MA4N00009"))})
    assert r.status_code == 422 and "uscc" in r.get_json()["errors"]


def test_change_to_an_approved_filing_takes_effect_only_when_approved(app, world, api):
    owner = api("owner_wuhan")
    with Session(world.engine) as s:
        ent = s.get(Enterprise, owner.user["enterprise_id"])
        uscc, old_name = ent.uscc, ent.name
    r = owner.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(
        owner, uscc, name="武汉鑫塔建筑机械租赁集团有限公司", roles=["owner"],
        partner_installer_uscc=uscc_of(api, "installer_wuhan"), qualification_no=None,
        qualification_valid_until=None, safety_licence_no=None, safety_licence_valid_until=None)})
    assert r.status_code == 201, r.get_data(as_text=True)
    with Session(world.engine) as s:
        ent = s.get(Enterprise, owner.user["enterprise_id"])
        assert (ent.status, ent.name) == ("approved", old_name)  # the approved record is untouched
    reg = api("reg_wuhan")
    r = reg.post(f"/api/v1/tasks/{open_task_id(r.get_json())}/complete",
                 json={"data": {"decision": "reject", "reason": "名称变更未附工商变更通知书"}})
    with Session(world.engine) as s:
        ent = s.get(Enterprise, owner.user["enterprise_id"])
        assert (ent.status, ent.name) == ("approved", old_name)


def test_an_integrated_firm_owns_cranes_and_installs_them_itself_or_through_its_partner(app, world, api):
    me = Bearer(app, sign_up(app).get_json()["token"])
    uscc = _uscc("MA4N00001")

    def errors(**overrides):
        r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(me, uscc, **overrides)})
        assert r.status_code == 422, r.get_data(as_text=True)
        return r.get_json()["errors"]

    assert errors(roles=["installer"]) == {"roles": ["一体化企业须同时申报产权（出租）单位类型。"]}
    assert errors(roles=["owner"]) == {"partner_installer_uscc": [
        "一体化企业须具备安装资质（申报安装单位类型），或填写合作安装单位的统一社会信用代码。"]}
    assert errors(integrated=False, partner_installer_uscc=uscc_of(api, "installer_wuhan")) == {
        "partner_installer_uscc": ["只有一体化企业填写合作安装单位。"]}
    assert errors(roles=["owner"], partner_installer_uscc=uscc) == {"partner_installer_uscc": ["合作安装单位不能是本企业。"]}
    assert errors(roles=["owner"], partner_installer_uscc=uscc_of(api, "contractor_wuhan")) == {
        "partner_installer_uscc": ["该企业未申报为安装单位。"]}
    assert errors(roles=["owner"], partner_installer_uscc=_uscc("MA4N00077")) == {
        "partner_installer_uscc": ["未找到该统一社会信用代码的企业。"]}
    r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(
        me, uscc, roles=["owner"], partner_installer_uscc=uscc_of(api, "installer_wuhan"))})
    assert r.status_code == 201, r.get_data(as_text=True)
    r = api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(r.get_json())}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200
    with Session(world.engine) as s:
        ent = s.scalar(select(Enterprise).where(Enterprise.uscc == uscc))
        assert (ent.integrated, ent.partner_installer_uscc) == (True, uscc_of(api, "installer_wuhan"))
