"""Personnel pages: an enterprise registers a person with a certificate; regulators see their region."""
import re

from tests.conftest import DEMO_PASSWORD, csrf_from


def _login(client, username):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert r.status_code == 302


def test_enterprise_registers_a_person_and_the_regulator_sees_it_masked(app, world):
    client = app.test_client()
    _login(client, "installer_wuhan")
    page = client.get("/personnel/new").get_data(as_text=True)
    assert 'name="certificates.0.number"' in page
    form = {"csrf_token": csrf_from(page), "name": "李建国", "id_number": "11010519491231002X",
            "certificates.0.kind": "special_operation", "certificates.0.category": "08",
            "certificates.0.number": "鄂A082020000123", "certificates.0.issuer": "湖北省住房和城乡建设厅",
            "certificates.0.valid_until": "2028-06-01"}
    bad = client.post("/personnel/new", data={**form, "certificates.0.category": "05"})
    assert bad.status_code == 422
    assert "证书编号中的类别与所选类别不一致" in bad.get_data(as_text=True)
    r = client.post("/personnel/new", data=form)
    assert r.status_code == 302 and r.location.endswith("/personnel?added=1")
    listing = client.get("/personnel").get_data(as_text=True)
    assert "110105********002X" in listing and "11010519491231002X" not in listing

    regulator = app.test_client()
    _login(regulator, "reg_wuhan")
    assert "李建国" in regulator.get("/personnel").get_data(as_text=True)
    other = app.test_client()
    _login(other, "reg_yichang")
    assert "李建国" not in other.get("/personnel").get_data(as_text=True)
    assert other.get("/personnel/new").status_code == 403


def test_personnel_pages_need_login(client, world):
    for url in ("/personnel", "/personnel/new"):
        r = client.get(url)
        assert r.status_code == 302 and re.search(r"/login\?next=", r.location)
