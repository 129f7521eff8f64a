"""Dismantling notice (拆卸告知, domain.md §2.6): the operators of dismantling_notice.bpmn.

Lodging the notice cancels the use registration (76号 Art 18); once the project's authority
acknowledges it the crane leaves the site and is filed and idle again.
"""
from engine.bpmn.runtime import OperatorCall
from engine.domain import lifecycle
from forms.installation import DismantlingNoticeSchema

from . import audit, certificates
from .installation import advance, lodge_works_on_site, parties_outcome
from .operators import operator

FIELDS = tuple(DismantlingNoticeSchema().fields)
SUBMISSION_STEPS = ("submit_dismantling", "correct_dismantling")


@operator("dismantling_notice.submit")
def submit(call: OperatorCall) -> dict:
    ctx = call.context
    crane, project, _ = lodge_works_on_site(ctx, call.data, FIELDS, lifecycle.DISMANTLING_NOTICE, "dismantling_notice")
    if crane.status != lifecycle.DISMANTLE_NOTIFIED:  # first submission, not a correction
        cancelled = crane.use_registration_no
        advance(ctx, lifecycle.DISMANTLING_NOTICE, lifecycle.SUBMITTED, crane)
        crane.use_registration_no, crane.registered_at = None, None
        if cancelled:
            certificates.revoke(ctx.session, crane.id, (certificates.USE_REGISTRATION,),
                                reason="use_registration_cancelled", at=ctx.now)
            audit.record(ctx.session, action="use_registration_cancelled", instance=ctx.instance, actor=ctx.actor,
                         registration_number=cancelled)
    ctx.instance.title = f"拆卸告知：{crane.record_number}（{project.name}）"
    return {"crane_id": crane.id}


@operator("dismantling_notice.parties_reviewed")
def parties_reviewed(call: OperatorCall) -> dict:
    return parties_outcome(call, SUBMISSION_STEPS)


@operator("dismantling_notice.acknowledge")
def acknowledge(call: OperatorCall) -> dict:
    ctx = call.context
    crane = advance(ctx, lifecycle.DISMANTLING_NOTICE, lifecycle.APPROVED)
    crane.project_id, crane.accepted_on = None, None
    ctx.instance.outcome = "approved"
    return {"status": crane.status}


@operator("dismantling_notice.return_for_correction")
def return_for_correction(call: OperatorCall) -> dict:
    # The crane stays 拆卸告知: its use registration was cancelled when the notice was lodged.
    return {"reason": call.data.get("reason", "")}
