"""Audit chain verification as background work: when an administrator asks for it (the admin page,
the API) and once a day, never inside a web request (a million events take over a minute). A run that
finds a broken chain tells every system administrator."""
import logging
from datetime import timedelta
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import OutboxMessage, User, utcnow
from engine.db.uow import unit_of_work

from . import audit_chain, notifications, outbox
from .settings import CHINA_TZ, get_settings

log = logging.getLogger("craneflow.audit")

TOPIC = "audit.verify"
# A daily run is due once the last run is this old (so a run asked for in the evening counts).
DAILY_AFTER = timedelta(hours=20)


def pending(session: Session) -> bool:
    """Whether a verification is queued or running."""
    return bool(session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == TOPIC, OutboxMessage.status.in_(("pending", "running")))))


def request(session: Session, *, actor: User | None = None, key: str | None = None) -> bool:
    """Queue a verification of every chain; False when one is queued or running already."""
    if pending(session):
        return False
    payload = {"actor_id": actor.id if actor is not None else None}
    return outbox.emit(session, TOPIC, key or f"audit-verify:{uuid4().hex}", payload) is not None


def request_daily(bind, *, now=None) -> bool:
    """Queue the day's verification (China date in the key: at most one a day) unless disabled or a
    run finished recently."""
    if not get_settings().audit_verify_daily:
        return False
    now = now or utcnow()
    with unit_of_work(bind) as session:
        last = audit_chain.last_run(session)
        if last is not None and now - last.started_at < DAILY_AFTER:
            return False
        return request(session, key=f"audit-verify:daily:{now.astimezone(CHINA_TZ):%Y-%m-%d}")


@outbox.topic(TOPIC, max_attempts=3, backoff_base=60.0)
def _verify(bind, message: outbox.Message) -> None:
    actor_id = message.payload.get("actor_id")
    with Session(bind) as session:
        actor = session.get(User, actor_id) if actor_id else None
        if actor is not None:
            session.expunge(actor)
    report, run = audit_chain.run(bind, actor=actor)
    if report.ok:
        return
    log.error("audit chain verification %s: %d broken chain(s), first %s", run.id, len(report.broken),
              report.broken[0].chain)
    with unit_of_work(bind) as session:
        for admin in session.scalars(select(User).where(User.kind == "admin", User.is_active.is_(True))):
            notifications.notify(session, admin, "audit_broken", f"notify:audit_broken:{run.id}:{admin.id}",
                                 {"broken": len(report.broken), "chain": report.broken[0].chain,
                                  "events": report.events}, link="/admin/audit")
