"""Crane record filing (备案): the operators its BPMN calls, writing the Crane record itself."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from engine.bpmn.assignment import due_at_from_workdays
from engine.bpmn.runtime import OperatorCall
from engine.db import Crane, CraneDocument, Enterprise
from engine.domain.cranes import CRANE_TYPES, assessment_required, type_letter
from engine.domain.regions import plate_letter
from engine.errors import InvalidInput
from forms import t
from forms.crane import CraneFilingSchema

from workflows.catalog import get_entry

from . import certificates
from .attachments import check_documents_owned
from .operators import operator
from .submissions import mark_overdue
from .record_numbers import issue_record_number
from .settings import CHINA_TZ, get_settings

FILING_FIELDS = tuple(CraneFilingSchema().fields)
DATE_FIELDS = ("manufacture_date", "purchase_date", "manufacturing_licence_valid_until")


def identity_key(manufacturer: str, model: str, serial: str) -> str:
    norm = lambda s: "".join(s.split()).upper()  # noqa: E731
    return f"{norm(manufacturer)}|{norm(model)}|{norm(serial)}"


def _crane(call: OperatorCall) -> Crane:
    ctx = call.context
    crane = (ctx.session.get(Crane, ctx.instance.subject_id, options=[lazyload("*")])
             if ctx.instance.subject_id else None)
    if crane is None:
        crane = Crane(owner_enterprise_id=ctx.instance.applicant_enterprise_id, status="draft")
        ctx.session.add(crane)
    return crane


def _transferred_record(ctx, crane: Crane) -> int | None:
    """The cancelled record of the same crane transferred to the applicant, if any."""
    applicant = ctx.session.get(Enterprise, ctx.instance.applicant_enterprise_id)
    return ctx.session.scalar(select(Crane.id).where(
        Crane.status == "cancelled", Crane.transferee_uscc == applicant.uscc, Crane.id != crane.id,
        Crane.manufacturer == crane.manufacturer, Crane.model == crane.model,
        Crane.factory_serial == crane.factory_serial).order_by(Crane.id.desc()).limit(1))


def _check_duplicate(session, crane: Crane, key: str) -> None:
    other = session.scalar(select(Crane).where(Crane.identity_key == key, Crane.id != crane.id))
    if other is not None:
        raise InvalidInput({"factory_serial": [t("duplicate_crane", record=other.record_number or "—")]})


@operator("crane_filing.submit")
def submit(call: OperatorCall) -> dict:
    ctx, data = call.context, call.data
    filing = {name: data.pop(name) for name in FILING_FIELDS if name in data}
    for name in DATE_FIELDS:
        if filing.get(name):
            filing[name] = date.fromisoformat(filing[name])
    documents = filing.pop("documents")
    # Checks first, one flush after: the crane is written once, complete, with its documents.
    with ctx.session.no_autoflush:
        crane = _crane(call)
        for name, value in filing.items():
            setattr(crane, name, value)
        check_documents_owned(ctx.session, ctx.instance.applicant_enterprise_id, documents)
        today = ctx.today
        if assessment_required(crane.crane_type, crane.manufacture_date, today,
                               rated_moment_knm=filing.get("rated_moment_knm"),
                               hoist_drive=crane.hoist_drive) and not documents.get("assessment_report"):
            raise InvalidInput({"documents": {"assessment_report": [t("assessment_required")]}})
        key = identity_key(crane.manufacturer, crane.model, crane.factory_serial)
        _check_duplicate(ctx.session, crane, key)
        crane.identity_key = key
        crane.predecessor_id = _transferred_record(ctx, crane)
        crane.status = "pending_review"
        crane.filing_region_code = ctx.instance.region_code
        crane.documents = [CraneDocument(attachment_id=i, doc_type=doc)
                           for doc, ids in documents.items() for i in ids]
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # a concurrent filing of the same crane won the unique index
        if "identity_key" not in str(exc.orig):
            raise
        raise InvalidInput({"factory_serial": [t("duplicate_crane", record="—")]}) from None
    names = CRANE_TYPES[crane.crane_type]
    ctx.instance.subject_type, ctx.instance.subject_id = "crane", crane.id
    ctx.instance.title = f"{names['zh']} {crane.model}（出厂编号 {crane.factory_serial}）"
    data["crane_id"] = crane.id
    data["review_deadline"] = review_deadline(ctx.now).isoformat()
    return {"crane_id": crane.id}


def review_deadline(now):
    """End of the legal review limit (working days from the catalog), for the SLA boundary timer."""
    settings = get_settings()
    days = get_entry("crane_registration").due_workdays("review_filing")
    return due_at_from_workdays(settings.calendar, days, now, CHINA_TZ)


@operator("crane_filing.approve")
def approve(call: OperatorCall) -> dict:
    ctx = call.context
    crane = _crane(call)
    number = issue_record_number(
        ctx.session, pattern=get_settings().record_number_pattern,
        city=plate_letter(crane.filing_region_code), type_letter=type_letter(crane.crane_type),
        year=ctx.now.astimezone(CHINA_TZ).year,
    )
    crane.record_number, crane.status, crane.filed_at = number, "filed", ctx.now
    certificates.issue(ctx.session, crane, certificates.FILING, at=ctx.now, actor=ctx.actor)
    ctx.instance.outcome = "approved"
    return {"record_number": number}


@operator("crane_filing.return_for_correction")
def return_for_correction(call: OperatorCall) -> dict:
    _crane(call).status = "returned"
    return {"reason": call.data.get("reason", "")}


@operator("crane_filing.flag_overdue")
def flag_overdue(call: OperatorCall) -> dict:
    return mark_overdue(call.context, "review_filing")


@operator("crane_filing.reject")
def reject(call: OperatorCall) -> dict:
    crane = _crane(call)
    crane.status, crane.identity_key = "rejected", None
    call.context.instance.outcome = "rejected"
    return {"reason": call.data.get("reason", "")}
