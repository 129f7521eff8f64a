"""Record cancellation / transfer (备案注销): the operators of record_cancellation.bpmn.

Allowed only from the states the lifecycle permits (an idle, filed crane); on approval the crane
is cancelled and its identity freed, so after a transfer the new owner can file it anew.
"""

from engine.bpmn.runtime import OperatorCall
from engine.db import Crane, ProcessInstance
from engine.domain import lifecycle
from engine.errors import Conflict, InvalidInput
from forms import t
from forms.cancellation import REASON_LABELS, CancellationRequestSchema

from . import audit, certificates
from .attachments import check_documents_owned, link_to_case
from .crane_facts import check_procedure_allowed
from .operators import operator
from .submissions import another_running_case, keep_submission, submitted_data

REQUEST_FIELDS = tuple(CancellationRequestSchema().fields)


@operator("record_cancellation.submit")
def submit(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    request = {name: data.pop(name) for name in REQUEST_FIELDS if name in data}
    crane = ctx.session.get(Crane, request["crane_id"])
    if crane is None or crane.owner_enterprise_id != ctx.instance.applicant_enterprise_id:
        raise InvalidInput({"crane_id": [t("crane_not_yours")]})
    if ctx.instance.subject_id not in (None, crane.id):  # a correction stays with the crane it began with
        raise InvalidInput({"crane_id": [t("crane_changed")]})
    check_procedure_allowed(lifecycle.RECORD_CANCELLATION, crane, ctx.today)
    if another_running_case(ctx, "record_cancellation", ProcessInstance.subject_type == "crane",
                            ProcessInstance.subject_id == crane.id):
        raise Conflict(t("cancellation_running"))
    if another_running_case(ctx, "installation_notice", ProcessInstance.subject_type == "crane",
                            ProcessInstance.subject_id == crane.id):
        raise Conflict(t("notice_running"))
    documents = request.get("documents") or {}
    check_documents_owned(ctx.session, crane.owner_enterprise_id, documents)
    link_to_case(ctx.session, ctx.instance.id, documents)
    keep_submission(ctx, "cancellation_request", request)
    ctx.instance.subject_type, ctx.instance.subject_id = "crane", crane.id
    ctx.instance.title = f"备案注销（{REASON_LABELS[request['reason']][0]}）：{crane.record_number}"
    data["crane_id"] = crane.id
    return {"crane_id": crane.id}


@operator("record_cancellation.approve")
def approve(call: OperatorCall) -> dict:
    ctx = call.context
    crane = ctx.session.get(Crane, ctx.instance.subject_id)
    request = submitted_data(ctx.session, ctx.instance.id)
    crane.status = lifecycle.next_state(lifecycle.RECORD_CANCELLATION, lifecycle.APPROVED, crane.status)
    crane.identity_key = None  # the same crane may be filed again (by the transferee)
    certificates.revoke(ctx.session, crane.id, certificates.KINDS, reason="record_cancelled", at=ctx.now)
    if request["reason"] == "transfer":
        crane.transferee_uscc = request["transferee_uscc"]
    ctx.instance.outcome = "approved"
    audit.record(ctx.session, action="cancelled", instance=ctx.instance, actor=ctx.actor,
                 to_state=crane.status, reason=request["reason"],
                 transferee_uscc=request.get("transferee_uscc"), transferee_name=request.get("transferee_name"))
    return {"crane_id": crane.id, "status": crane.status}


@operator("record_cancellation.return_for_correction")
def return_for_correction(call: OperatorCall) -> dict:
    return {"reason": call.data.get("reason", "")}


@operator("record_cancellation.reject")
def reject(call: OperatorCall) -> dict:
    call.context.instance.outcome = "rejected"
    return {"reason": call.data.get("reason", "")}
