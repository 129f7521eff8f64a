"""JSON shapes of the API's answers."""
from engine.domain.lifecycle import STATE_LABELS
from engine.domain.personnel import SPECIAL_OPERATION_CATEGORIES
from engine.domain.regions import get_region
from engine.domain.resident_id import mask_resident_id
from engine.services.inbox import task_sla
from forms import current_locale
from forms.operations import KINDS as OPERATION_KINDS
from forms.projects import PROJECT_STATUSES
from workflows.catalog import get_entry


def _iso(value):
    return value.isoformat() if value is not None else None


def user_json(user) -> dict:
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "kind": user.kind, "enterprise_id": user.enterprise_id,
        "enterprise_name": user.enterprise.name if user.enterprise else None,
        "enterprise_uscc": user.enterprise.uscc if user.enterprise else None,
        "regulator_level": user.regulator_level, "region_code": user.region_code,
        "locale": user.locale,
    }


def _procedure(process_key) -> str:
    """The procedure's name in the request's language: `title` and `case_title` stay the Chinese record."""
    entry = get_entry(process_key)
    return entry.name(current_locale.get()) if entry else process_key


def task_json(task) -> dict:
    return {
        "id": task.id, "case_id": task.instance_id, "name": task.task_name, "title": task.title,
        "form_key": task.form_key, "lane": task.lane, "role": task.role, "status": task.status,
        "process_key": task.process_key, "case_title": task.case_title, "procedure": _procedure(task.process_key),
        "enterprise_id": task.enterprise_id, "region_code": task.region_code,
        "created_at": _iso(task.created_at), "due_at": _iso(task.due_at),
        "completed_at": _iso(task.completed_at), "completed_by_id": task.completed_by_id,
        "claimed_by_id": task.claimed_by_id, "claimed_at": _iso(task.claimed_at),
        "claimed_by": task.claimed_by.display_name if task.claimed_by_id else None,
        "sla": _sla_json(task),
    }


def _sla_json(task):
    sla = task_sla(task.due_at) if task.status == "open" else None
    return {"state": sla.state, "workdays_left": sla.workdays_left} if sla else None


def _masked_ids(schema: dict, data):
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, prop in schema.get("properties", {}).items():
        value, rows = out.get(name), prop.get("items") or {}
        if prop.get("x-resident-id") and isinstance(value, str) and value:
            out[name] = mask_resident_id(value)
        elif "properties" in prop:
            out[name] = _masked_ids(prop, value)
        elif "properties" in rows and isinstance(value, list):
            out[name] = [_masked_ids(rows, row) for row in value]
    return out


def form_data_json(schema: dict, data, viewer, applicant_enterprise_id: int | None):
    """A case's form data for `viewer`: resident ID numbers in full only to the applicant enterprise,
    which fills them in; regulators and other parties see them masked, as on the pages."""
    if viewer.kind == "enterprise" and viewer.enterprise_id is not None \
            and viewer.enterprise_id == applicant_enterprise_id:
        return data
    return _masked_ids(schema, data)


def event_json(event) -> dict:
    return {
        "id": event.id, "action": event.action, "task_name": event.task_name,
        "from_state": event.from_state, "to_state": event.to_state, "at": _iso(event.at),
        "actor": event.actor.display_name if event.actor else None,
        "decision": (event.detail or {}).get("decision"), "reason": (event.detail or {}).get("reason"),
    }


def case_json(instance, history=None, open_tasks=None) -> dict:
    out = {
        "id": instance.id, "process_key": instance.process_key,
        "definition_version": instance.definition.version, "status": instance.status,
        "outcome": instance.outcome, "business_key": instance.business_key, "title": instance.title,
        "procedure": _procedure(instance.process_key),
        "subject": ({"type": instance.subject_type, "id": instance.subject_id}
                    if instance.subject_id else None),
        "region_code": instance.region_code, "version": instance.version,
        "started_at": _iso(instance.started_at), "completed_at": _iso(instance.completed_at),
    }
    if history is not None:
        out["history"] = [event_json(e) for e in history]
    if open_tasks is not None:
        out["open_tasks"] = [task_json(t) for t in open_tasks]
    return out


def crane_json(crane) -> dict:
    region = get_region(crane.filing_region_code) if crane.filing_region_code else None
    zh = current_locale.get().startswith("zh")
    return {
        "id": crane.id, "record_number": crane.record_number, "status": crane.status,
        "crane_type": crane.crane_type, "model": crane.model, "manufacturer": crane.manufacturer,
        "factory_serial": crane.factory_serial, "manufacture_date": _iso(crane.manufacture_date),
        "rated_moment_knm": float(crane.rated_moment_knm) if crane.rated_moment_knm is not None else None,
        "owner": {"id": crane.owner_enterprise_id, "name": crane.owner.name},
        "filing_region": ({"code": region.code, "name": region.name if zh else region.name_en}
                          if region else None),
        "filed_at": _iso(crane.filed_at),
        "project": ({"id": crane.project.id, "code": crane.project.code, "name": crane.project.name,
                     "region_code": crane.project.region_code} if crane.project_id else None),
        "accepted_on": _iso(crane.accepted_on),
        "use_registration_no": crane.use_registration_no, "registered_at": _iso(crane.registered_at),
        "predecessor_id": crane.predecessor_id,
        "documents": [{"doc_type": d.doc_type, "attachment_id": d.attachment_id,
                       "name": d.attachment.original_name} for d in crane.documents],
    }


def _pick(pair) -> str | None:
    return (pair[0] if current_locale.get().startswith("zh") else pair[1]) if pair else None


def _enterprise(enterprise) -> dict | None:
    return {"id": enterprise.id, "name": enterprise.name, "uscc": enterprise.uscc} if enterprise else None


def project_json(project) -> dict:
    return {
        "id": project.id, "code": project.code, "name": project.name, "permit_number": project.permit_number,
        "address": project.address, "region_code": project.region_code,
        "status": project.status, "status_label": _pick(PROJECT_STATUSES.get(project.status)),
        "user_enterprise": _enterprise(project.user_enterprise),
        "supervisor_enterprise": _enterprise(project.supervisor_enterprise),
        "created_at": _iso(project.created_at), "updated_at": _iso(project.updated_at),
    }


def ledger_json(ledger) -> dict:
    project = ledger.project
    out = project_json(project)
    out["parties"] = [{"role": p.role, "role_label": _pick(p.label), "enterprise": _enterprise(p.enterprise)}
                      for p in ledger.parties]
    out["cranes"] = [{
        "id": c.id, "record_number": c.record_number, "crane_type": c.crane_type, "model": c.model,
        "factory_serial": c.factory_serial, "owner": _enterprise(c.owner), "status": c.status,
        "status_label": _pick(STATE_LABELS.get(c.status)), "on_site": c.project_id == project.id,
        "accepted_on": _iso(c.accepted_on) if c.project_id == project.id else None,
        "use_registration_no": c.use_registration_no if c.project_id == project.id else None,
    } for c in ledger.cranes]
    out["cases"] = [{**case_json(c), "procedure": ledger.procedures[c.process_key].name(current_locale.get())
                     if c.process_key in ledger.procedures else c.process_key} for c in ledger.cases]
    out["personnel"] = [{
        "name": p.name, "certificate_no": p.certificate_no, "category": p.category,
        "category_label": _pick(SPECIAL_OPERATION_CATEGORIES.get(p.category)) if p.category else None,
        "valid_until": _iso(p.valid_until),
        "expired": p.valid_until is not None and p.valid_until < ledger.today,
        "duties": [_pick(d) for d in p.duties], "case_ids": p.case_ids,
    } for p in ledger.personnel]
    out["inspections"] = [{
        "id": i.id, "case_id": i.instance_id, "check_date": _iso(i.check_date), "check_type": i.check_type,
        "instrument": i.instrument, "notice_number": i.notice_number, "deadline_on": _iso(i.deadline_on),
        "status": i.status, "overdue_since": _iso(i.overdue_since), "closed_at": _iso(i.closed_at),
    } for i in ledger.inspections]
    out["open_hazards"] = [{
        "id": h.hazard.id, "inspection_id": h.hazard.inspection_id, "seq": h.hazard.seq,
        "description": h.hazard.description, "location": h.hazard.location, "grade": h.hazard.grade,
        "crane_id": h.hazard.crane_id, "deadline_on": _iso(h.deadline_on), "overdue": h.overdue,
    } for h in ledger.open_hazards]
    out["status_history"] = [event_json(e) for e in ledger.history]
    return out


def attachment_json(att) -> dict:
    return {"id": att.id, "sha256": att.sha256, "size": att.size, "content_type": att.content_type,
            "name": att.original_name}


def person_json(person) -> dict:
    return {
        "id": person.id, "enterprise_id": person.enterprise_id, "name": person.name,
        "id_number": mask_resident_id(person.id_number),
        "certificates": [{"id": c.id, "kind": c.kind, "category": c.category, "number": c.number,
                          "issuer": c.issuer, "issued_on": _iso(c.issued_on), "valid_until": _iso(c.valid_until)}
                         for c in person.certificates],
    }


def operation_json(record, attachments: dict) -> dict:
    return {
        "id": record.id, "crane_id": record.crane_id, "kind": record.kind, "kind_label": _pick(OPERATION_KINDS.get(record.kind)),
        "performed_on": _iso(record.performed_on), "project_id": record.project_id,
        "performer": {"id": record.performer_enterprise_id, "name": record.performer.name, "uscc": record.performer.uscc},
        "person_in_charge": record.person_in_charge, "result": record.result, "items": record.items,
        "report_number": record.report_number, "valid_until": _iso(record.valid_until),
        "summary": record.summary, "resolves": record.resolves_id, "created_at": _iso(record.created_at),
        "attachments": [{"id": i, "name": attachments[i].original_name} for i in record.attachments or [] if i in attachments],
    }
