"""The legal representative's resident ID number of an enterprise filing: in full to the applicant
enterprise, which fills it in; masked to the regulator on the review page, the case page and in the API."""
from tests.conftest import csrf_from
from tests.helpers import open_task_id
from tests.integration.test_enterprise_filing_api import PASSWORD, Bearer, _uscc, filing, sign_up
from tests.integration.test_personnel_pages import _login

FULL, MASKED = "11010519491231002X", "110105********002X"


def _browser(app, username, password=None):
    client = app.test_client()
    if password is None:
        _login(client, username)
    else:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert r.status_code == 302
    return client


def _page(client, url) -> str:
    r = client.get(url)
    assert r.status_code == 200, url
    return r.get_data(as_text=True)


def test_regulator_sees_the_legal_representatives_id_masked(app, world, api):
    me = Bearer(app, sign_up(app).get_json()["token"])
    r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": filing(me, _uscc("MA4N00001"))})
    assert r.status_code == 201, r.get_data(as_text=True)
    case = r.get_json()
    regulator = _browser(app, "reg_wuhan")

    review = _page(regulator, f"/tasks/{open_task_id(case)}")
    assert 'data-testid="submission"' in review and "钱伟" in review
    assert MASKED in review and FULL not in review
    assert FULL not in _page(regulator, f"/cases/{case['id']}")

    reg_api = api("reg_wuhan")
    r = reg_api.post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                     json={"data": {"decision": "return", "reason": "营业执照扫描件不清晰"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    correction = open_task_id(r.get_json())

    applicant = _browser(app, "newco_admin", PASSWORD)
    assert f'value="{FULL}"' in _page(applicant, f"/tasks/{correction}")  # the form it corrects
    assert me.get(f"/api/v1/tasks/{correction}").get_json()["data"]["legal_representative_id"] == FULL

    seen = _page(regulator, f"/tasks/{correction}")  # the applicant's task, read-only to the regulator
    assert MASKED in seen and FULL not in seen
    data = reg_api.get(f"/api/v1/tasks/{correction}").get_json()["data"]
    assert data["legal_representative_id"] == MASKED and data["legal_representative"] == "钱伟"
    assert data["safety_staff"][0]["certificate_no"] == "鄂建安C1(2021)0001234"  # other fields untouched
