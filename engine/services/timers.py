"""Timer sweep: advance every running case whose next timer is due.

Claims due rows with FOR UPDATE SKIP LOCKED on PostgreSQL so concurrent sweepers never fire the
same timer; on SQLite the write transaction already serialises sweepers.
"""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from engine.bpmn import store
from engine.bpmn.runtime import advance_timers
from engine.db import ProcessInstance, utcnow
from engine.db.uow import unit_of_work
from workflows.catalog import get_entry

from . import audit
from .cases import run_engine, save_and_project, transition_engine
from .definitions import parsed_definition



def _claim_one(session, now: datetime) -> ProcessInstance | None:
    stmt = (select(ProcessInstance)
            .where(ProcessInstance.status == "running", ProcessInstance.next_due_at <= now)
            .order_by(ProcessInstance.next_due_at).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=ProcessInstance)
    return session.scalar(stmt)


def fire_due_timers(bind: Engine, *, now: datetime | None = None, limit: int = 100) -> int:
    """Advance up to `limit` due cases, one transaction each; returns how many were advanced."""
    fired = 0
    while fired < limit:
        with unit_of_work(bind) as session:
            instance = _claim_one(session, now or utcnow())
            if instance is None:
                return fired
            before = instance.next_due_at
            wf = store.load_workflow(instance, parsed_definition(instance.definition),
                                     transition_engine(session, instance, None))
            run_engine(lambda: advance_timers(wf))
            created = save_and_project(session, instance, wf, get_entry(instance.process_key))
            audit.record(session, action="timer", instance=instance, from_state=before.isoformat(),
                         to_state=",".join(t.task_name for t in created) or instance.status)
            fired += 1
    return fired
