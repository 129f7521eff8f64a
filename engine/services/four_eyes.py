"""Four-eyes rule: a step the model marks may not be done by whoever did the steps it names.

A user task opts in with the extension property `fourEyes`, listing the ids of earlier user tasks
of the same process (e.g. the re-inspection names the spot check). Who did a step is read from the
case's records, so the rule needs no workflow state and holds across returns and loops.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import CaseRecord, HumanTask, ProcessDefinition, ProcessInstance, User
from engine.errors import NotPermitted
from forms import t

from .definitions import parsed_definition

PROPERTY = "fourEyes"


def steps_named(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def guarded_steps(definition: ProcessDefinition, task_name: str) -> tuple[str, ...]:
    """The steps whose doers may not do `task_name` in this version of the model."""
    spec = parsed_definition(definition).spec.task_specs.get(task_name)
    properties = (getattr(spec, "extensions", None) or {}).get("properties", {})
    return steps_named(properties.get(PROPERTY))


def _step_title(definition: ProcessDefinition, step: str) -> str:
    spec = parsed_definition(definition).spec.task_specs.get(step)
    return getattr(spec, "bpmn_name", None) or step


def conflicting_step(session: Session, instance: ProcessInstance, task: HumanTask, user: User) -> str | None:
    """The title of a guarded step this user did in the case, or None when the user may act."""
    steps = guarded_steps(instance.definition, task.task_name)
    if not steps:
        return None
    done = session.scalar(select(CaseRecord.step).where(
        CaseRecord.instance_id == instance.id, CaseRecord.recorded_by_id == user.id,
        CaseRecord.step.in_(steps)).limit(1))
    return _step_title(instance.definition, done) if done else None


def check(session: Session, instance: ProcessInstance, task: HumanTask, user: User) -> None:
    step = conflicting_step(session, instance, task, user)
    if step is not None:
        raise NotPermitted(t("four_eyes", step=step))


def barred_task_ids(session: Session, user: User, tasks: list[HumanTask]) -> set[int]:
    """Of a page of tasks, those this user may not do under the rule (two small queries at most)."""
    by_instance: dict[int, list[HumanTask]] = {}
    for task in tasks:
        by_instance.setdefault(task.instance_id, []).append(task)
    if not by_instance:
        return set()
    done = session.execute(select(CaseRecord.instance_id, CaseRecord.step).where(
        CaseRecord.instance_id.in_(by_instance), CaseRecord.recorded_by_id == user.id)).all()
    if not done:
        return set()
    steps_by_instance: dict[int, set[str]] = {}
    for instance_id, step in done:
        steps_by_instance.setdefault(instance_id, set()).add(step)
    definitions = dict(session.execute(
        select(ProcessInstance.id, ProcessDefinition)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id.in_(steps_by_instance))).all())
    return {task.id for instance_id, steps in steps_by_instance.items() for task in by_instance[instance_id]
            if steps & set(guarded_steps(definitions[instance_id], task.task_name))}
