"""Append-only audit trail: who did what, when, and the state it moved from and to."""
from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.db import AuditEvent, utcnow

# One statement object, parameters per call: compiled once, reused for every event.
_INSERT = insert(AuditEvent)


def record(session: Session, *, action: str, actor=None, instance=None, task_name=None,
           from_state=None, to_state=None, **detail) -> None:
    # A plain INSERT: audit rows are never read back in the transaction that writes them.
    session.execute(_INSERT, {
        "instance_id": instance.id if instance is not None else None,
        "actor_id": actor.id if actor is not None else None,
        "action": action, "task_name": task_name, "from_state": from_state, "to_state": to_state,
        "detail": detail, "at": utcnow(),
    })
