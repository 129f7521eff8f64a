"""Claiming a regulator's task: one holder works on it, others see who; every change is audited."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import store
from engine.db import HumanTask, ProcessInstance, User, utcnow
from engine.domain.regions import LEVEL_RANK
from engine.errors import Conflict, InvalidInput, NotFound, NotPermitted
from forms import t

from . import audit, four_eyes
from .access import can_act_on

def holder_name(session: Session, task: HumanTask) -> str:
    holder = session.get(User, task.claimed_by_id) if task.claimed_by_id else None
    return holder.display_name if holder else "—"


def check_may_complete(session: Session, actor: User, task: HumanTask) -> None:
    """A claimed task is completed by its holder only."""
    if task.claimed_by_id is not None and task.claimed_by_id != actor.id:
        raise NotPermitted(t("task_claimed_by", name=holder_name(session, task)))


def _open_task_for(session: Session, actor: User, task_id: int) -> HumanTask:
    """The task, locked, that a regulator who may act on it is about to (un)claim or reassign."""
    task = store.lock_task(session, task_id)
    if task is None:
        raise NotFound("task not found")
    if actor.kind != "regulator":
        raise NotPermitted(t("task_claim_regulators_only"))
    if not can_act_on(actor, task):
        raise NotPermitted(t("task_not_actionable"))
    if task.status != "open":
        raise Conflict(t("task_not_open"))
    return task


def _instance(session, task) -> ProcessInstance:
    return session.get(ProcessInstance, task.instance_id)


def _audit(session, action, actor, task, **detail):
    session.flush()
    session.expire(task, ["claimed_by"])  # the holder as just set, for the answer
    instance = _instance(session, task)
    audit.record(session, action=action, actor=actor, instance=instance, task_name=task.task_name,
                 from_state=task.task_name, to_state=task.task_name, task_id=task.id, **detail)


def claim(session: Session, *, actor: User, task_id: int) -> HumanTask:
    task = _open_task_for(session, actor, task_id)
    if task.claimed_by_id == actor.id:
        return task  # claiming again changes nothing
    if task.claimed_by_id is not None:
        raise Conflict(t("task_already_claimed", name=holder_name(session, task)))
    four_eyes.check(session, _instance(session, task), task, actor)
    task.claimed_by_id, task.claimed_at = actor.id, utcnow()
    _audit(session, "claim", actor, task)
    return task


def unclaim(session: Session, *, actor: User, task_id: int) -> HumanTask:
    task = _open_task_for(session, actor, task_id)
    if task.claimed_by_id is None:
        raise Conflict(t("task_not_claimed"))
    if task.claimed_by_id != actor.id:
        raise NotPermitted(t("task_unclaim_not_holder", name=holder_name(session, task)))
    task.claimed_by_id, task.claimed_at = None, None
    _audit(session, "unclaim", actor, task)
    return task


def eligible_assignees(session: Session, actor: User, task: HumanTask) -> list[User]:
    """Colleagues of the actor's office (same region and level) who may act on the task, the
    four-eyes rule included."""
    if actor.kind != "regulator" or not actor.region_code:
        return []
    rows = session.scalars(select(User).where(
        User.kind == "regulator", User.is_active.is_(True), User.region_code == actor.region_code,
        User.regulator_level == actor.regulator_level).order_by(User.display_name, User.id))
    instance = _instance(session, task)
    return [u for u in rows if can_act_on(u, task) and four_eyes.conflicting_step(session, instance, task, u) is None]


def _oversees(actor: User, holder: User | None) -> bool:
    """A province office oversees its cities, a city its counties."""
    if holder is None:
        return True
    lowest = len(LEVEL_RANK)
    return LEVEL_RANK.get(actor.regulator_level, lowest) < LEVEL_RANK.get(holder.regulator_level, lowest)


def reassign(session: Session, *, actor: User, task_id: int, user_id: int, reason: str) -> HumanTask:
    """Hand the task to a colleague: by its holder, by anyone who may act on an unclaimed task, or
    by a higher-level office when the holder is away."""
    task = _open_task_for(session, actor, task_id)
    holder = session.get(User, task.claimed_by_id) if task.claimed_by_id else None
    if holder is not None and holder.id != actor.id and not _oversees(actor, holder):
        raise Conflict(t("reassign_held_by_other", name=holder.display_name))
    target = session.get(User, user_id)
    if target is None or target.id not in {u.id for u in eligible_assignees(session, actor, task)}:
        raise InvalidInput({"user_id": [t("reassign_target_ineligible")]})
    previous = task.claimed_by_id
    task.claimed_by_id, task.claimed_at = target.id, utcnow()
    _audit(session, "reassign", actor, task, from_user_id=previous, to_user_id=target.id,
           to_user=target.display_name, reason=reason)
    return task
