"""What applicants submit in a case, kept until the regulator decides, and the overdue mark;
shared by procedures."""
from sqlalchemy import select

from engine.db import FilingSubmission, ProcessInstance

from . import audit
from .context import TransitionContext


def keep_submission(ctx: TransitionContext, form_key: str, data: dict) -> None:
    """Store (or replace, after a correction) the case's submitted form data."""
    submission = ctx.session.get(FilingSubmission, ctx.instance.id)
    if submission is None:
        submission = FilingSubmission(instance_id=ctx.instance.id, form_key=form_key, data={})
        ctx.session.add(submission)
    submission.data, submission.submitted_at = data, ctx.now
    submission.submitted_by_id = ctx.actor.id if ctx.actor else None


def submitted_data(session, instance_id: int) -> dict:
    return dict(session.get(FilingSubmission, instance_id).data)


def another_running_case(ctx: TransitionContext, process_key: str, *conditions) -> bool:
    """Whether a different running case of `process_key` matches the conditions."""
    return ctx.session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.process_key == process_key, ProcessInstance.status == "running",
        ProcessInstance.id != ctx.instance.id, *conditions).limit(1)) is not None


def mark_overdue(ctx: TransitionContext, task_name: str) -> dict:
    """A deadline timer fired: flag the case once (the task stays open) and record it."""
    ctx.instance.overdue_since = ctx.instance.overdue_since or ctx.now
    audit.record(ctx.session, action="overdue", instance=ctx.instance, task_name=task_name, to_state="overdue")
    return {"overdue_since": ctx.instance.overdue_since.isoformat()}
