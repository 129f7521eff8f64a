"""The personnel registry through the API: validation, scoping and masked ID numbers."""
PERSON = {
    "name": "李建国", "id_number": "11010519491231002X",
    "certificates": [
        {"kind": "special_operation", "category": "08", "number": "鄂A082020000123", "issuer": "湖北省住房和城乡建设厅",
         "issued_on": "2020-06-01", "valid_until": "2028-06-01"},
        {"kind": "special_operation", "category": "04", "number": "鄂A042021000456", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": "2027-03-01"},
    ],
}


def test_register_and_read_personnel_with_masked_id(api):
    installer = api("installer_wuhan")
    r = installer.post("/api/v1/personnel", json=PERSON)
    assert r.status_code == 201, r.get_data(as_text=True)
    person = r.get_json()
    assert person["id_number"] == "110105********002X"
    assert [c["category"] for c in person["certificates"]] == ["08", "04"]
    assert installer.get(f"/api/v1/personnel/{person['id']}").status_code == 200
    assert api("reg_wuhan").get(f"/api/v1/personnel/{person['id']}").status_code == 200
    assert api("reg_yichang").get(f"/api/v1/personnel/{person['id']}").status_code == 404
    assert api("owner_wuhan").get(f"/api/v1/personnel/{person['id']}").status_code == 404
    assert api("reg_yichang").get("/api/v1/personnel").get_json()["total"] == 0
    assert api("reg_province").get("/api/v1/personnel").get_json()["total"] == 1


def test_personnel_rules_are_enforced(api):
    installer = api("installer_wuhan")
    bad = {**PERSON, "id_number": "110105194912310021", "certificates": [
        {**PERSON["certificates"][0], "category": "05"},
        {**PERSON["certificates"][1], "kind": "safety_manager"},
    ]}
    r = installer.post("/api/v1/personnel", json=bad)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert "id_number" in errors
    assert errors["certificates"]["0"]["number"] == ["证书编号中的类别与所选类别不一致。"]
    assert errors["certificates"]["1"]["category"] == ["该类别不属于所选证书类型。"]
    assert installer.post("/api/v1/personnel", json=PERSON).status_code == 201
    again = installer.post("/api/v1/personnel", json=PERSON)
    assert again.status_code == 422 and "id_number" in again.get_json()["errors"]
    minor = {**PERSON, "id_number": "440524188001010014", "certificates": []}
    assert installer.post("/api/v1/personnel", json=minor).status_code == 201


def test_regulators_cannot_register_personnel(api):
    assert api("reg_wuhan").post("/api/v1/personnel", json=PERSON).status_code == 403
