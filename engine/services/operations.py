"""Operation records of a crane (Order 166 Art 9: 定期自行检查、维护保养、维修、运行故障记录; JGJ/T 189
安全评估) and what follows from them: the monthly self-check count while the crane is in use, open
faults, the assessment in force, and the integrated owner's rule that it maintains its own cranes."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from engine.db import Attachment, Crane, Enterprise, OperationRecord, ProcessInstance, Project, User
from engine.domain.cranes import add_years
from engine.errors import InvalidInput, NotPermitted
from forms import t

from . import audit
from .attachments import foreign_uploads
from .settings import CHINA_TZ, get_settings

# States in which the crane has a live record but may not yet (or no longer) be filed with records.
NO_RECORDS_STATES = ("draft", "pending_review", "returned", "rejected", "cancelled")


def site_installer_id(session: Session, crane: Crane) -> int | None:
    """The installer of the crane's current installation (who checks hoists on site)."""
    if crane.project_id is None:
        return None
    return session.scalar(select(ProcessInstance.applicant_enterprise_id).where(
        ProcessInstance.process_key == "installation_notice", ProcessInstance.subject_type == "crane",
        ProcessInstance.subject_id == crane.id, ProcessInstance.status != "cancelled")
        .order_by(ProcessInstance.id.desc()).limit(1))


def site_user_id(session: Session, crane: Crane) -> int | None:
    if crane.project_id is None:
        return None
    return session.scalar(select(Project.user_enterprise_id).where(Project.id == crane.project_id))


def record_keepers(session: Session, crane: Crane) -> set[int]:
    return {i for i in (crane.owner_enterprise_id, site_user_id(session, crane), site_installer_id(session, crane))
            if i is not None}


def _maintainer(session: Session, crane: Crane, recorder: Enterprise, uscc: str | None) -> Enterprise:
    owner = crane.owner
    maintainer = recorder if not uscc or uscc == recorder.uscc else session.scalar(
        select(Enterprise).where(Enterprise.uscc == uscc))
    if maintainer is None or (maintainer.status != "approved" and maintainer.id != owner.id):
        raise InvalidInput({"maintainer_uscc": [t("maintainer_not_qualified")]})
    if owner.integrated and maintainer.id != owner.id:
        raise InvalidInput({"maintainer_uscc": [t("integrated_maintainer")]})
    if maintainer.id != owner.id and not {"maintenance", "installer"} & maintainer.roles:
        raise InvalidInput({"maintainer_uscc": [t("maintainer_not_qualified")]})
    return maintainer


def _fault_to_resolve(session: Session, crane: Crane, fault_id: int) -> OperationRecord:
    fault = session.get(OperationRecord, fault_id)
    resolved = session.scalar(select(OperationRecord.id).where(OperationRecord.resolves_id == fault_id))
    if fault is None or fault.crane_id != crane.id or fault.kind != "fault" or resolved is not None:
        raise InvalidInput({"resolves": [t("fault_unknown")]})
    return fault


def record_operation(session: Session, *, user: User, crane: Crane, data: dict) -> OperationRecord:
    """Append one record to the crane's archive; the form has been loaded already."""
    site = (site_user_id(session, crane), site_installer_id(session, crane))
    if user.kind != "enterprise" or user.enterprise_id not in {crane.owner_enterprise_id, *site}:
        raise NotPermitted(t("operation_not_keeper"))
    if crane.status in NO_RECORDS_STATES or crane.filed_at is None:
        raise InvalidInput({"kind": [t("operation_crane_not_filed")]})
    filed_on = crane.filed_at.astimezone(CHINA_TZ).date()
    if data["performed_on"] < filed_on:
        raise InvalidInput({"performed_on": [t("operation_before_filing", date=filed_on.isoformat())]})
    recorder = session.get(Enterprise, user.enterprise_id)
    kind, performer = data["kind"], recorder
    if kind == "self_check":
        if crane.project_id is None:
            raise InvalidInput({"kind": [t("self_check_not_installed")]})
        if recorder.id not in site:
            raise InvalidInput({"kind": [t("self_check_by_site")]})
    elif kind in ("maintenance", "repair"):
        performer = _maintainer(session, crane, recorder, data.get("maintainer_uscc"))
    elif kind == "assessment":
        if recorder.id != crane.owner_enterprise_id:
            raise InvalidInput({"kind": [t("assessment_by_owner")]})
        performer = session.scalar(select(Enterprise).where(Enterprise.uscc == data["assessor_uscc"]))
        if performer is None or performer.status != "approved" or "inspector" not in performer.roles:
            raise InvalidInput({"assessor_uscc": [t("assessor_not_qualified")]})
    fault = _fault_to_resolve(session, crane, data["resolves"]) if data.get("resolves") is not None else None
    if foreign_uploads(session, user, data["attachments"]):
        raise InvalidInput({"attachments": [t("attachment_unknown")]})
    record = OperationRecord(
        crane_id=crane.id, kind=kind, performed_on=data["performed_on"], project_id=crane.project_id,
        enterprise_id=recorder.id, performer_enterprise_id=performer.id, person_in_charge=data["person_in_charge"],
        result=data.get("result"), items=data.get("items") or [], summary=data["summary"],
        resolves_id=fault.id if fault else None, attachments=data["attachments"], recorded_by_id=user.id,
        report_number=data.get("report_number"),
        valid_until=assessment_valid_until(data["performed_on"]) if data.get("result") == "qualified" else None)
    session.add(record)
    session.flush()
    audit.record(session, action="operation_recorded", actor=user, crane_id=crane.id, record_id=record.id,
                 kind=kind, performed_on=record.performed_on.isoformat())
    return record


def assessment_valid_until(assessed_on: date) -> date:
    """The last day a 合格 conclusion holds (ASSESSMENT_VALID_YEARS, domain.md §3)."""
    return add_years(assessed_on, get_settings().assessment_valid_years) - timedelta(days=1)


def latest_assessment(session: Session, crane_id: int) -> OperationRecord | None:
    return session.scalar(select(OperationRecord).where(
        OperationRecord.crane_id == crane_id, OperationRecord.kind == "assessment")
        .order_by(OperationRecord.performed_on.desc(), OperationRecord.id.desc()).limit(1))


def list_operations(session: Session, crane: Crane) -> list[OperationRecord]:
    return list(session.scalars(select(OperationRecord).where(OperationRecord.crane_id == crane.id)
                                .order_by(OperationRecord.performed_on.desc(), OperationRecord.id.desc())))


def open_faults(session: Session, crane_id: int) -> list[OperationRecord]:
    repair = aliased(OperationRecord)
    return list(session.scalars(select(OperationRecord).outerjoin(repair, repair.resolves_id == OperationRecord.id)
                                .where(OperationRecord.crane_id == crane_id, OperationRecord.kind == "fault",
                                       repair.id.is_(None)).order_by(OperationRecord.id)))


def record_attachments(session: Session, records: list[OperationRecord]) -> dict[int, Attachment]:
    ids = {i for r in records for i in (r.attachments or []) if isinstance(i, int)}
    return {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids)))} if ids else {}


@dataclass(frozen=True)
class SelfCheckMonth:
    month: str  # YYYY-MM
    count: int
    required: int
    complete: bool  # the month is over (the current month may still catch up)


def _months(start: date, end: date):
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def self_check_months(session: Session, crane: Crane, today: date) -> list[SelfCheckMonth]:
    """Self-checks per calendar month of the current stay on site, from the acceptance date: users
    check a tower crane at least twice a month (domain.md §2.5)."""
    if crane.project_id is None or crane.accepted_on is None:
        return []
    counts: dict[str, int] = {}
    for day in session.scalars(select(OperationRecord.performed_on).where(
            OperationRecord.crane_id == crane.id, OperationRecord.kind == "self_check",
            OperationRecord.project_id == crane.project_id, OperationRecord.performed_on >= crane.accepted_on)):
        counts[f"{day:%Y-%m}"] = counts.get(f"{day:%Y-%m}", 0) + 1
    required = get_settings().self_checks_per_month
    return [SelfCheckMonth(f"{y:04d}-{m:02d}", counts.get(f"{y:04d}-{m:02d}", 0), required,
                           (y, m) != (today.year, today.month))
            for y, m in _months(crane.accepted_on, today)]


@dataclass
class OperationsOverview:
    records: list[OperationRecord]
    attachments: dict[int, Attachment]
    self_check_months: list[SelfCheckMonth]
    open_faults: list[OperationRecord]
    may_record: bool

    @property
    def shortfalls(self) -> list[SelfCheckMonth]:
        """Months already over with fewer self-checks than required."""
        return [m for m in self.self_check_months if m.complete and m.count < m.required]


def operations_overview(session: Session, crane: Crane, viewer: User, today: date) -> OperationsOverview:
    records = list_operations(session, crane)
    return OperationsOverview(
        records=records, attachments=record_attachments(session, records),
        self_check_months=self_check_months(session, crane, today), open_faults=open_faults(session, crane.id),
        may_record=viewer.kind == "enterprise" and crane.status not in NO_RECORDS_STATES
        and viewer.enterprise_id in record_keepers(session, crane))
