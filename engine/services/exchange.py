"""Data exchange with the national platform and local systems (docs/data-exchange.md).

Every change to a filing, registration, notice, inspection or rectification becomes an
`ExchangeRecord`, written in the transaction of the change: the audit subscriber notes the
change, and just before the commit the record is written with a snapshot of the entity as the
transaction leaves it. Each record is then
- pushed, signed, to EXCHANGE_PUSH_URL through the transactional outbox (retried with backoff,
  dead after its attempts, idempotent at the receiver by its key), and
- readable by regulators through the pull API, in cursor (id) order.
"""
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.orm import Session

from engine.db import ExchangeRecord, OutboxMessage, User, utcnow
from engine.db.jobs import MESSAGE_STATES
from engine.errors import NotPermitted
from forms import t

from . import audit, outbox
from .access import region_codes_filter
from .exchange_mapping import classify, snapshot
from .settings import CHINA_TZ

log = logging.getLogger("craneflow.exchange")

TOPIC = "exchange.push"
FORMAT = "craneflow.exchange/1"
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
# A receiver refuses a signature whose timestamp is further than this from its clock.
SIGNATURE_TOLERANCE_SECONDS = 300
# 30 s, 1, 2, 4 … minutes, then hourly: about five hours of outage before a message is dead.
MAX_ATTEMPTS, BACKOFF_BASE, BACKOFF_CAP = 12, 30.0, 3600.0
RETRY_STATUSES = frozenset({408, 429})

_PENDING = "exchange_pending"
# pg_advisory_xact_lock key serialising the last step of transactions that write change records.
ORDER_LOCK = 0x43524558  # "CREX"


@dataclass(frozen=True)
class PushConfig:
    url: str = ""
    secret: str = ""
    timeout: float = 10.0


_config = PushConfig()


def configure(config: PushConfig) -> None:
    """Set by the application at start-up (web and workers alike)."""
    global _config
    _config = config
    if config.url and not config.secret:
        log.error("configuration error: EXCHANGE_PUSH_URL is set but EXCHANGE_SECRET is not; "
                  "change records will not be pushed")


def push_config() -> PushConfig:
    return _config


# --- recording, in the transaction of the change ---------------------------------------------

@audit.subscribe
def _note_change(session: Session, evt: audit.Event) -> None:
    change = classify(evt)
    if change is not None:
        session.info.setdefault(_PENDING, []).append((change, evt))


@event.listens_for(Session, "before_commit")
def _write_noted_changes(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        write_records(session, pending)


@event.listens_for(Session, "after_rollback")
def _forget_noted_changes(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _change_json(evt: audit.Event) -> dict:
    change = {"action": evt.action, "step": evt.task_name, "from_state": evt.from_state, "to_state": evt.to_state}
    if evt.detail.get("reason"):
        change["reason"] = evt.detail["reason"]
    return change


def _case_json(instance) -> dict:
    return {"id": instance.id, "business_key": instance.business_key, "process_key": instance.process_key}


def write_records(session: Session, pending: list) -> list[int]:
    """Write the noted changes (in order) and emit their pushes; returns the new record ids.

    Runs just before the commit. On PostgreSQL a transaction-scoped advisory lock, taken after
    everything else is written, makes the records of concurrent transactions commit in id order:
    a pull reader that has seen id n never later finds a smaller id appear behind its cursor."""
    session.flush()
    found = [(change, evt, snapshot(session, change.record_type, evt.instance)) for change, evt in pending]
    found = [item for item in found if item[2] is not None]
    if not found:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ORDER_LOCK})
    ids = []
    for change, evt, snap in found:
        record_id = session.scalar(insert(ExchangeRecord).values(
            record_type=change.record_type, operation=change.operation, entity_type=snap.entity_type,
            entity_id=snap.entity_id, region_code=snap.region_code, instance_id=evt.instance.id,
            payload={"case": _case_json(evt.instance), "change": _change_json(evt), "data": snap.data},
            created_at=utcnow()).returning(ExchangeRecord.id))
        ids.append(record_id)
        if _config.url:
            outbox.emit(session, TOPIC, key=push_key(record_id), payload={"record_id": record_id})
    return ids


def push_key(record_id: int) -> str:
    return f"exchange:{record_id}"


def envelope(record: ExchangeRecord) -> dict:
    """The record as it is pushed and pulled."""
    payload = record.payload or {}
    return {"format": FORMAT, "id": record.id, "key": push_key(record.id), "record_type": record.record_type,
            "operation": record.operation, "entity_type": record.entity_type, "entity_id": record.entity_id,
            "region_code": record.region_code, "occurred_at": record.created_at.astimezone(CHINA_TZ).isoformat(),
            "case": payload.get("case"), "change": payload.get("change"), "data": payload.get("data")}


def encode(record: ExchangeRecord) -> bytes:
    return json.dumps(envelope(record), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- signing -------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 with the shared secret over "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str | None, body: bytes, signature: str | None, *, now: float | None = None,
           tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: a fresh timestamp and the signature of exactly these bytes."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except (TypeError, ValueError):
        return False
    if not secret or age > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


# --- pushing, after the commit --------------------------------------------------------------

class DeliveryFailed(Exception):
    """The receiver is away or busy: try again later."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect would resend the body unsigned elsewhere (or as a GET): refused


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(300).decode("utf-8", "replace")


@outbox.topic(TOPIC, max_attempts=MAX_ATTEMPTS, backoff_base=BACKOFF_BASE, backoff_cap=BACKOFF_CAP)
def push(bind, message: outbox.Message) -> None:
    config = _config
    if not config.url:
        raise outbox.Permanent("EXCHANGE_PUSH_URL is not set")
    if not config.secret:
        log.error("configuration error: EXCHANGE_PUSH_URL is set but EXCHANGE_SECRET is not; "
                  "change records are never pushed unsigned (message %s is dead)", message.key)
        raise outbox.Permanent("configuration error: EXCHANGE_SECRET is not set")
    with Session(bind) as session:
        record = session.get(ExchangeRecord, message.payload.get("record_id"))
        if record is None:
            raise outbox.Permanent(f"change record {message.payload.get('record_id')} not found")
        body = encode(record)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "CraneFlow-exchange/1",
               "Idempotency-Key": message.key, "X-CraneFlow-Timestamp": timestamp,
               "X-CraneFlow-Signature": sign(config.secret, timestamp, body)}
    status, detail = _post(config.url, body, headers, config.timeout)
    if 200 <= status < 300:
        return
    if status in RETRY_STATUSES or status >= 500:
        raise DeliveryFailed(f"HTTP {status} {detail}".strip())
    raise outbox.Permanent(f"refused by the receiver: HTTP {status} {detail}".strip())


# --- pulling --------------------------------------------------------------------------------

def check_reader(user: User) -> None:
    if user.kind != "regulator" or not user.is_active:
        raise NotPermitted(t("exchange_regulators_only"))


def list_changes(session: Session, *, user: User, after: int = 0, limit: int = DEFAULT_LIMIT) -> dict:
    """Change records after the cursor, oldest first: province regulators all of them, city and
    county regulators those of their jurisdiction."""
    check_reader(user)
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = select(ExchangeRecord).where(ExchangeRecord.id > after)
    if user.regulator_level != "province":
        stmt = stmt.where(region_codes_filter(user, ExchangeRecord.region_code))
    rows = list(session.scalars(stmt.order_by(ExchangeRecord.id).limit(limit + 1)))
    page = rows[:limit]
    return {"changes": [envelope(r) for r in page], "next_cursor": page[-1].id if page else after,
            "has_more": len(rows) > limit}


# --- for the administrators' page -----------------------------------------------------------

def delivery_summary(session: Session, *, now: datetime | None = None) -> dict:
    """Pushes by outbox status, the age of the oldest one not yet delivered, the last record."""
    counts = dict.fromkeys(MESSAGE_STATES, 0)
    counts.update({status: n for status, n in session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.topic == TOPIC).group_by(OutboxMessage.status))})
    oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.topic == TOPIC, OutboxMessage.status.in_(("pending", "running"))))
    return {"topic": TOPIC, "push_configured": bool(_config.url), "counts": counts,
            "oldest_pending_seconds": round(((now or utcnow()) - oldest).total_seconds(), 1) if oldest else None,
            "last_record_id": session.scalar(select(func.max(ExchangeRecord.id)))}
