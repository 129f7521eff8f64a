"""Jacking / anchorage notice (顶升/附着, Order 166 Art 20, domain.md §2.5): the operators of
jacking_notice.bpmn. The crane stays in use; the works are notified like an installation and
accepted by the user and the supervision firm afterwards."""
from engine.bpmn.runtime import OperatorCall
from engine.domain import lifecycle
from forms.installation import JackingNoticeSchema

from . import audit
from .archive_gate import check_archive_complete
from .installation import advance, lodge_works_on_site, signoff_round
from .operators import operator
from .submissions import submitted_data

FIELDS = tuple(JackingNoticeSchema().fields)
SIGNOFF_STEPS = ("signoff_user", "signoff_supervisor")


@operator("jacking_notice.submit")
def submit(call: OperatorCall) -> dict:
    crane, project, _ = lodge_works_on_site(call.context, call.data, FIELDS, lifecycle.JACKING_NOTICE, "jacking_notice")
    check_archive_complete(call.context.session, crane, "jacking")
    call.context.instance.title = f"顶升/附着告知：{crane.record_number}（{project.name}）"
    return {"crane_id": crane.id}


@operator("jacking_notice.acknowledge")
def acknowledge(call: OperatorCall) -> dict:
    crane = advance(call.context, lifecycle.JACKING_NOTICE, lifecycle.APPROVED)
    return {"status": crane.status}


@operator("jacking_notice.return_for_correction")
def return_for_correction(call: OperatorCall) -> dict:
    return {"reason": call.data.get("reason", "")}


@operator("jacking_notice.acceptance_result")
def acceptance_result(call: OperatorCall) -> dict:
    """Accepted when the user and the supervision firm both signed 验收合格 in this round."""
    ctx = call.context
    passed, signoffs = signoff_round(call, SIGNOFF_STEPS, ("review_jacking", "rectify_jacking"))
    if passed:
        notice = submitted_data(ctx.session, ctx.instance.id)
        ctx.instance.outcome = "accepted"
        audit.record(ctx.session, action="jacking_accepted", instance=ctx.instance, actor=ctx.actor,
                     works=notice["works"], erected_height_m=notice["erected_height_m"],
                     verticality_permille=max(s.data["verticality_permille"] for s in signoffs))
    return {"passed": passed}
