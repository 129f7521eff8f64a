"""Transactional outbox: work a transition triggers is written in the transition's transaction.

`emit` inserts a message (a second emit with the same idempotency key adds nothing) and, once the
transaction has committed, hands its id to the dispatcher (a Celery task, or the in-process
loop). A message whose hand-over was lost (a crash between commit and enqueue, a broker outage)
is found by the next sweep; one whose dispatcher died mid-way is tried again when its lease ends.

`dispatch` leases a message (status running, in its own short transaction), runs its topic's
handler outside any lock, then records the outcome: done; or a retry after an exponential
backoff; or dead after `max_attempts` (an administrator can send it again). Handlers must be
idempotent by the message key: database effects keyed on it, remote calls carrying it as
Idempotency-Key.
"""
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from engine.db import OutboxMessage, utcnow
from engine.db.base import insert_ignore
from engine.db.uow import after_commit, unit_of_work
from engine.errors import Conflict, NotFound
from forms import t

log = logging.getLogger("craneflow.outbox")

LEASE = timedelta(seconds=60)
# A message emitted a moment ago is being handed over after its commit: the sweep leaves it alone.
HANDOVER_GRACE = timedelta(seconds=5)
ERROR_LIMIT = 2000


@dataclass(frozen=True)
class Message:
    """What a handler sees: a detached copy (handlers run outside the leasing transaction)."""

    id: int
    topic: str
    key: str
    payload: dict
    attempts: int


@dataclass(frozen=True)
class Topic:
    handler: Callable[[object, Message], None]  # (database engine, message)
    max_attempts: int = 10
    backoff_base: float = 2.0  # seconds before the 2nd try; doubled for each later one
    backoff_cap: float = 3600.0


_TOPICS: dict[str, Topic] = {}
_dispatcher: Callable[[list[int]], None] | None = None


class Permanent(Exception):
    """A failure that no retry can mend (e.g. a payload the receiver refuses): dead at once."""


def topic(name: str, **options):
    def register(fn):
        _TOPICS[name] = Topic(handler=fn, **options)
        return fn
    return register


def set_dispatcher(fn: Callable[[list[int]], None] | None) -> None:
    """Who receives the ids of committed messages (None: they wait for the sweep)."""
    global _dispatcher
    _dispatcher = fn


def emit(session: Session, topic_name: str, key: str, payload: dict, *, delay: timedelta | None = None) -> int | None:
    """Write a message in the caller's transaction; its id, or None when the key was emitted before."""
    now = utcnow()
    message_id = insert_ignore(session, OutboxMessage, {
        "topic": topic_name, "key": key, "payload": payload, "status": "pending", "attempts": 0,
        "available_at": now + (delay or timedelta()), "created_at": now})
    if message_id is not None and delay is None and _dispatcher is not None:
        pending = session.info.setdefault("outbox_ids", [])
        if not pending:
            after_commit(session, lambda: _hand_over(pending))
        pending.append(message_id)
    return message_id


def _hand_over(ids: list[int]) -> None:
    try:
        _dispatcher(list(ids))
    except Exception:  # the broker is away: the sweep finds the messages later
        log.warning("could not hand over outbox messages %s; the sweep will", ids, exc_info=True)


def claim_ready(bind, *, now: datetime | None = None, limit: int = 500,
                grace: timedelta = HANDOVER_GRACE) -> list[int]:
    """Messages due for a (first, retried, or abandoned) dispatch, made available to the caller."""
    now = now or utcnow()
    with unit_of_work(bind) as session:
        stmt = (select(OutboxMessage.id).where(or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.available_at <= now,
                 or_(OutboxMessage.attempts > 0, OutboxMessage.created_at <= now - grace)),
            and_(OutboxMessage.status == "running", OutboxMessage.available_at <= now)))
            .order_by(OutboxMessage.available_at).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(session.scalars(stmt))
        if ids:  # an abandoned lease is pending again: the claimer dispatches them at once
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(status="pending"))
    return ids


def _lease(bind, message_id: int, now: datetime) -> Message | None:
    with unit_of_work(bind) as session:
        stmt = select(OutboxMessage).where(OutboxMessage.id == message_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        msg = session.scalar(stmt)
        if msg is None or msg.status != "pending" or msg.available_at > now:
            return None
        msg.status, msg.attempts, msg.available_at = "running", msg.attempts + 1, now + LEASE
        return Message(msg.id, msg.topic, msg.key, dict(msg.payload or {}), msg.attempts)


def backoff(spec: Topic, attempts: int) -> timedelta:
    """Exponential, capped, with ±20 % jitter so that retries after an outage do not stampede."""
    delay = min(spec.backoff_cap, spec.backoff_base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def dispatch(bind, message_id: int, *, now: datetime | None = None) -> str:
    """Run one message: 'done', 'retry', 'dead' or 'skipped' (not due, or taken by another)."""
    message = _lease(bind, message_id, now or utcnow())
    if message is None:
        return "skipped"
    spec = _TOPICS.get(message.topic)
    error, permanent = None, False
    if spec is None:
        error, permanent = f"no handler for topic {message.topic!r}", True
    else:
        try:
            spec.handler(bind, message)
        except Permanent as exc:
            error, permanent = f"{exc}", True
        except Exception as exc:
            log.warning("outbox message %s (%s) failed: %s", message.id, message.key, exc)
            error = f"{type(exc).__name__}: {exc}"
    now = utcnow()
    with unit_of_work(bind) as session:
        msg = session.get(OutboxMessage, message.id)
        if msg.status != "running" or msg.attempts != message.attempts:
            return "skipped"  # our lease ran out and another dispatcher took over
        if error is None:
            msg.status, msg.done_at, msg.last_error = "done", now, None
            return "done"
        msg.last_error = error[:ERROR_LIMIT]
        if permanent or msg.attempts >= (spec.max_attempts if spec else 1):
            msg.status = "dead"
            return "dead"
        msg.status, msg.available_at = "pending", now + backoff(spec, msg.attempts)
        return "retry"


def resend(session: Session, message_id: int) -> OutboxMessage:
    """An administrator sends a dead message again (after fixing what made it fail)."""
    msg = session.get(OutboxMessage, message_id, with_for_update=session.get_bind().dialect.name != "sqlite")
    if msg is None:
        raise NotFound(t("ops_message_not_found"))
    if msg.status != "dead":
        raise Conflict(t("ops_message_not_dead"))
    msg.status, msg.attempts, msg.available_at = "pending", 0, utcnow()
    return msg


def run_ready(bind, *, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Dispatch every ready message in this process (embedded default and tests)."""
    outcomes: dict[str, int] = {}
    for message_id in claim_ready(bind, now=now, limit=limit, grace=timedelta()):
        outcome = dispatch(bind, message_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
