"""Dismantling notice (拆卸告知, domain.md §2.6): the operators of dismantling_notice.bpmn.

Lodging the notice cancels the use registration (76号 Art 18); once the project's authority
acknowledges it the crane leaves the site and is filed and idle again.
"""
from datetime import date

from engine.bpmn.runtime import OperatorCall
from engine.db import Enterprise, Project
from engine.domain import lifecycle
from engine.errors import InvalidInput
from forms import t
from forms.installation import DismantlingNoticeSchema

from . import audit
from .attachments import check_documents_owned, link_to_case
from .crane_facts import check_procedure_allowed
from .installation import (advance, check_works_package, crane_on_hand, name_party,
                           parties_outcome, refuse_parallel_cases)
from .operators import operator
from .submissions import keep_submission

FIELDS = tuple(DismantlingNoticeSchema().fields)
SUBMISSION_STEPS = ("submit_dismantling", "correct_dismantling")


@operator("dismantling_notice.submit")
def submit(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    notice = {name: data.pop(name) for name in FIELDS if name in data}
    planned_start = date.fromisoformat(notice["planned_start"])
    crane = crane_on_hand(ctx, notice["record_number"])
    if ctx.instance.subject_id not in (None, crane.id):
        raise InvalidInput({"record_number": [t("crane_changed")]})
    check_procedure_allowed(lifecycle.DISMANTLING_NOTICE, crane, planned_start, field="record_number")
    refuse_parallel_cases(ctx, crane)
    installer = ctx.session.get(Enterprise, ctx.instance.applicant_enterprise_id)
    check_works_package(ctx, installer, crane, notice, planned_start)
    check_documents_owned(ctx.session, installer.id, notice["documents"])
    link_to_case(ctx.session, ctx.instance.id, notice["documents"])
    keep_submission(ctx, "dismantling_notice", notice)
    project = ctx.session.get(Project, crane.project_id)
    name_party(ctx, "owner", crane.owner_enterprise_id)
    name_party(ctx, "user", project.user_enterprise_id)
    name_party(ctx, "supervisor", project.supervisor_enterprise_id)
    if crane.status != lifecycle.DISMANTLE_NOTIFIED:  # first submission, not a correction
        cancelled = crane.use_registration_no
        advance(ctx, lifecycle.DISMANTLING_NOTICE, lifecycle.SUBMITTED, crane)
        crane.use_registration_no, crane.registered_at = None, None
        if cancelled:
            audit.record(ctx.session, action="use_registration_cancelled", instance=ctx.instance, actor=ctx.actor,
                         registration_number=cancelled)
    ctx.instance.region_code = project.region_code
    ctx.instance.subject_type, ctx.instance.subject_id = "crane", crane.id
    ctx.instance.title = f"拆卸告知：{crane.record_number}（{project.name}）"
    data["crane_id"] = crane.id
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
