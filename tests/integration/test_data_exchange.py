"""Data exchange: change records written with each change, pushed signed through the outbox to a
receiver that fails on purpose, delivered exactly once when it is back; and the pull API."""
import json
import logging
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import Crane, ExchangeRecord, OutboxMessage, utcnow
from engine.db.uow import unit_of_work
from engine.services import cases, exchange, outbox
from engine.services.exchange_mapping import FIELDS, RECORD_TYPES
from tests.helpers import approved_crane, filing_data, open_task_id, start_filing, uscc_of
from tests.integration import test_inspection_api as inspection
from tests.integration import test_installation_api as site
from tests.integration.test_pages_security import _browser

SECRET = "receiver-shared-secret"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-exchange.md"
LATER = timedelta(hours=2)  # past the longest backoff (one hour, +20 %)


class Receiver:
    """A local HTTP receiver: verifies signatures, keeps accepted bodies by Idempotency-Key, and
    fails on purpose (every n-th request, a full outage, or a fixed answer)."""

    def __init__(self, secret=SECRET):
        self.secret = secret
        self.accepted: dict[str, list[dict]] = {}
        self.requests = 0
        self.bad_signatures = 0
        self.fail_every = 0
        self.outage = False
        self.answer: int | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._reply(receiver.handle(self.headers, body))

            def _reply(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/exchange"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, headers, body: bytes) -> int:
        with self.lock:
            self.requests += 1
            if self.outage:
                return 503
            if self.answer is not None:
                return self.answer
            if self.fail_every and self.requests % self.fail_every == 0:
                return 503
            if not exchange.verify(self.secret, headers.get("X-CraneFlow-Timestamp"), body,
                                   headers.get("X-CraneFlow-Signature")):
                self.bad_signatures += 1
                return 401
            record = json.loads(body)
            assert headers["Idempotency-Key"] == record["key"] == f"exchange:{record['id']}"
            self.accepted.setdefault(headers["Idempotency-Key"], []).append(record)
            return 200


@pytest.fixture
def receiver(world):
    rx = Receiver()
    rx.thread.start()
    exchange.configure(exchange.PushConfig(url=rx.url, secret=SECRET, timeout=5))
    yield rx
    exchange.configure(exchange.PushConfig())
    rx.server.shutdown()
    rx.server.server_close()


@pytest.fixture
def installed(api):
    """A Wuhan crane filed and acknowledged on the inspection tests' project (installing)."""
    site.register(api, "installer_wuhan", site.CREW)
    site.register(api, "contractor_wuhan", [inspection.MANAGER])
    crane_id = approved_crane(api, "EX-SITE")
    site.acknowledged(api, crane_id)
    return crane_id


def records(world) -> list[ExchangeRecord]:
    with Session(world.engine) as s:
        return list(s.scalars(select(ExchangeRecord).order_by(ExchangeRecord.id)))


def messages(world) -> list[OutboxMessage]:
    with Session(world.engine) as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.topic == exchange.TOPIC)
                              .order_by(OutboxMessage.id)))


def decide(api, username, case, decision, reason=None):
    data = {"decision": decision, **({"reason": reason} if reason else {})}
    r = api(username).post(f"/api/v1/tasks/{open_task_id(case)}/complete", json={"data": data})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def filed_crane(api, serial, owner="owner_wuhan", regulator="reg_wuhan"):
    case = start_filing(api(owner), serial=serial)
    decide(api, regulator, case, "approve")
    return case


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_an_approved_crane_filing_gives_mapped_records_pushed_signed(world, api, receiver):
    case = filed_crane(api, "EX-1")
    rows = records(world)
    assert [(r.record_type, r.operation) for r in rows] == [("crane_record", "submitted"), ("crane_record", "approved")]
    with Session(world.engine) as s:
        crane = s.get(Crane, case["subject"]["id"])
        number, owner_name = crane.record_number, crane.owner.name
    approved = rows[1]
    assert (approved.entity_type, approved.entity_id, approved.region_code) == ("crane", crane.id, "420106")
    data = approved.payload["data"]
    assert re.fullmatch(r"鄂A-T\d{9}", data["sbbabh"]) and data["sbbabh"] == number
    assert (data["sblxdm"], data["sblxmc"], data["ggxh"], data["ccbh"]) == ("T", "塔式起重机", "QTZ80(TC5610-6)", "EX-1")
    assert data["zzdw"] == "中联重科股份有限公司" and data["edqzlj"] == 800
    assert (data["cqdwtyshxydm"], data["cqdwmc"]) == (uscc_of(api, "owner_wuhan"), owner_name)
    assert data["sbzt"] == "filed" and data["bajgqhdm"] == "420106" and data["barq"]
    assert rows[0].payload["data"]["sbzt"] == "pending_review" and rows[0].payload["data"]["sbbabh"] is None
    assert approved.payload["case"] == {"id": case["id"], "business_key": case["business_key"],
                                        "process_key": "crane_registration"}
    assert approved.payload["change"]["action"] == "decision" and approved.payload["change"]["step"] == "review_filing"
    assert set(_keys(data)) <= set(FIELDS)

    assert [m.key for m in messages(world)] == [f"exchange:{r.id}" for r in rows]
    assert outbox.run_ready(world.engine) == {"done": 2}
    assert receiver.bad_signatures == 0 and set(receiver.accepted) == {f"exchange:{r.id}" for r in rows}
    pushed = receiver.accepted[f"exchange:{approved.id}"][0]
    assert pushed["record_type"] == "crane_record" and pushed["operation"] == "approved"
    assert pushed["data"]["sbbabh"] == number and pushed["region_code"] == "420106"


def test_returned_resubmitted_and_rejected_filings_are_exchanged(world, api, receiver):
    case = start_filing(api("owner_wuhan"), serial="EX-RET")
    decide(api, "reg_wuhan", case, "return", reason="出厂合格证不清晰")
    owner = api("owner_wuhan")
    task = owner.get("/api/v1/tasks").get_json()["items"][0]
    r = owner.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": filing_data(owner, serial="EX-RET")})
    assert r.status_code == 200, r.get_data(as_text=True)
    decide(api, "reg_wuhan", r.get_json(), "reject", reason="不符合备案条件")
    rows = records(world)
    assert [r.operation for r in rows] == ["submitted", "returned", "resubmitted", "rejected"]
    assert rows[1].payload["change"]["reason"] == "出厂合格证不清晰"
    assert rows[1].payload["data"]["sbzt"] == "returned" and rows[3].payload["data"]["sbzt"] == "rejected"


def test_an_enterprise_filing_is_exchanged_with_its_approved_record(app, world, api):
    from tests.integration import test_enterprise_filing_api as ent

    r = ent.sign_up(app)
    assert r.status_code == 201, r.get_data(as_text=True)
    me, uscc = ent.Bearer(app, r.get_json()["token"]), ent._uscc("MA4N00001")
    r = me.post("/api/v1/cases", json={"process_key": "enterprise_filing", "data": ent.filing(me, uscc)})
    assert r.status_code == 201, r.get_data(as_text=True)
    decide(api, "reg_wuhan", r.get_json(), "approve")
    submitted, approved = records(world)
    assert (submitted.record_type, submitted.operation, approved.operation) == ("enterprise_filing", "submitted",
                                                                                "approved")
    assert submitted.payload["data"]["qyzt"] == "pending" and submitted.payload["data"]["qyjs"] == []
    data = approved.payload["data"]
    assert (approved.entity_type, approved.region_code) == ("enterprise", "420106")
    assert (data["tyshxydm"], data["qymc"], data["qyjs"]) == (uscc, "武汉新塔起重设备安装有限公司", ["installer", "owner"])
    assert (data["qyzt"], data["ythqy"], data["zzdj"], data["aqxkzyxq"]) == ("approved", True, "二级", "2027-06-30")
    assert "11010519491231002X" not in json.dumps(approved.payload, ensure_ascii=False)  # no resident IDs


def test_a_cancelled_record_is_exchanged_as_cancellation_and_crane_record(world, api):
    crane_id = filed_crane(api, "EX-CANCEL")["subject"]["id"]
    r = api("owner_wuhan").post("/api/v1/cases", json={"process_key": "record_cancellation",
                                                       "data": {"crane_id": crane_id, "reason": "scrapped"}})
    assert r.status_code == 201, r.get_data(as_text=True)
    decide(api, "reg_wuhan", r.get_json(), "approve")
    tail = [(r.record_type, r.operation, r.payload["data"]["sbzt"]) for r in records(world)][2:]
    assert tail == [("record_cancellation", "submitted", "filed"), ("crane_record", "cancelled", "cancelled"),
                    ("record_cancellation", "approved", "cancelled")]
    assert records(world)[-1].payload["data"]["zxyy"] == "scrapped"


def test_a_transition_that_rolls_back_leaves_no_record_and_no_push(world, api, receiver):
    data = filing_data(api("owner_wuhan"), serial="EX-ROLLBACK")
    with pytest.raises(RuntimeError), unit_of_work(world.engine) as s:
        cases.start_case(s, actor=world.user("owner_wuhan"), process_key="crane_registration", data=data)
        raise RuntimeError("the transaction fails after the change")
    assert records(world) == [] and messages(world) == []
    with unit_of_work(world.engine) as s:
        cases.start_case(s, actor=world.user("owner_wuhan"), process_key="crane_registration", data=data)
    assert [r.operation for r in records(world)] == ["submitted"] and len(messages(world)) == 1


def test_installation_and_rectification_are_exchanged(world, api, receiver, installed):
    case = inspection.start_check(api)
    inspection.reply(api, case["id"])
    site.complete(api, "supervisor_wuhan", case["id"], {"decision": "pass", "chief_supervisor": "吴总监"})
    site.complete(api, "reg_wuhan2", case["id"], inspection.reinspection([(1, "pass"), (2, "pass")]))
    rows = records(world)
    kinds = [(r.record_type, r.operation) for r in rows]
    assert ("installation_notice", "submitted") in kinds and ("installation_notice", "approved") in kinds
    acknowledged = next(r for r in rows if r.record_type == "crane_record" and r.operation == "updated")
    assert acknowledged.payload["change"]["to_state"] == "install_notified"
    # The snapshot is taken as the transaction leaves the crane: on its project.
    assert acknowledged.payload["data"]["xmbh"] == "4201062026-0001"
    notice = next(r for r in rows if r.record_type == "installation_notice" and r.operation == "approved")
    assert notice.entity_type == "case" and notice.payload["data"]["xmbh"] == "4201062026-0001"
    assert notice.payload["data"]["azdwtyshxydm"] == uscc_of(api, "installer_wuhan")
    assert notice.payload["data"]["sydwtyshxydm"] == uscc_of(api, "contractor_wuhan")
    tail = [(r.record_type, r.operation) for r in rows if r.instance_id == case["id"]]
    assert tail == [("inspection", "created"), ("rectification", "replied"), ("rectification", "reinspected")]
    created, _, closed = (r for r in rows if r.instance_id == case["id"])
    assert created.payload["data"]["wsbh"].startswith("鄂A整改") and created.payload["data"]["jczt"] == "open"
    assert [h["yhzt"] for h in created.payload["data"]["yhqd"]] == ["open", "open"]
    assert closed.payload["data"]["jczt"] == "closed" and {h["yhzt"] for h in closed.payload["data"]["yhqd"]} == {"closed"}
    assert closed.payload["change"]["to_state"] == "closed" and closed.region_code == "420106"
    for row in rows:
        assert row.record_type in RECORD_TYPES and set(_keys(row.payload["data"])) <= set(FIELDS)
    assert outbox.run_ready(world.engine) == {"done": len(rows)}
    assert len(receiver.accepted) == len(rows) and receiver.bad_signatures == 0


def test_failures_and_an_outage_back_off_then_every_record_arrives_exactly_once(world, api, receiver):
    receiver.fail_every = 3
    for serial in ("EX-A", "EX-B", "EX-C"):
        filed_crane(api, serial)
    rows = records(world)
    assert len(rows) == 6
    receiver.outage = True
    assert outbox.run_ready(world.engine) == {"retry": 6}
    first = messages(world)
    now = utcnow()
    assert all(m.status == "pending" and m.attempts == 1 and "503" in m.last_error for m in first)
    assert all(timedelta(seconds=20) < m.available_at - now <= timedelta(seconds=37) for m in first)  # 30 s ± 20 %
    assert outbox.run_ready(world.engine) == {}  # not before their time
    summary = exchange.delivery_summary(Session(world.engine))
    assert summary["counts"]["pending"] == 6 and summary["counts"]["done"] == 0
    assert summary["oldest_pending_seconds"] >= 0 and summary["last_record_id"] == rows[-1].id

    assert outbox.run_ready(world.engine, now=utcnow() + LATER) == {"retry": 6}
    second = messages(world)
    assert all(m.attempts == 2 and m.available_at - utcnow() > timedelta(seconds=45) for m in second)  # doubled
    receiver.outage = False
    for _ in range(6):
        if not outbox.run_ready(world.engine, now=utcnow() + LATER):
            break
    assert [m.status for m in messages(world)] == ["done"] * 6
    assert {key: len(bodies) for key, bodies in receiver.accepted.items()} == {f"exchange:{r.id}": 1 for r in rows}
    assert receiver.requests > 6 + 6 + 6  # two outage rounds, then the every-third failures
    assert exchange.delivery_summary(Session(world.engine))["counts"] == {"pending": 0, "running": 0, "done": 6,
                                                                          "dead": 0}


def _delivery_on_operations_page(app) -> dict:
    html = _browser(app, "admin").get("/admin/operations").get_data(as_text=True)
    return dict(re.findall(r'data-testid="exchange-(\w+)">([^<]*)<', html))


def test_a_refused_record_is_dead_at_once_and_resent_by_an_administrator(app, world, api, receiver):
    receiver.answer = 400
    start_filing(api("owner_wuhan"), serial="EX-400")
    assert outbox.run_ready(world.engine) == {"dead": 1}
    (dead,) = messages(world)
    assert dead.status == "dead" and dead.attempts == 1 and "HTTP 400" in dead.last_error
    shown = _delivery_on_operations_page(app)
    assert (shown["configured"], shown["pending"], shown["done"], shown["dead"]) == ("已配置", "0", "0", "1")
    assert shown["last"] == str(records(world)[-1].id)
    receiver.answer = None
    with unit_of_work(world.engine) as s:
        outbox.resend(s, dead.id)
    assert outbox.run_ready(world.engine) == {"done": 1}
    assert list(receiver.accepted) == [dead.key] and receiver.requests == 2
    assert (_delivery_on_operations_page(app)["done"], _delivery_on_operations_page(app)["dead"]) == ("1", "0")


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_busy_or_failing_receivers_are_retried(world, api, receiver, status):
    receiver.answer = status
    start_filing(api("owner_wuhan"), serial=f"EX-{status}")
    assert outbox.run_ready(world.engine) == {"retry": 1}


def test_a_wrong_secret_is_refused_by_the_receiver(world, api, receiver):
    exchange.configure(exchange.PushConfig(url=receiver.url, secret="not-the-shared-secret"))
    start_filing(api("owner_wuhan"), serial="EX-SIG")
    assert outbox.run_ready(world.engine) == {"dead": 1}
    assert receiver.bad_signatures == 1 and receiver.accepted == {}
    assert "HTTP 401" in messages(world)[0].last_error


def test_a_url_without_a_secret_is_a_configuration_error(world, api, receiver, caplog):
    exchange.configure(exchange.PushConfig(url=receiver.url, secret=""))
    start_filing(api("owner_wuhan"), serial="EX-NOSECRET")
    with caplog.at_level(logging.ERROR, logger="craneflow.exchange"):
        assert outbox.run_ready(world.engine) == {"dead": 1}
    assert receiver.requests == 0 and "EXCHANGE_SECRET" in caplog.text
    assert "EXCHANGE_SECRET" in messages(world)[0].last_error


def test_without_a_push_url_records_are_kept_for_pulling_only(world, api):
    filed_crane(api, "EX-NOURL")
    assert len(records(world)) == 2 and messages(world) == []


def _pull(client, after=None, limit=None, **params):
    query = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None} | params
    return client.get("/api/v1/exchange/changes", query_string=query)


def test_the_pull_api_pages_with_the_cursor(world, api):
    for serial in ("EX-P1", "EX-P2", "EX-P3"):
        filed_crane(api, serial)
    expected = [r.id for r in records(world)]
    province = api("reg_province")
    seen, cursor, pages = [], 0, 0
    while True:
        body = _pull(province, after=cursor, limit=4).get_json()
        seen += [c["id"] for c in body["changes"]]
        pages += 1
        assert body["next_cursor"] == (seen[-1] if seen else 0)
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == expected and pages == 2
    empty = _pull(province, after=cursor).get_json()
    assert empty == {"changes": [], "next_cursor": cursor, "has_more": False}
    first = _pull(province, limit=1).get_json()["changes"][0]
    assert first["format"] == exchange.FORMAT and first["key"] == f"exchange:{first['id']}"
    assert first["record_type"] == "crane_record" and first["data"]["ccbh"] == "EX-P1"


def test_the_pull_api_is_scoped_to_the_regulators_jurisdiction(world, api):
    filed_crane(api, "EX-WH")
    filed_crane(api, "EX-YC", owner="owner_yichang", regulator="reg_yichang")
    regions = {name: {c["region_code"] for c in _pull(api(name)).get_json()["changes"]}
               for name in ("reg_wuhan", "reg_yichang", "reg_province")}
    assert regions["reg_wuhan"] == {"420106"}
    assert regions["reg_yichang"] and all(code.startswith("4205") for code in regions["reg_yichang"])
    assert regions["reg_province"] == regions["reg_wuhan"] | regions["reg_yichang"]
    yichang = _pull(api("reg_yichang")).get_json()["changes"]
    assert {c["data"]["ccbh"] for c in yichang} == {"EX-YC"}


@pytest.mark.parametrize("username", ["owner_wuhan", "contractor_wuhan", "admin"])
def test_the_pull_api_refuses_enterprises_and_administrators(world, api, username):
    r = _pull(api(username))
    assert r.status_code == 403 and r.get_json()["message"] == "数据交换接口仅向住房城乡建设主管部门开放。"
    assert _pull(api(username), after="abc").status_code == 403  # the role is checked first


@pytest.mark.parametrize(("params", "field", "zh", "en"), [
    ({"after": "abc"}, "after", "应为整数。", "Must be a whole number."),
    ({"after": "-1"}, "after", "应在 0 到 2147483647 之间。", "Must be between 0 and 2147483647."),
    ({"limit": "501"}, "limit", "应在 1 到 500 之间。", "Must be between 1 and 500."),
    ({"cursor": "3"}, "cursor", "不接受的字段。", "Unknown field."),
])
def test_bad_pull_parameters_are_422_naming_the_field(world, api, params, field, zh, en):
    reg = api("reg_wuhan")
    r = reg.get("/api/v1/exchange/changes", query_string=params)
    assert r.status_code == 422 and r.get_json()["errors"] == {field: [zh]}
    r = reg.get("/api/v1/exchange/changes", query_string={**params, "lang": "en"})
    assert r.status_code == 422 and r.get_json()["errors"] == {field: [en]}


def test_every_field_and_record_type_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for key, (zh, _) in FIELDS.items():
        assert re.search(rf"\| `{key}` \| {re.escape(zh)} \|", text), key
    for record_type in RECORD_TYPES:
        assert f"`{record_type}`" in text


@pytest.mark.postgres
def test_records_become_visible_in_id_order(world, api, postgres_only):
    """A transaction writing change records waits for the ordering lock: while another holds it,
    nothing it writes is visible, so no smaller id can appear behind a reader's cursor."""
    from sqlalchemy import text

    data = filing_data(api("owner_wuhan"), serial="EX-ORDER")
    holder = Session(world.engine)
    holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": exchange.ORDER_LOCK})
    done = threading.Event()

    def transition():
        with unit_of_work(world.engine) as s:
            cases.start_case(s, actor=world.user("owner_wuhan"), process_key="crane_registration", data=data)
        done.set()

    worker = threading.Thread(target=transition)
    worker.start()
    try:
        assert not done.wait(1.0)  # blocked at the lock, before its commit
        with Session(world.engine) as s:
            assert s.scalar(select(func.count()).select_from(ExchangeRecord)) == 0
    finally:
        holder.rollback()
        holder.close()
    worker.join(10)
    assert done.is_set() and [r.operation for r in records(world)] == ["submitted"]
