"""Projects the workflow's ready user tasks into HumanTask rows for the lane's role and scope.

Inboxes and permission checks read only these rows, never the serialized workflow.
"""
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import CaseParty, HumanTask, ProcessInstance, utcnow
from engine.domain.regions import get_region, prefecture_of, province_of, superior_of

from .runtime import ready_human_tasks


def form_key_of(task_spec) -> str:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get("formKey", "")


def case_parties(session: Session, instance: ProcessInstance) -> dict[str, int]:
    """The case's named parties (party → enterprise id)."""
    return dict(session.execute(select(CaseParty.party, CaseParty.enterprise_id)
                                .where(CaseParty.instance_id == instance.id)).all())


def scope_columns(rule, instance: ProcessInstance, parties: dict[str, int] | None = None) -> dict:
    if rule.scope == "applicant_enterprise":
        return {"enterprise_id": instance.applicant_enterprise_id, "levels": ""}
    if rule.scope == "case_party":
        enterprise_id = (parties or {}).get(rule.party)
        if enterprise_id is None:
            raise LookupError(f"the case names no {rule.party!r} party for this task")
        return {"enterprise_id": enterprise_id, "levels": ""}
    code = instance.region_code
    levels = rule.levels
    if rule.scope == "superior_region":  # the authority one level above the case's region
        superior = superior_of(code) if code else None
        code = superior.code if superior else None
        levels = tuple(level for level in rule.levels if superior and level == superior.level)
    elif rule.same_level:  # the office of the case's region itself, not the levels above it
        region = get_region(code) if code else None
        levels = tuple(level for level in rule.levels if region and level == region.level)
    city = prefecture_of(code) if code else None
    province = province_of(code) if code else None
    return {
        "region_code": code,
        "city_code": city.code if city else None,
        "province_code": province.code if province else None,
        "levels": ",".join(levels),
    }


def project_tasks(session: Session, instance: ProcessInstance, wf, entry, due_for,
                  new_case: bool = False) -> list[HumanTask]:
    """Sync open HumanTask rows with the workflow's READY manual tasks; returns the new rows
    (and leaves all open rows on `instance.projected_open_tasks` for the caller's answer).

    `due_for(task_name, now, task_data)` gives the deadline (the legal limit in working days, or a
    case variable) or None.
    """
    now = utcnow()
    ready = {str(t.id): t for t in ready_human_tasks(wf)}
    open_rows = [] if new_case else session.scalars(  # a case created in this transaction has none
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "open")
    ).all()
    for row in open_rows:
        if row.task_guid not in ready:
            row.status = "cancelled"
            row.completed_at = now
    known = {row.task_guid for row in open_rows}
    still_open = [row for row in open_rows if row.task_guid in ready]
    created, parties = [], None
    for guid, task in ready.items():
        if guid in known:
            continue
        spec = task.task_spec
        rule = entry.lanes[spec.lane]
        if rule.scope == "case_party" and parties is None:
            session.flush()  # parties named by an operator in this transaction
            parties = case_parties(session, instance)
        row = HumanTask(
            instance_id=instance.id, task_guid=guid, task_name=spec.bpmn_id,
            title=spec.bpmn_name or spec.bpmn_id, form_key=form_key_of(spec), lane=spec.lane,
            role=rule.role, process_key=instance.process_key, case_title=instance.title,
            status="open", created_at=now, due_at=due_for(spec.bpmn_id, now, task.data),
            **scope_columns(rule, instance, parties),
        )
        session.add(row)
        created.append(row)
    session.flush()  # callers answer with the new rows' ids
    instance.projected_open_tasks = sorted(still_open + created, key=lambda r: r.id)
    return created


def due_at_from_variable(value, tz) -> datetime | None:
    """A deadline held in a case variable: an aware ISO date-time, or an ISO date meaning the end of that
    day (local time, as for working-day limits); None when absent or unreadable."""
    text = str(value or "")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=tz)
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo else None


def due_at_from_workdays(calendar, workdays: int | None, now: datetime, tz) -> datetime | None:
    """End of the n-th working day after today (local time), as an aware UTC datetime."""
    if not workdays:
        return None
    local_day = now.astimezone(tz).date()
    due_day = calendar.add_workdays(local_day, workdays)
    return datetime(due_day.year, due_day.month, due_day.day, 23, 59, 59, tzinfo=tz)
