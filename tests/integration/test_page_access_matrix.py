"""Every page × every kind of user: the answer each gets, by role and by scope (region, enterprise).

The filing used is owner_wuhan's, waiting for review in 武汉: 宜昌's owner and regulator must not
see it at all (404), pages of another role answer 403, and no page answers 5xx to anyone.
"""
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import Attachment
from engine.db.uow import unit_of_work
from engine.services import definitions
from tests.helpers import open_task_id, start_filing
from tests.integration.test_pages_security import _browser
from workflows.catalog import get_entry

USERS = ("owner_wuhan", "owner_yichang", "reg_wuhan", "reg_yichang", "reg_province", "admin", "admin_wuhan")
SEES_CASE = {"owner_wuhan": 200, "owner_yichang": 404, "reg_wuhan": 200, "reg_yichang": 404, "reg_province": 200,
             "admin": 200, "admin_wuhan": 200}
ADMIN_ONLY = {u: 403 for u in USERS} | {"admin": 200}
# Account administration: regional administrators and each enterprise's administrator.
ACCOUNT_ADMINS = {u: 403 for u in USERS} | {"admin_wuhan": 200, "owner_wuhan": 200, "owner_yichang": 200}
EVERYONE = {u: 200 for u in USERS}
REGULATORS = {u: 403 for u in USERS} | {"reg_wuhan": 200, "reg_yichang": 200, "reg_province": 200, "admin_wuhan": 200}
REGULATORS = {u: 403 for u in USERS} | {"reg_wuhan": 200, "reg_yichang": 200, "reg_province": 200, "admin_wuhan": 200}

EXPECTED = {
    "/account/password": EVERYONE,
    "/accounts": ACCOUNT_ADMINS,
    "/accounts/new": ACCOUNT_ADMINS,
    # reg_wuhan's account: managed by the Wuhan administrator only; others see no such account.
    "/accounts/{reg_wuhan}": ACCOUNT_ADMINS | {"owner_wuhan": 404, "owner_yichang": 404},
    "/admin/definitions": ADMIN_ONLY,
    "/admin/operations": ADMIN_ONLY,
    "/admin/audit": ADMIN_ONLY,
    "/admin/studio/{process}/v1": ADMIN_ONLY,
    "/admin/studio/{process}/diff?from=1&to=2": ADMIN_ONLY,
    "/admin/studio/{process}/migration?from=1&to=2": ADMIN_ONLY,
    "/attachments/{attachment}": SEES_CASE,
    "/cases": EVERYONE,
    "/cases/{case}": SEES_CASE,
    "/cranes": EVERYONE,
    "/cranes/{crane}": SEES_CASE,
    "/inbox": EVERYONE,
    "/notifications": EVERYONE,
    "/account/notifications": EVERYONE,
    "/projects": EVERYONE,
    # The usage report: regulator accounts only (each of its own region by default).
    "/reports/usage": {u: 403 for u in USERS} | {"reg_wuhan": 200, "reg_yichang": 200, "reg_province": 200,
                                                 "admin_wuhan": 200},
    "/reports/usage.pdf": {u: 403 for u in USERS} | {"reg_wuhan": 200, "reg_yichang": 200, "reg_province": 200,
                                                     "admin_wuhan": 200},
    "/tasks/{task}": SEES_CASE,
    # Periodic reports are the regulators'; the report task page shows report tasks only (the
    # filing's review is not one: 404 to every regulator).
    "/reports/definitions": REGULATORS,
    "/reports/submissions": REGULATORS,
    "/reports/tasks/{task}": {u: (404 if code == 200 else code) for u, code in REGULATORS.items()},
    # The public verification portal: the same answer for everyone, logged in or not.
    "/verify": EVERYONE,
    "/verify/public-key.pem": EVERYONE,
    "/verify/c/{unknown_certificate}": {u: 404 for u in USERS},
    # Reassigning is for the regulators who may act on the review (武汉's offices and the province).
    "/tasks/{task}/reassign": {u: 403 for u in USERS} | {"owner_yichang": 404, "reg_yichang": 404,
                                                          "reg_wuhan": 200, "admin_wuhan": 200, "reg_province": 200},
    # Statistics: the regulators (each its own jurisdiction); 宜昌 cannot drill into 武汉.
    "/statistics": REGULATORS,
    "/statistics?region=420100": REGULATORS | {"reg_yichang": 403},
    "/statistics/{section}.csv": REGULATORS,
    "/statistics/{section}.xlsx?region=420106": REGULATORS | {"reg_yichang": 403},
}


@pytest.fixture
def ids(world, api):
    case = start_filing(api("owner_wuhan"), serial="MATRIX-1")
    source = get_entry("crane_registration").path.read_bytes()
    with unit_of_work(world.engine) as s:  # a version 2 to compare with and migrate to
        definitions.deploy(s, process_key="crane_registration", file_name="v2.bpmn",
                           xml=source.replace("备案审核".encode(), "备案审查".encode()))
    with Session(world.engine) as s:
        # One of the filing's documents (uploaded by the owner, named in the filing).
        attachment = s.scalar(select(Attachment.id).where(
            Attachment.enterprise_id == world.user("owner_wuhan").enterprise_id).limit(1))
    return {"case": case["id"], "task": open_task_id(case), "crane": case["subject"]["id"], "attachment": attachment,
            "reg_wuhan": world.user("reg_wuhan").id, "process": "crane_registration",
            "unknown_certificate": "BA-A-2026999999", "section": "cranes"}


def test_the_matrix_covers_every_page_that_takes_a_get(app):
    routes = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("pages.") and "GET" in r.methods}
    covered = {re.sub(r"\{\w+\}", "<>", url.split("?")[0]).replace("v1", "v<>") for url in EXPECTED}
    shapes = {re.sub(r"<[^>]+>", "<>", rule) for rule in routes}
    # Pages whose answer does not depend on who asks beyond being logged in, checked elsewhere:
    # the home redirect, the personnel registry, a project (tests/integration/test_project_pages.py).
    elsewhere = {"/", "/personnel", "/personnel/new", "/projects/<>"}
    assert shapes - covered - elsewhere == set()


@pytest.mark.parametrize("username", USERS)
def test_each_user_gets_the_answer_of_its_role_and_scope(app, ids, username):
    client = _browser(app, username)
    got, want = {}, {}
    for template, expected in EXPECTED.items():
        url = template.format(**ids)
        r = client.get(url)
        r.close()  # a file download streams from disk until closed
        got[template], want[template] = r.status_code, expected[username]
    assert got == want
    for url in ("/", "/personnel", "/personnel/new", "/projects/999999"):
        assert client.get(url).status_code < 500, url
