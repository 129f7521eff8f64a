"""Append-only audit trail: who did what, when, and the state it moved from and to; each event is a
link in a tamper-evident hash chain (audit_chain)."""
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.db import AuditEvent, utcnow

from . import audit_chain

# What each action means, for histories and the crane's archive (zh, en).
ACTION_LABELS = {
    "start": ("发起", "Started"), "complete": ("提交", "Submitted"), "decision": ("审核", "Decision"),
    "deploy": ("部署", "Deployed"), "timer": ("定时器触发", "Timer fired"),
    "migrate": ("迁移到流程新版本", "Moved to another process version"),
    "migrate_batch": ("批量迁移案件", "Cases moved in bulk"),
    "overdue": ("超过办理时限", "Past the time limit"),
    "crane_state": ("设备状态变更", "Crane state changed"),
    "returned_by_parties": ("参建单位退回", "Returned by the parties"),
    "inspection_failed": ("检验不合格", "Inspection failed"),
    "acceptance_failed": ("验收不合格", "Acceptance failed"),
    "registered": ("核发使用登记证明", "Use registration issued"),
    "registration_reminder": ("使用登记提醒", "Use registration reminder"),
    "registration_late": ("逾期申请使用登记", "Use registration applied for late"),
    "registration_not_opened": ("未能开启使用登记", "Use registration not opened"),
    "use_registration_cancelled": ("使用登记注销", "Use registration cancelled"),
    "cancelled": ("备案注销", "Record cancelled"),
    "project_status": ("项目状态变更", "Project status changed"),
    "operation_recorded": ("登记运行记录", "Operation record added"),
    "inspection_recorded": ("登记监督检查并下发文书", "Spot check recorded, notice issued"),
    "rectification_replied": ("整改回复", "Rectification reply"),
    "reinspected": ("复查", "Re-inspected"),
    "order_lifted": ("解除停工/停用（复工）", "Stop order lifted"),
    "escalated": ("逾期未整改，报上级督办", "Overdue: escalated to the level above"),
    "oversight": ("上级督办", "Oversight by the level above"),
    "jacking_accepted": ("顶升/附着验收合格", "Jacking / anchorage accepted"),
    "claim": ("认领任务", "Task claimed"),
    "unclaim": ("释放任务", "Task released"),
    "reassign": ("转交任务", "Task reassigned"),
    "incident": ("后台处理失败", "Background step failed"),
    "incident_retry": ("重试后台处理", "Background step retried"),
    "outbox_resend": ("重新发送消息", "Message sent again"),
    "report_defined": ("定义报表", "Report defined"),
    "report_published": ("发布报表", "Report published"),
    "report_submitted": ("报送报表", "Report submitted"),
    "report_returned": ("报表退回修改", "Report returned for correction"),
    "report_accepted": ("报表审核通过", "Report accepted"),
    "report_overdue": ("报表逾期未报送", "Report overdue"),
    "report_closed": ("关闭报表", "Report closed"),
    "certificate_key_rotated": ("更换证明签名密钥", "Certificate signing key rotated"),
    "terminated": ("终止办理", "Case terminated"),
}

# One statement object, parameters per call: compiled once, reused for every event.
_INSERT = insert(AuditEvent)


@dataclass(frozen=True)
class Event:
    """What an audit record says, as subscribers see it (in the recording transaction)."""

    action: str
    actor: object
    instance: object
    task_name: str | None
    from_state: str | None
    to_state: str | None
    detail: dict


Subscriber = Callable[[Session, Event], None]
_SUBSCRIBERS: list[Subscriber] = []


def subscribe(fn: Subscriber) -> Subscriber:
    """Run `fn` for every audit event, in the same transaction (e.g. to emit outbox messages)."""
    _SUBSCRIBERS.append(fn)
    return fn


def record(session: Session, *, action: str, actor=None, instance=None, task_name=None,
           from_state=None, to_state=None, **detail) -> None:
    # A plain INSERT: audit rows are never read back in the transaction that writes them.
    row = {
        "instance_id": instance.id if instance is not None else None,
        "actor_id": actor.id if actor is not None else None,
        "action": action, "task_name": task_name, "from_state": from_state, "to_state": to_state,
        "detail": detail, "at": utcnow(),
    }
    audit_chain.seal(session, row)
    session.execute(_INSERT, row)
    if _SUBSCRIBERS:
        event = Event(action, actor, instance, task_name, from_state, to_state, detail)
        for fn in _SUBSCRIBERS:
            fn(session, event)
