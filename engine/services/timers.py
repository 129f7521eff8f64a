"""Case timers: a waiting BPMN timer event is a due job of kind "timer"; firing it advances the case."""
from datetime import datetime

from sqlalchemy.orm import Session

from engine.bpmn import store
from engine.bpmn.runtime import advance_timers
from engine.db import DueJob, ProcessInstance

from workflows.catalog import get_entry

from . import audit, due_jobs
from .cases import run_engine, save_and_project, transition_engine
from .definitions import parsed_definition


@due_jobs.handles("timer")
def fire_case_timer(session: Session, job: DueJob, instance: ProcessInstance | None) -> None:
    if instance is None or instance.status != "running":
        return  # the case ended or was cancelled: nothing waits any more
    wf = store.load_workflow(instance, parsed_definition(instance.definition),
                             transition_engine(session, instance, None))
    run_engine(lambda: advance_timers(wf))
    created = save_and_project(session, instance, wf, get_entry(instance.process_key))
    audit.record(session, action="timer", instance=instance, from_state=job.due_at.isoformat(),
                 to_state=",".join(t.task_name for t in created) or instance.status, job=job.id)


def fire_due_timers(bind, *, now: datetime | None = None, limit: int = 500) -> int:
    """Fire every due job in this process; returns how many fired."""
    return due_jobs.run_due(bind, now=now, limit=limit)
