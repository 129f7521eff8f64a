"""Notifications: in-app rows and emails (to a real local SMTP server) for new tasks, returned
cases, deadlines and expiring certificates; once per key however often emitted or dispatched;
retried while the SMTP server is down; the bell, the list and mark-read for one's own only."""
import socket
import threading
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.db import (Crane, DueJob, HumanTask, Notification, OperationRecord, OutboxMessage, ProcessInstance, User,
                       utcnow)
from engine.db.uow import unit_of_work
from engine.services import due_jobs, mailer, notifications, outbox
from engine.services.settings import CHINA_TZ
from tests.conftest import csrf_from
from tests.helpers import open_task_id, start_filing
from tests.integration.test_pages_security import _browser


class Mailbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted"

    def to(self, address):
        return [msg for rcpts, msg in self.messages if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self, port):
        self.port, self.mailbox, self.controller = port, Mailbox(), None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _configure(port):
    mailer.configure(mailer.MailSettings(host="127.0.0.1", port=port, sender="CraneFlow <noreply@craneflow.example>",
                                         timeout=5.0, base_url="https://craneflow.example"))


@pytest.fixture
def smtp():
    """A running SMTP server that the mailer sends to."""
    previous = mailer.get_settings()
    server = SmtpServer(_free_port())
    server.start()
    _configure(server.port)
    yield server
    server.stop()
    mailer.configure(previous)


@pytest.fixture
def smtp_down():
    """The mailer points at a port where no server listens yet (start() brings it up)."""
    previous = mailer.get_settings()
    server = SmtpServer(_free_port())
    _configure(server.port)
    yield server
    server.stop()
    mailer.configure(previous)


def _rows(engine, **where):
    with Session(engine) as s:
        return list(s.scalars(select(Notification).filter_by(**where).order_by(Notification.id)))


def _notified(world, kind):
    names = {uid: name for name, uid in world.users.items()}
    return sorted(names[row.user_id] for row in _rows(world.engine, kind=kind))


def _due_now(engine, key):
    """Make a scheduled job due (its time moved into the past)."""
    with unit_of_work(engine) as s:
        s.execute(text("UPDATE due_job SET due_at = :t WHERE key = :k"),
                  {"t": utcnow() - timedelta(seconds=1), "k": key})


def test_a_submitted_filing_notifies_the_wuhan_regulators_in_app_and_by_email_in_chinese(world, api, smtp):
    case = start_filing(api("owner_wuhan"), serial="NOTIFY-1")
    task_id = open_task_id(case)
    recipients = _notified(world, "task_opened")
    assert {"reg_wuhan", "reg_wuhan2", "reg_province"} <= set(recipients)
    assert not {"reg_yichang", "owner_wuhan", "owner_yichang", "admin"} & set(recipients)

    assert outbox.run_ready(world.engine) == {"done": len(recipients)}
    (mail,) = smtp.mailbox.to("reg_wuhan@example.gov.cn")
    with Session(world.engine) as s:
        business_key = s.get(ProcessInstance, case["id"]).business_key
    assert mail["Subject"].startswith("【建筑起重机械监管系统】新待办")
    body = mail.get_content()
    assert "陈静（武汉市建设工程安全监督站），您好" in body and business_key in body
    assert f"https://craneflow.example/tasks/{task_id}" in body
    key = f"notify:task_opened:{task_id}:{world.users['reg_wuhan']}"
    assert mail["Message-ID"] == mailer.message_id(key)
    assert not smtp.mailbox.to("reg_yichang@example.gov.cn")
    (row,) = _rows(world.engine, key=key)
    assert row.emailed_at is not None and row.link == f"/tasks/{task_id}" and row.instance_id == case["id"]


def test_an_english_reader_gets_the_english_email(world, app, api, smtp):
    browser = _browser(app, "reg_wuhan2")
    page = browser.get("/account/notifications")
    r = browser.post("/account/notifications", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                     "email": "huang.tao@wuhan.example.gov.cn", "locale": "en"})
    assert r.status_code == 200 and b"settings-saved" in r.data
    start_filing(api("owner_wuhan"), serial="NOTIFY-EN")
    outbox.run_ready(world.engine)
    (mail,) = smtp.mailbox.to("huang.tao@wuhan.example.gov.cn")
    assert mail["Subject"].startswith("[CraneFlow] New task:")
    body = mail.get_content()
    assert body.startswith("Dear ") and "Case: " in body and "Business key: " in body
    assert "您好" not in body
    (chinese,) = smtp.mailbox.to("reg_wuhan@example.gov.cn")
    assert "新待办" in chinese["Subject"]


def test_an_invalid_email_is_refused_naming_the_field(world, app):
    browser = _browser(app, "owner_wuhan")
    page = browser.get("/account/notifications")
    r = browser.post("/account/notifications", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                     "email": "not an address", "locale": "zh_CN"})
    assert r.status_code == 422 and "请输入有效的电子邮箱地址。" in r.get_data(as_text=True)
    assert world.user("owner_wuhan").email == "owner_wuhan@example.com"  # unchanged
    r = browser.post("/account/notifications", data={"email": "x@example.com"})
    assert r.status_code == 400  # no CSRF token


def test_a_returned_case_notifies_the_enterprise_once_with_the_reason(world, api, smtp):
    case = start_filing(api("owner_wuhan"), serial="NOTIFY-RET")
    outbox.run_ready(world.engine)
    r = api("reg_wuhan").post(f"/api/v1/tasks/{open_task_id(case)}/complete",
                              json={"data": {"decision": "return", "reason": "产品合格证照片不清晰"}})
    assert r.status_code == 200, r.get_data(as_text=True)
    owner = world.users["owner_wuhan"]
    rows = [row for row in _rows(world.engine, user_id=owner)]
    assert [row.kind for row in rows] == ["case_returned"]  # not also "a new task" for the same step
    title, body = notifications.render(rows[0], "zh_CN")
    assert title.startswith("案件被退回补正") and "产品合格证照片不清晰" in body
    assert outbox.run_ready(world.engine) == {"done": 1}
    (mail,) = smtp.mailbox.to("owner_wuhan@example.com")
    assert "退回补正" in mail["Subject"] and "产品合格证照片不清晰" in mail.get_content()
    assert "/tasks/" in rows[0].link


def test_deadline_reminders_fire_for_an_open_task_and_not_for_a_completed_one(world, api):
    first = start_filing(api("owner_wuhan"), serial="NOTIFY-DUE-1")
    second = start_filing(api("owner_wuhan"), serial="NOTIFY-DUE-2")
    open_id, done_id = open_task_id(first), open_task_id(second)
    with Session(world.engine) as s:
        task = s.get(HumanTask, open_id)
        soon = s.scalar(select(DueJob).where(DueJob.key == f"deadline:{open_id}:soon"))
        overdue = s.scalar(select(DueJob).where(DueJob.key == f"deadline:{open_id}:overdue"))
    eve = soon.due_at.astimezone(CHINA_TZ)
    assert (eve.hour, eve.minute) == (9, 0) and eve.date() < task.due_at.astimezone(CHINA_TZ).date()
    assert overdue.due_at > task.due_at and soon.instance_id is None
    assert due_jobs.run_due(world.engine) == 0  # nothing due yet

    r = api("reg_wuhan").post(f"/api/v1/tasks/{done_id}/complete", json={"data": {"decision": "approve"}})
    assert r.status_code == 200
    for key in (f"deadline:{open_id}:soon", f"deadline:{done_id}:soon"):
        _due_now(world.engine, key)
    assert due_jobs.run_due(world.engine) == 2
    rows = _rows(world.engine, kind="task_due_soon")
    assert rows and {row.link for row in rows} == {f"/tasks/{open_id}"}  # the completed task: nothing
    assert world.users["reg_wuhan"] in {row.user_id for row in rows}
    title, _ = notifications.render(rows[0], "en")
    assert title.startswith("Due soon:")

    _due_now(world.engine, f"deadline:{open_id}:overdue")
    assert due_jobs.run_due(world.engine) == 1
    assert {row.link for row in _rows(world.engine, kind="task_overdue")} == {f"/tasks/{open_id}"}


@pytest.mark.postgres
def test_a_reminder_waits_for_a_completion_in_progress_and_then_does_nothing(world, api, postgres_only):
    from engine.bpmn.store import lock_task

    task_id = open_task_id(start_filing(api("owner_wuhan"), serial="NOTIFY-RACE"))
    _due_now(world.engine, f"deadline:{task_id}:soon")
    results = []
    sweeper = threading.Thread(target=lambda: results.append(due_jobs.run_due(world.engine)))
    with unit_of_work(world.engine) as s:  # a completion holding the task row
        task = lock_task(s, task_id)
        task.status, task.completed_at = "completed", utcnow()
        sweeper.start()
        sweeper.join(1.0)
        assert sweeper.is_alive()  # the reminder waits for the task row
    sweeper.join(30)
    assert results == [1] and _rows(world.engine, kind="task_due_soon") == []


def test_a_claimed_task_reminds_only_its_holder(world, api):
    case = start_filing(api("owner_wuhan"), serial="NOTIFY-CLAIM")
    task_id = open_task_id(case)
    assert api("reg_wuhan2").post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    _due_now(world.engine, f"deadline:{task_id}:overdue")
    assert due_jobs.run_due(world.engine) == 1
    assert _notified(world, "task_overdue") == ["reg_wuhan2"]


def test_an_expiring_certificate_notifies_its_enterprise(world, api, smtp):
    valid_until = datetime.now(CHINA_TZ).date() + timedelta(days=40)
    person = {"name": "孙大海", "id_number": "420106198001010015", "certificates": [
        {"kind": "special_operation", "category": "08", "number": "鄂A082024000777", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": valid_until.isoformat()}]}
    r = api("installer_wuhan").post("/api/v1/personnel", json=person)
    assert r.status_code == 201, r.get_data(as_text=True)
    with Session(world.engine) as s:
        jobs = s.scalars(select(DueJob).where(DueJob.kind == "expiry_notice").order_by(DueJob.due_at)).all()
    assert [(j.payload["stage"], j.due_at.astimezone(CHINA_TZ).date()) for j in jobs] == [
        ("30d", valid_until - timedelta(days=30)), ("0d", valid_until)]
    _due_now(world.engine, jobs[0].key)
    assert due_jobs.run_due(world.engine) == 1
    assert _notified(world, "certificate_expiring") == ["installer_wuhan"]
    (row,) = _rows(world.engine, kind="certificate_expiring")
    title, body = notifications.render(row, "zh_CN")
    assert "鄂A082024000777" in title and "孙大海" in body and "40 天" in body
    outbox.run_ready(world.engine)
    (mail,) = smtp.mailbox.to("installer_wuhan@example.com")
    assert "证书即将到期" in mail["Subject"]


def test_an_expiring_assessment_notifies_the_owner_unless_a_later_one_decides(world, api):
    case = start_filing(api("owner_wuhan"), serial="NOTIFY-ASSESS")
    owner = world.user("owner_wuhan")
    inspector = world.user("inspector_wuhan")
    valid_until = datetime.now(CHINA_TZ).date() + timedelta(days=20)
    with unit_of_work(world.engine) as s:
        crane = s.get(Crane, case["subject"]["id"])
        s.add(OperationRecord(crane_id=crane.id, kind="assessment", performed_on=date.today() - timedelta(days=345),
                              enterprise_id=owner.enterprise_id, performer_enterprise_id=inspector.enterprise_id,
                              person_in_charge="郑丽", result="qualified", report_number="PG-2025-001",
                              valid_until=valid_until, summary="安全评估合格"))
    with Session(world.engine) as s:
        (job,) = s.scalars(select(DueJob).where(DueJob.kind == "expiry_notice")).all()
    assert job.payload["subject"] == "assessment" and job.payload["stage"] == "0d"  # 30 days before: already past
    _due_now(world.engine, job.key)
    assert due_jobs.run_due(world.engine) == 1
    (row,) = _rows(world.engine, kind="assessment_expires_today")
    assert row.user_id == owner.id and row.link == f"/cranes/{case['subject']['id']}"
    assert "PG-2025-001" in notifications.render(row, "zh_CN")[1]


def test_the_same_key_twice_and_a_repeated_dispatch_send_one_email(world, smtp):
    user = world.user("reg_wuhan")
    params = {"person": "测试", "number": "X-1", "valid_until": "2030-01-01", "days": 3}
    with unit_of_work(world.engine) as s:
        first = notifications.notify(s, user, "certificate_expiring", "notify:probe:1", params)
        assert notifications.notify(s, user, "certificate_expiring", "notify:probe:1", params) is None
    with unit_of_work(world.engine) as s:
        assert notifications.notify(s, user, "certificate_expiring", "notify:probe:1", params) is None
    assert first is not None and len(_rows(world.engine, key="notify:probe:1")) == 1
    with Session(world.engine) as s:
        (message,) = s.scalars(select(OutboxMessage).where(OutboxMessage.key == "notify:probe:1")).all()
    assert outbox.run_ready(world.engine) == {"done": 1}
    assert outbox.run_ready(world.engine) == {}
    assert outbox.dispatch(world.engine, message.id) == "skipped"
    with unit_of_work(world.engine) as s:  # redelivered as if the outcome had never been recorded
        s.execute(text("UPDATE outbox_message SET status = 'pending', available_at = :t WHERE id = :id"),
                  {"id": message.id, "t": utcnow() - timedelta(seconds=1)})
    assert outbox.dispatch(world.engine, message.id) == "done"
    assert len(smtp.mailbox.to("reg_wuhan@example.gov.cn")) == 1


def test_no_email_without_smtp_or_without_an_address(world, api):
    previous = mailer.get_settings()
    mailer.configure(mailer.MailSettings())  # no SMTP_HOST
    try:
        case = start_filing(api("owner_wuhan"), serial="NOTIFY-OFF")
    finally:
        mailer.configure(previous)
    assert _rows(world.engine, kind="task_opened")  # in-app still
    with Session(world.engine) as s:
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.topic == notifications.EMAIL_TOPIC)) is None
    assert case["id"]


def test_smtp_down_the_email_waits_and_is_delivered_once_the_server_is_up(world, api, smtp_down):
    start_filing(api("owner_wuhan"), serial="NOTIFY-DOWN")
    key_prefix = "notify:task_opened:"
    outcomes = outbox.run_ready(world.engine)
    assert set(outcomes) == {"retry"}
    with Session(world.engine) as s:
        messages = s.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith(key_prefix))).all()
    assert messages and all(m.status == "pending" and m.attempts == 1 and m.available_at > utcnow()
                            and "Connection" in m.last_error for m in messages)
    assert outbox.run_ready(world.engine) == {}  # not before its backoff
    smtp_down.start()
    later = utcnow() + timedelta(minutes=2)
    assert outbox.run_ready(world.engine, now=later) == {"done": len(messages)}
    assert len(smtp_down.mailbox.to("reg_wuhan@example.gov.cn")) == 1
    assert outbox.run_ready(world.engine, now=later) == {}
    assert len(smtp_down.mailbox.messages) == len(messages)


def test_bell_count_list_and_mark_read_via_api_and_page(world, app, api):
    start_filing(api("owner_wuhan"), serial="NOTIFY-BELL-1")
    start_filing(api("owner_wuhan"), serial="NOTIFY-BELL-2")
    reg = api("reg_wuhan")
    listing = reg.get("/api/v1/notifications").get_json()
    assert listing["total"] == 2 and listing["unread"] == 2
    newest, older = listing["items"]
    assert newest["id"] > older["id"] and newest["title"].startswith("新待办")
    assert reg.get("/api/v1/notifications?lang=en").get_json()["items"][0]["title"].startswith("New task:")
    assert reg.get("/api/v1/notifications?per_page=0").status_code == 422

    browser = _browser(app, "reg_wuhan")
    page = browser.get("/inbox").get_data(as_text=True)
    assert 'data-testid="bell-count">2<' in page
    r = reg.post(f"/api/v1/notifications/{older['id']}/read")
    assert r.status_code == 200 and r.get_json()["read"] is True
    assert reg.get("/api/v1/notifications?unread=true").get_json()["total"] == 1
    html = browser.get("/notifications").get_data(as_text=True)
    assert 'data-testid="bell-count">1<' in html
    assert f'data-testid="notification-{newest["id"]}" class="unread"' in html
    assert f'data-testid="notification-{older["id"]}" class="read"' in html
    r = browser.post(f"/notifications/{newest['id']}/read", data={"csrf_token": csrf_from(html), "open": "1"})
    assert r.status_code == 302 and r.headers["Location"].endswith(newest["link"])
    assert reg.get("/api/v1/notifications").get_json()["unread"] == 0
    assert 'data-testid="bell-count"' not in browser.get("/notifications").get_data(as_text=True)

    start_filing(api("owner_wuhan"), serial="NOTIFY-BELL-3")
    html = browser.get("/notifications").get_data(as_text=True)
    r = browser.post("/notifications/read-all", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302
    assert reg.get("/api/v1/notifications").get_json()["unread"] == 0
    assert browser.post("/notifications/read-all").status_code == 400  # no CSRF token


def test_someone_elses_notification_is_404(world, app, api):
    start_filing(api("owner_wuhan"), serial="NOTIFY-OTHER")
    mine = api("reg_wuhan").get("/api/v1/notifications").get_json()["items"][0]["id"]
    other = api("reg_wuhan2")
    r = other.post(f"/api/v1/notifications/{mine}/read")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"
    assert other.post("/api/v1/notifications/999999/read").status_code == 404
    browser = _browser(app, "reg_yichang")
    html = browser.get("/notifications").get_data(as_text=True)
    assert browser.post(f"/notifications/{mine}/read", data={"csrf_token": csrf_from(html)}).status_code == 404
    (row,) = _rows(world.engine, id=mine)
    assert row.read_at is None
    assert other.post("/api/v1/notifications/read-all").status_code == 200
    assert _rows(world.engine, id=mine)[0].read_at is None  # read-all marks only one's own


def test_backfill_schedules_notices_for_rows_recorded_before(world, api):
    valid_until = datetime.now(CHINA_TZ).date() + timedelta(days=90)
    person = {"name": "周小平", "id_number": "420102198807070011", "certificates": [
        {"kind": "special_operation", "category": "08", "number": "鄂A082024000888", "issuer": "湖北省住房和城乡建设厅",
         "valid_until": valid_until.isoformat()}]}
    assert api("installer_wuhan").post("/api/v1/personnel", json=person).status_code == 201
    with unit_of_work(world.engine) as s:
        s.execute(text("DELETE FROM due_job WHERE kind = 'expiry_notice'"))
    with unit_of_work(world.engine) as s:
        assert notifications.backfill_expiry_jobs(s) == 2
    with unit_of_work(world.engine) as s:
        assert notifications.backfill_expiry_jobs(s) == 0


def test_demo_accounts_have_example_emails(world):
    with Session(world.engine) as s:
        emails = dict(s.execute(select(User.username, User.email)).all())
    assert emails["reg_wuhan"] == "reg_wuhan@example.gov.cn" and emails["owner_wuhan"] == "owner_wuhan@example.com"
