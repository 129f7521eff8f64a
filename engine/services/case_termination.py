"""Ending a running case where it stands, outside its model's own paths (as a BPM product's "cancel
process instance"): its open tasks leave every inbox, its timers are dropped, and the history says
who ended it and why. The caller holds the case lock."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import HumanTask, ProcessInstance, User, utcnow

from . import audit, due_jobs


def terminate(session: Session, instance: ProcessInstance, *, actor: User | None, outcome: str,
              reason: str | None = None) -> int:
    """Cancel the case (status `cancelled`, the given outcome); returns how many open tasks it had."""
    if instance.status != "running":
        return 0
    now = utcnow()
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.status == "open")))
    for task in tasks:
        task.status, task.completed_at = "cancelled", now
    due_jobs.sync_case_timers(session, instance, {})
    instance.status, instance.outcome, instance.completed_at = "cancelled", outcome, now
    audit.record(session, action="terminated", actor=actor, instance=instance,
                 from_state=",".join(t.task_name for t in tasks) or None, to_state="cancelled", reason=reason)
    return len(tasks)
