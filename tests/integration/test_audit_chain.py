"""Tamper-evident audit trail: real transitions chain their audit events; editing, deleting, reordering
or forging rows, or cutting a chain's tail, is found at the first broken link; savepoints that roll
back leave no gap; chains of different cases never wait for each other."""
import hashlib
import hmac
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from engine.db import AuditChain, AuditEvent, Notification, ProcessInstance, utcnow
from engine.db.uow import unit_of_work
from engine.services import audit, audit_chain, due_jobs, outbox
from tests.conftest import csrf_from
from tests.helpers import open_task_id, start_filing
from tests.integration.test_concurrency import _filing
from tests.integration.test_pages_security import _browser

EVENTS = AuditEvent.__table__


def _verify(engine, chain=None):
    with audit_chain.snapshot_session(engine) as s:
        return audit_chain.verify(s, chain, batch=3)  # small batches: chains span several of them


def _rows(engine, chain):
    with Session(engine) as s:
        return s.execute(select(EVENTS).where(EVENTS.c.chain == chain).order_by(EVENTS.c.seq)).mappings().all()


def _sql(engine, stmt, params=None):
    with engine.begin() as conn:
        conn.execute(stmt, params or {})


@pytest.fixture
def approved_case(api, world):
    """A crane filing started by owner_wuhan and approved by reg_wuhan: its case chain has ≥ 3 links."""
    owner = api("owner_wuhan")
    case = start_filing(owner, serial="CHAIN-1")
    r = api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    chain = f"case:{case['id']}"
    rows = _rows(world.engine, chain)
    assert len(rows) >= 3, [r["action"] for r in rows]
    return {"id": case["id"], "business_key": case["business_key"], "chain": chain, "rows": rows}


def test_transitions_write_valid_chains_with_heads(world, approved_case, api):
    rows = approved_case["rows"]
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["prev_hash"] == audit_chain.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))
    assert all(r["instance_id"] == approved_case["id"] for r in rows)
    with Session(world.engine) as s:
        head = s.get(AuditChain, approved_case["chain"])
        assert (head.seq, head.hash) == (rows[-1]["seq"], rows[-1]["hash"])
    # Events without a case are in chains of their own.
    r = api("owner_wuhan").post("/api/v1/accounts", json={"username": "owner_wuhan_chain", "display_name": "职员"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert [row["action"] for row in _rows(world.engine, "accounts")] == ["account_created"]
    report = _verify(world.engine)
    assert report.ok, report.broken
    assert report.chains >= 2 and report.events >= len(rows) + 1


@pytest.mark.parametrize("field", ["detail", "actor_id", "at", "action", "to_state"])
def test_editing_a_field_is_found_at_that_row(world, approved_case, field):
    target = approved_case["rows"][1]
    value = {"detail": {"forged": True}, "actor_id": world.users["reg_province"],
             "at": target["at"] - timedelta(days=3), "action": "decision", "to_state": "approved"}[field]
    if field == "action" and target["action"] == "decision":
        value = "complete"
    _sql(world.engine, update(EVENTS).where(EVENTS.c.id == target["id"]).values({field: value}))
    (broken,) = _verify(world.engine).broken
    assert (broken.chain, broken.seq, broken.event_id, broken.reason) == (
        approved_case["chain"], target["seq"], target["id"], "content_altered")
    assert broken.instance_id == approved_case["id"]


def test_deleting_a_middle_row_is_found_at_the_next_row(world, approved_case):
    middle, following = approved_case["rows"][1], approved_case["rows"][2]
    _sql(world.engine, text("DELETE FROM audit_event WHERE id = :id"), {"id": middle["id"]})
    (broken,) = _verify(world.engine).broken
    assert (broken.seq, broken.event_id, broken.reason) == (following["seq"], following["id"], "link_broken")


def test_swapping_the_order_of_two_rows_is_found(world, approved_case):
    first, second = approved_case["rows"][0], approved_case["rows"][1]
    with world.engine.begin() as conn:  # through a free seq: (chain, seq) is unique
        conn.execute(text("UPDATE audit_event SET seq = -1 WHERE id = :id"), {"id": first["id"]})
        conn.execute(text("UPDATE audit_event SET seq = :s WHERE id = :id"), {"s": first["seq"], "id": second["id"]})
        conn.execute(text("UPDATE audit_event SET seq = :s WHERE id = :id"), {"s": second["seq"], "id": first["id"]})
    (broken,) = _verify(world.engine).broken
    assert (broken.seq, broken.event_id, broken.reason) == (first["seq"], second["id"], "link_broken")


def test_swapping_the_contents_of_two_rows_is_found(world, approved_case):
    a, b = approved_case["rows"][1], approved_case["rows"][2]
    fields = ("actor_id", "action", "task_name", "from_state", "to_state", "detail", "at")
    with world.engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == a["id"]).values({f: b[f] for f in fields}))
        conn.execute(update(EVENTS).where(EVENTS.c.id == b["id"]).values({f: a[f] for f in fields}))
    (broken,) = _verify(world.engine).broken
    assert (broken.seq, broken.event_id, broken.reason) == (a["seq"], a["id"], "content_altered")


def test_deleting_the_last_rows_is_found_through_the_head(world, approved_case):
    rows = approved_case["rows"]
    _sql(world.engine, delete(EVENTS).where(EVENTS.c.id.in_([rows[-1]["id"], rows[-2]["id"]])))
    (broken,) = _verify(world.engine).broken
    assert (broken.chain, broken.seq, broken.event_id, broken.reason) == (
        approved_case["chain"], rows[-2]["seq"], None, "tail_missing")


def test_deleting_a_whole_chain_is_found_through_its_head(world, approved_case):
    _sql(world.engine, delete(EVENTS).where(EVENTS.c.chain == approved_case["chain"]))
    (broken,) = _verify(world.engine).broken
    assert (broken.chain, broken.seq, broken.reason) == (approved_case["chain"], 1, "tail_missing")


def test_an_altered_or_missing_head_is_found(world, approved_case):
    chain, last = approved_case["chain"], approved_case["rows"][-1]
    _sql(world.engine, update(AuditChain.__table__).where(AuditChain.chain == chain).values(hash="f" * 64))
    (broken,) = _verify(world.engine).broken
    assert (broken.seq, broken.event_id, broken.reason) == (last["seq"], last["id"], "head_altered")
    _sql(world.engine, delete(AuditChain.__table__).where(AuditChain.chain == chain))
    (broken,) = _verify(world.engine).broken
    assert broken.reason == "head_missing"


def test_a_row_forged_with_another_key_is_found(world, approved_case):
    chain, last = approved_case["chain"], approved_case["rows"][-1]
    forged = {"instance_id": approved_case["id"], "actor_id": world.users["reg_wuhan"], "action": "decision",
              "task_name": "review", "from_state": None, "to_state": "approved", "detail": {}, "at": utcnow(),
              "chain": chain, "seq": last["seq"] + 1, "prev_hash": last["hash"]}
    forged["hash"] = hmac.new(b"a guessed key", audit_chain.canonical(forged), hashlib.sha256).hexdigest()
    with world.engine.begin() as conn:  # the head is moved along, as a careful forger would
        conn.execute(EVENTS.insert().values(forged))
        conn.execute(update(AuditChain.__table__).where(AuditChain.chain == chain)
                     .values(seq=forged["seq"], hash=forged["hash"]))
    report = _verify(world.engine)
    (broken,) = report.broken
    forged_id = _rows(world.engine, chain)[-1]["id"]
    assert (broken.seq, broken.event_id, broken.reason) == (forged["seq"], forged_id, "content_altered")
    assert _verify(world.engine, chain="accounts").ok  # another chain alone is not concerned


def test_cli_exits_1_and_names_the_first_broken_link(app, world, approved_case):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["craneflow", "audit-verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    target = approved_case["rows"][1]
    _sql(world.engine, text("UPDATE audit_event SET task_name = 'forged' WHERE id = :id"), {"id": target["id"]})
    result = runner.invoke(args=["craneflow", "audit-verify"])
    assert result.exit_code == 1, result.output
    assert f"BROKEN {approved_case['chain']} seq={target['seq']} event={target['id']}: Content altered" in result.output
    one = runner.invoke(args=["craneflow", "audit-verify", "--chain", "system"])
    assert one.exit_code == 0, one.output


def test_admin_page_verifies_in_the_background_and_lists_the_broken_chain(app, world, approved_case):
    target = approved_case["rows"][2]
    _sql(world.engine, text("DELETE FROM audit_event WHERE id = :id"), {"id": approved_case["rows"][1]["id"]})
    admin = _browser(app, "admin")
    page = admin.get("/admin/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="audit-never"' in html and 'data-testid="nav-audit"' in html
    assert admin.post("/admin/audit/verify").status_code == 400  # no CSRF token
    r = admin.post("/admin/audit/verify", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302
    html = admin.get(r.headers["Location"]).get_data(as_text=True)
    # Queued, not run in the request: the page says so and offers no second run meanwhile.
    assert 'data-testid="audit-pending"' in html and 'data-testid="audit-never"' in html
    assert 'data-testid="audit-verify" disabled' in html
    admin.post("/admin/audit/verify", data={"csrf_token": csrf_from(html)})
    assert outbox.run_ready(world.engine) == {"done": 1}  # the two clicks queued one verification

    html = admin.get("/admin/audit").get_data(as_text=True)
    assert 'data-testid="audit-pending"' not in html
    row = html.split(f'data-testid="broken-{approved_case["chain"]}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/cases/{approved_case["id"]}"' in row and approved_case["business_key"] in row
    assert f"<td>{target['id']}</td>" in row and f"<td>{target['seq']}</td>" in row
    assert "链接断开" in row
    # Every system administrator is told; nobody else.
    with Session(world.engine) as s:
        told = s.execute(select(Notification.user_id, Notification.link).where(
            Notification.kind == "audit_broken")).all()
    assert told == [(world.users["admin"], "/admin/audit")]
    for username in ("reg_province", "owner_wuhan", "admin_hubei"):
        other = _browser(app, username)
        assert other.get("/admin/audit").status_code == 403
        token = csrf_from(other.get("/cases").get_data(as_text=True))
        assert other.post("/admin/audit/verify", data={"csrf_token": token}).status_code == 403


def test_api_queues_the_verification_and_reports_it(world, approved_case, api):
    admin = api("admin")
    before = admin.get("/api/v1/ops/audit-verification").get_json()
    assert before["last_verification"] is None and before["events"] >= len(approved_case["rows"])
    assert before["pending"] is False
    _sql(world.engine, text("UPDATE audit_event SET actor_id = NULL WHERE id = :id"),
         {"id": approved_case["rows"][0]["id"]})
    r = admin.post("/api/v1/ops/audit-verification")
    assert r.status_code == 202 and r.get_json() == {"queued": True, "pending": True}
    assert admin.post("/api/v1/ops/audit-verification").get_json()["queued"] is False  # one at a time
    assert admin.get("/api/v1/ops/audit-verification").get_json()["pending"] is True
    outbox.run_ready(world.engine)
    now = admin.get("/api/v1/ops/audit-verification").get_json()
    run = now["last_verification"]
    assert now["pending"] is False and run["ok"] is False and run["run_by"] == world.users["admin"]
    assert run["broken"] == [{"chain": approved_case["chain"], "seq": 1, "event_id": approved_case["rows"][0]["id"],
                              "instance_id": approved_case["id"], "reason": "content_altered"}]
    assert api("reg_province").get("/api/v1/ops/audit-verification").status_code == 403


def test_the_daily_verification_is_queued_once_a_day(world, approved_case, monkeypatch):
    from engine.services import audit_schedule, settings

    assert audit_schedule.request_daily(world.engine) is False  # AUDIT_VERIFY_DAILY off in the tests
    monkeypatch.setattr(settings.get_settings(), "audit_verify_daily", True)
    assert audit_schedule.request_daily(world.engine) is True
    assert audit_schedule.request_daily(world.engine) is False  # queued already
    assert outbox.run_ready(world.engine) == {"done": 1}
    with Session(world.engine) as s:
        last = audit_chain.last_run(s)
        assert last.run_by_id is None and last.broken == [] and last.events >= len(approved_case["rows"])
        assert s.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "audit_broken")) == 0
    assert audit_schedule.request_daily(world.engine) is False  # verified moments ago
    assert audit_schedule.request_daily(world.engine, now=utcnow() + timedelta(days=1)) is True
    assert audit_schedule.request_daily(world.engine, now=utcnow() + timedelta(days=1)) is False


@due_jobs.handles("test_audit_then_fail")
def _audit_then_fail(session, job, instance):
    audit.record(session, action="timer", instance=instance, to_state="half-done", job=job.id)
    audit.record(session, action="deploy", to_state="never")  # a chain first created in the savepoint
    raise RuntimeError("the handler failed after recording")


def test_a_rolled_back_savepoint_leaves_no_gap(world, api):
    case = start_filing(api("owner_wuhan"), serial="CHAIN-SP")
    system = len(_rows(world.engine, "system"))  # the catalog's deployments
    with unit_of_work(world.engine) as s:
        job_id = due_jobs.schedule(s, kind="test_audit_then_fail", key="audit-fail:1", due_at=utcnow(),
                                   instance_id=case["id"])
    assert due_jobs.fire(world.engine, job_id) == "failed"
    actions = [r["action"] for r in _rows(world.engine, f"case:{case['id']}")]
    assert actions[-1] == "incident" and "timer" not in actions
    assert len(_rows(world.engine, "system")) == system
    # The same in one transaction: a link recorded after the rolled-back savepoint follows the last kept one.
    with unit_of_work(world.engine) as s:
        audit.record(s, action="deploy", to_state="kept 1")
        try:
            with s.begin_nested():
                audit.record(s, action="deploy", to_state="dropped")
                raise RuntimeError
        except RuntimeError:
            pass
        audit.record(s, action="deploy", to_state="kept 2")
    assert [(r["seq"], r["to_state"]) for r in _rows(world.engine, "system")][system:] == [
        (system + 1, "kept 1"), (system + 2, "kept 2")]
    report = _verify(world.engine)
    assert report.ok, report.broken


@pytest.mark.postgres
def test_transitions_of_two_cases_do_not_wait_for_each_other(world, postgres_only):
    first, second = _filing(world, "CHAIN-PG-1"), _filing(world, "CHAIN-PG-2")
    reviewer = world.user("reg_wuhan")
    holding, release = threading.Event(), threading.Event()
    errors = []

    def hold_first_case():
        # An audit event of the first case, its chain head locked until released.
        try:
            with unit_of_work(world.engine) as s:
                instance = s.get(ProcessInstance, first[0])
                audit.record(s, action="complete", actor=reviewer, instance=instance, note="held")
                holding.set()
                assert release.wait(30)
        except Exception as exc:  # reported by the test below
            errors.append(exc)
            holding.set()

    holder = threading.Thread(target=hold_first_case)
    holder.start()
    try:
        assert holding.wait(30)
        with unit_of_work(world.engine) as s:
            s.execute(text("SET LOCAL lock_timeout = '3s'"))  # would fail if it waited for the first case
            instance = s.get(ProcessInstance, second[0])
            audit.record(s, action="complete", actor=reviewer, instance=instance, note="meanwhile")
    finally:
        release.set()
        holder.join(30)
    assert errors == []
    from engine.services import cases

    results = []

    def approve(task_id):
        with unit_of_work(world.engine) as s:
            results.append(cases.complete_task(s, actor=reviewer, task_id=task_id,
                                               data={"decision": "approve"}).status)
    threads = [threading.Thread(target=approve, args=(task_id,)) for _, task_id in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    report = _verify(world.engine)
    assert report.ok, report.broken
    assert [r["note"] for r in (row["detail"] for row in _rows(world.engine, f"case:{first[0]}")) if "note" in r] == ["held"]


def test_migration_chains_existing_events(tmp_path, monkeypatch):
    """Events written before the chain existed are linked in id order and sealed with the app's key."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine

    from engine.services import settings
    from web import create_app

    monkeypatch.setattr(settings, "_settings", settings.get_settings())  # restored afterwards
    monkeypatch.setattr(audit_chain, "_key", audit_chain._key)
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "legacy-secret", "BACKGROUND": "off",
                      "UPLOAD_DIR": str(tmp_path / "u")})
    with app.app_context():
        upgrade(revision="0014")
        engine = create_engine(url)
        with engine.begin() as conn:
            for i, (instance_id, action, detail) in enumerate([
                    (None, "deploy", "{}"), (None, "account_created", '{"account_id": 3, "username": "张三"}'),
                    (None, "deploy", '{"version": 2}'), (None, "project_status", '{"project_id": 9}')]):
                conn.execute(text("INSERT INTO audit_event (instance_id, action, detail, at) "
                                  "VALUES (:i, :a, :d, :at)"),
                             {"i": instance_id, "a": action, "d": detail,
                              "at": f"2025-01-0{i + 1} 08:00:00.000000"})
        upgrade()
    try:
        assert audit_chain.chain_key() == audit_chain.key_from_config({"SECRET_KEY": "legacy-secret"})
        assert [(r["seq"], r["action"]) for r in _rows(engine, "system")] == [(1, "deploy"), (2, "deploy")]
        assert [r["action"] for r in _rows(engine, "accounts")] == ["account_created"]
        assert [r["action"] for r in _rows(engine, "project:9")] == ["project_status"]
        report = _verify(engine)
        assert report.ok and (report.chains, report.events) == (3, 4), report
    finally:
        engine.dispose()
