"""Spot check → notice → reply → countersign → re-inspection, and the escalation of overdue
notices (domain.md §4): the operators of inspection_rectification.bpmn."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from engine.bpmn.runtime import OperatorCall
from engine.db import Certificate, ConductRecord, Crane, Hazard, Inspection, Person, Project
from engine.domain.regions import plate_letter
from engine.errors import InvalidInput
from forms import pick, t
from forms.inspection import INSTRUMENTS, SpotCheckSchema

from . import audit
from .access import in_jurisdiction
from .attachments import foreign_uploads, link_to_case
from .context import TransitionContext
from .installation import name_party
from .operators import operator
from .record_numbers import next_serial
from .settings import CHINA_TZ, get_settings
from .submissions import keep_submission

# Notice numbers have their own gapless counter per city, kind and year (digits never clash with
# the letters of record and registration numbers).
SPOT_CHECK_FIELDS = tuple(SpotCheckSchema().fields)
NOTICE_KINDS = {"rectification": ("整改", "1"), "stop_work": ("停工", "2"), "stop_use": ("停用", "3")}


def deadline_moment(day: date) -> datetime:
    """A deadline day ends at midnight China time: the timer fires at the start of the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)


def _inspection(ctx: TransitionContext) -> Inspection:
    return ctx.session.scalar(select(Inspection).where(Inspection.instance_id == ctx.instance.id))


def _open_hazards(inspection: Inspection) -> dict[int, Hazard]:
    return {h.seq: h for h in inspection.hazards if h.status == "open"}


def _put_error(errors: dict, path: tuple, message: str) -> None:
    """Set a field message at a nested path, e.g. ("hazards", 0, "photos")."""
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = [message]


def _check_uploads(ctx: TransitionContext, ids, errors: dict, path: tuple) -> None:
    if foreign_uploads(ctx.session, ctx.actor, ids):
        _put_error(errors, path, t("attachment_unknown"))


def _all_ids(documents: dict) -> set[int]:
    return {i for ids in documents.values() for i in ids}


def _check_deadline(instrument: str, days: int, field: str) -> None:
    settings = get_settings()
    limit = settings.rectification_max_days if instrument == "rectification" else settings.stop_order_max_days
    if days > limit:
        label = pick(INSTRUMENTS[instrument])
        raise InvalidInput({field: [t("deadline_too_long", instrument=label, days=limit)]})


def _project_in_reach(ctx: TransitionContext, code: str) -> Project:
    project = ctx.session.scalar(select(Project).where(Project.code == code))
    if project is None or not in_jurisdiction(ctx.actor, project.region_code):
        raise InvalidInput({"project_code": [t("project_not_in_jurisdiction")]})
    return project


def _crane_on(ctx: TransitionContext, project: Project, record_number: str, field_errors: dict, path: tuple):
    crane = ctx.session.scalar(select(Crane).where(Crane.record_number == record_number))
    if crane is None or crane.project_id != project.id:
        _put_error(field_errors, path, t("crane_not_on_project", record=record_number))
        return None
    return crane


def _notice_number(ctx: TransitionContext, project: Project, instrument: str, year: int) -> str:
    kind, key = NOTICE_KINDS[instrument]
    city = plate_letter(project.region_code) or "省"
    serial = next_serial(ctx.session, city=city, type_letter=key, year=year)
    prefix = f"鄂{city}" if city != "省" else "鄂"
    return f"{prefix}{kind}〔{year}〕{serial:05d}号"


@operator("inspection.record_check")
def record_check(call: OperatorCall) -> dict:
    """Record the check, its hazards and the notice; bind the case to the project's parties."""
    ctx, data = call.context, call.data
    project = _project_in_reach(ctx, data["project_code"])
    instrument, hazards = data["instrument"], data["hazards"]
    errors: dict = {}
    cranes = {}
    for index, hazard in enumerate(hazards):
        if hazard.get("crane_record_number"):
            cranes[index] = _crane_on(ctx, project, hazard["crane_record_number"], errors,
                                      ("hazards", index, "crane_record_number"))
        _check_uploads(ctx, hazard["photos"], errors, ("hazards", index, "photos"))
    stop_crane = None
    if instrument == "stop_use":
        stop_crane = _crane_on(ctx, project, data["stop_use_record_number"], errors, ("stop_use_record_number",))
    _check_uploads(ctx, _all_ids(data["documents"]), errors, ("documents",))
    if errors:
        raise InvalidInput(errors)
    check_date = date.fromisoformat(data["check_date"])
    deadline = None
    if instrument != "none":
        _check_deadline(instrument, data["deadline_days"], "deadline_days")
        # Counted from the check (the notice is handed over on site), so a check recorded late
        # may already be overdue.
        deadline = check_date + timedelta(days=data["deadline_days"])
    inspection = Inspection(
        instance_id=ctx.instance.id, project_id=project.id, region_code=project.region_code,
        check_date=check_date, check_type=data["check_type"], inspectors=data["inspectors"],
        jgj59_score=data.get("jgj59_score"), instrument=instrument, stop_use_crane_id=stop_crane.id if stop_crane else None,
        deadline_on=deadline, status="open" if instrument != "none" else "closed",
        closed_at=None if instrument != "none" else ctx.now,
        notice_number=_notice_number(ctx, project, instrument, check_date.year) if instrument != "none" else None,
        created_by_id=ctx.actor.id if ctx.actor else None)
    ctx.session.add(inspection)
    ctx.session.flush()
    keep_submission(ctx, "spot_check", {name: data[name] for name in SPOT_CHECK_FIELDS if name in data})
    for index, hazard in enumerate(hazards):
        crane = cranes.get(index)
        ctx.session.add(Hazard(
            inspection_id=inspection.id, seq=index + 1, description=hazard["description"], location=hazard["location"],
            category=hazard["category"], grade=hazard["grade"], major_item=hazard.get("major_item"),
            crane_id=crane.id if crane else None, clause=hazard.get("clause") or None, photos=hazard["photos"],
            deadline_on=deadline))
    link_to_case(ctx.session, ctx.instance.id, {"documents": _all_ids(data["documents"])
                                                | {i for h in hazards for i in h["photos"]}})
    # The case stays with the inspecting office's region (set when it started): that office
    # re-inspects, and the level above it oversees overdue notices.
    ctx.instance.subject_type, ctx.instance.subject_id = "project", project.id
    ctx.instance.title = f"监督检查：{project.name}（{check_date:%Y年%m月%d日}）"
    name_party(ctx, "user", project.user_enterprise_id)
    name_party(ctx, "supervisor", project.supervisor_enterprise_id)
    data["notice_issued"] = instrument != "none"
    audit.record(ctx.session, action="inspection_recorded", instance=ctx.instance, actor=ctx.actor,
                 to_state=instrument, notice_number=inspection.notice_number, hazards=len(hazards),
                 deadline_on=deadline.isoformat() if deadline else None,
                 stop_use_crane=stop_crane.record_number if stop_crane else None)
    return {"inspection_id": inspection.id, "notice_number": inspection.notice_number,
            "deadline_on": deadline.isoformat() if deadline else None}


@operator("inspection.arm_deadline")
def arm_deadline(call: OperatorCall) -> dict:
    """Set the reply's deadline timer from the notice as it stands now (first issue, re-issue, or a
    reply sent back by the supervisor: the deadline is the notice's, never restarted)."""
    inspection = _inspection(call.context)
    call.data["deadline_at"] = deadline_moment(inspection.deadline_on).isoformat()
    return {"deadline_on": inspection.deadline_on.isoformat()}


def _check_project_manager(ctx: TransitionContext, name: str, number: str) -> None:
    found = ctx.session.execute(
        select(Certificate.category, Certificate.valid_until, Person.name)
        .join(Person, Person.id == Certificate.person_id)
        .where(Certificate.number == number, Person.enterprise_id == ctx.actor.enterprise_id)).first()
    if found is None or found.category != "B" or found.name != name or found.valid_until < ctx.today:
        raise InvalidInput({"project_manager_cert": [t("manager_certificate")]})


@operator("inspection.record_reply")
def record_reply(call: OperatorCall) -> dict:
    """Every open hazard answered once, with the contractor's own evidence."""
    ctx, data = call.context, call.data
    inspection = _inspection(ctx)
    open_hazards = _open_hazards(inspection)
    errors: dict = {}
    seen = set()
    for index, item in enumerate(data["items"]):
        number = item["hazard_no"]
        if number not in open_hazards:
            errors.setdefault("items", {})[index] = {"hazard_no": [t("hazard_not_open", no=number)]}
        elif number in seen:
            errors.setdefault("items", {})[index] = {"hazard_no": [t("hazard_answered_twice", no=number)]}
        seen.add(number)
        _check_uploads(ctx, item["evidence"], errors, ("items", index, "evidence"))
    if errors:
        raise InvalidInput(errors)
    missing = sorted(set(open_hazards) - seen)
    if missing:
        raise InvalidInput({"items": [t("hazards_unanswered", numbers="、".join(map(str, missing)))]})
    _check_project_manager(ctx, data["project_manager"], data["project_manager_cert"])
    for item in data["items"]:
        hazard = open_hazards[item["hazard_no"]]
        hazard.measure, hazard.evidence = item["measure"], item["evidence"]
        hazard.completed_on = date.fromisoformat(item["completed_on"])
    link_to_case(ctx.session, ctx.instance.id, {"evidence": {i for item in data["items"] for i in item["evidence"]}})
    late = inspection.deadline_on is not None and ctx.today > inspection.deadline_on
    audit.record(ctx.session, action="rectification_replied", instance=ctx.instance, actor=ctx.actor,
                 hazards=len(data["items"]), late=late)
    return {"replied_on": ctx.today.isoformat(), "late": late}


def _lift_orders(ctx: TransitionContext, inspection: Inspection) -> None:
    inspection.status, inspection.closed_at = "closed", ctx.now
    if inspection.instrument in ("stop_work", "stop_use"):
        audit.record(ctx.session, action="order_lifted", instance=ctx.instance, actor=ctx.actor,
                     from_state=inspection.instrument, to_state="resumed", notice_number=inspection.notice_number)


@operator("inspection.record_reinspection")
def record_reinspection(call: OperatorCall) -> dict:
    """Close the hazards that passed; re-issue the rest with a new deadline. When all are closed,
    the notice closes and any stop order is lifted (复工)."""
    ctx, data = call.context, call.data
    inspection = _inspection(ctx)
    open_hazards = _open_hazards(inspection)
    results = {r["hazard_no"]: r["result"] for r in data["results"]}
    errors = {}
    for index, result in enumerate(data["results"]):
        if result["hazard_no"] not in open_hazards:
            errors[index] = {"hazard_no": [t("hazard_not_open", no=result["hazard_no"])]}
    if errors:
        raise InvalidInput({"results": errors})
    missing = sorted(set(open_hazards) - set(results))
    if missing:
        raise InvalidInput({"results": [t("hazards_unanswered", numbers="、".join(map(str, missing)))]})
    if foreign_uploads(ctx.session, ctx.actor, _all_ids(data["documents"])):
        raise InvalidInput({"documents": [t("attachment_unknown")]})
    failed = [n for n, r in results.items() if r == "fail"]
    for number, result in results.items():
        if result == "pass":
            open_hazards[number].status, open_hazards[number].closed_at = "closed", ctx.now
    link_to_case(ctx.session, ctx.instance.id, data["documents"])
    if not failed:
        _lift_orders(ctx, inspection)
        data["all_closed"] = True
    else:
        days = data["new_deadline_days"]
        _check_deadline(inspection.instrument, days, "new_deadline_days")
        deadline = date.fromisoformat(data["reinspected_on"]) + timedelta(days=days)
        inspection.deadline_on = deadline
        for number in failed:
            open_hazards[number].deadline_on = deadline
        data["all_closed"] = False
    audit.record(ctx.session, action="reinspected", instance=ctx.instance, actor=ctx.actor,
                 to_state="closed" if not failed else "reissued", closed=len(results) - len(failed),
                 reissued=len(failed), deadline_on=inspection.deadline_on.isoformat() if failed else None)
    return {"closed": len(results) - len(failed), "reissued": failed}


@operator("inspection.escalate")
def escalate(call: OperatorCall) -> dict:
    """The deadline passed without a reply: flag the case and the notice, record a 不良行为
    candidate against the contractor and put the case before the superior authority — once per
    deadline (a reply sent back for correction restarts the timer on the same deadline)."""
    ctx, data = call.context, call.data
    inspection = _inspection(ctx)
    deadline = inspection.deadline_on.isoformat()
    if inspection.escalated_deadline_on == inspection.deadline_on or inspection.status != "open":
        data["escalated"] = False
        return {"deadline_on": deadline, "repeat": True}
    ctx.instance.overdue_since = ctx.instance.overdue_since or ctx.now
    inspection.overdue_since = inspection.overdue_since or ctx.now
    project = ctx.session.get(Project, inspection.project_id)
    open_count = sum(1 for h in inspection.hazards if h.status == "open")
    record = ConductRecord(
        enterprise_id=project.user_enterprise_id, instance_id=ctx.instance.id, kind="rectification_overdue",
        description=f"{inspection.notice_number}：{project.name} 有 {open_count} 项隐患逾期（期限 {deadline}）未整改回复")
    ctx.session.add(record)
    ctx.session.flush()
    inspection.escalated_deadline_on = inspection.deadline_on
    data["escalated"] = True
    audit.record(ctx.session, action="escalated", instance=ctx.instance, task_name="reply_rectification",
                 to_state="overdue", deadline_on=deadline, conduct_record=record.id)
    return {"deadline_on": deadline, "conduct_record_id": record.id}


@operator("inspection.record_oversight")
def record_oversight(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    # The case's open candidate is the record under oversight (the database, not task data, is the record).
    record = ctx.session.scalar(select(ConductRecord).where(
        ConductRecord.instance_id == ctx.instance.id, ConductRecord.status == "candidate")
        .order_by(ConductRecord.id.desc()).limit(1))
    record.status = "confirmed" if data["conduct_record"] == "confirm" else "dismissed"
    record.decided_by_id, record.decided_at = ctx.actor.id if ctx.actor else None, ctx.now
    audit.record(ctx.session, action="oversight", instance=ctx.instance, actor=ctx.actor, to_state=record.status,
                 oversight_action=data["action"], conduct_record=record.id)
    return {"conduct_record": record.status}
