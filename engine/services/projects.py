"""The project ledger (项目台账): a project's parties, cranes, cases, crews, inspections and open
hazards, scoped to the user; and the regulator's 在建 / 完工 mark.

A project is named by installation notices (their submission carries the project code). The
other procedures on a crane that stands on a site (use registration, dismantling …: catalog
entries about a crane whose case region is the project's) belong to the project of the latest
installation notice on that crane lodged up to them, so a crane that moves on to another site
takes its later cases with it.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.db import (AuditEvent, CaseParty, Certificate, Crane, Enterprise, FilingSubmission, Hazard,
                       Inspection, Person, ProcessInstance, Project, User)
from engine.errors import Conflict, NotFound, NotPermitted
from forms import form_schema, t
from workflows.catalog import load_catalog

from . import audit
from .access import can_see_case, case_filter, enterprise_role, in_jurisdiction, region_codes_filter
from .settings import CHINA_TZ

NOTICE = "installation_notice"
PARTY_LABELS = {
    "user": ("使用单位（施工总承包单位）", "User (general contractor)"), "supervisor": ("监理单位", "Supervision firm"),
    "installer": ("安装单位", "Installer"), "owner": ("产权单位", "Owner"), "inspector": ("检验检测机构", "Inspection body"),
}
# Fields of a case's submission that name people, and whether they hold a list of crew members.
PERSONNEL_FIELDS = (("technical_lead", False), ("safety_officer", False), ("equipment_manager", False),
                    ("crew", True), ("operators", True))


def site_process_keys() -> tuple[str, ...]:
    """Procedures about a crane that are handled where its project is."""
    return tuple(e.key for e in load_catalog().values() if e.subject == "crane" and e.region == "project")


def notice_project_code():
    """For the ProcessInstance row of the enclosing query: the project code of the latest
    installation notice on its crane up to and including it (its own code for a notice)."""
    notice = aliased(ProcessInstance)
    return (select(FilingSubmission.data["project_code"].as_string())
            .join(notice, notice.id == FilingSubmission.instance_id)
            .where(notice.process_key == NOTICE, notice.subject_type == "crane",
                   notice.subject_id == ProcessInstance.subject_id, notice.id <= ProcessInstance.id)
            .order_by(notice.id.desc()).limit(1)
            .correlate(ProcessInstance).scalar_subquery())


def _site_case(keys):
    return and_(ProcessInstance.subject_type == "crane", ProcessInstance.process_key.in_(keys))


def _cranes_ever_on(project: Project):
    """Ids of the cranes an installation notice placed (or meant to place) on the project."""
    return (select(ProcessInstance.subject_id)
            .join(FilingSubmission, FilingSubmission.instance_id == ProcessInstance.id)
            .where(ProcessInstance.process_key == NOTICE, ProcessInstance.subject_type == "crane",
                   FilingSubmission.data["project_code"].as_string() == project.code))


def project_cases_condition(project: Project, keys=None):
    keys = site_process_keys() if keys is None else keys
    return or_(
        and_(_site_case(keys), ProcessInstance.subject_id.in_(_cranes_ever_on(project)),
             notice_project_code() == project.code),
        ProcessInstance.id.in_(select(Inspection.instance_id).where(Inspection.project_id == project.id)))


def project_filter(user: User):
    """SQL condition: the projects the user may see."""
    if user.kind == "admin":
        return true()
    if user.kind == "regulator":
        return region_codes_filter(user, Project.region_code)
    if user.kind == "enterprise" and user.enterprise_id is not None:
        involved = case_filter(user)
        named_in = select(notice_project_code()).where(_site_case(site_process_keys()), involved)
        inspected = (select(Inspection.project_id)
                     .join(ProcessInstance, ProcessInstance.id == Inspection.instance_id).where(involved))
        return or_(Project.user_enterprise_id == user.enterprise_id,
                   Project.supervisor_enterprise_id == user.enterprise_id,
                   Project.code.in_(named_in), Project.id.in_(inspected))
    return false()


def can_see_project(session: Session, user: User, project: Project) -> bool:
    if user.kind == "admin":
        return True
    if user.kind == "regulator":
        return in_jurisdiction(user, project.region_code)
    return session.scalar(select(Project.id).where(Project.id == project.id, project_filter(user))) is not None


def list_projects(session: Session, user: User, *, status: str | None = None, q: str | None = None,
                  page: int = 1, per_page: int = 20) -> tuple[list[Project], int]:
    condition = project_filter(user)
    if status:
        condition = condition & (Project.status == status)
    if q:
        needle = q.strip().lower()
        condition = condition & or_(func.lower(Project.code).contains(needle, autoescape=True),
                                    func.lower(Project.name).contains(needle, autoescape=True))
    total = session.scalar(select(func.count()).select_from(Project).where(condition))
    rows = session.scalars(select(Project).where(condition).order_by(Project.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def get_project(session: Session, user: User, project_id: int, *, lock: bool = False) -> Project:
    project = session.get(Project, project_id, with_for_update=lock or None)
    if project is None or not can_see_project(session, user, project):
        raise NotFound("project not found")
    return project


@dataclass
class LedgerParty:
    role: str
    enterprise: Enterprise

    @property
    def label(self) -> tuple[str, str]:
        return PARTY_LABELS.get(self.role, (self.role, self.role))


@dataclass
class LedgerPerson:
    """Someone named on the project's cases; certificate facts from the personnel registry."""

    name: str
    certificate_no: str | None = None
    category: str | None = None
    valid_until: date | None = None
    duties: list[tuple[str, str]] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)


@dataclass
class LedgerHazard:
    hazard: Hazard
    deadline_on: date | None  # the hazard's own deadline, else its notice's
    overdue: bool


@dataclass
class Ledger:
    project: Project
    parties: list[LedgerParty]
    cranes: list[Crane]
    cases: list[ProcessInstance]
    personnel: list[LedgerPerson]
    inspections: list[Inspection]
    open_hazards: list[LedgerHazard]
    history: list[AuditEvent]
    procedures: dict
    today: date


def _today() -> date:
    return datetime.now(CHINA_TZ).date()


def project_cases(session: Session, project: Project) -> list[ProcessInstance]:
    return list(session.scalars(select(ProcessInstance)
                                .where(project_cases_condition(project)).order_by(ProcessInstance.id)))


def _parties(session: Session, project: Project, cases: list[ProcessInstance], catalog: dict) -> list[LedgerParty]:
    wanted = [("user", project.user_enterprise_id), ("supervisor", project.supervisor_enterprise_id)]
    for case in cases:
        entry = catalog.get(case.process_key)
        role = enterprise_role(entry.starter) if entry is not None else None
        if role and case.applicant_enterprise_id:
            wanted.append((role, case.applicant_enterprise_id))
    if cases:
        wanted += session.execute(select(CaseParty.party, CaseParty.enterprise_id)
                                  .where(CaseParty.instance_id.in_([c.id for c in cases]))).all()
    enterprises = {e.id: e for e in session.scalars(select(Enterprise).where(
        Enterprise.id.in_({ent_id for _, ent_id in wanted})))}
    order = list(PARTY_LABELS)
    unique = sorted({(role, ent_id) for role, ent_id in wanted if ent_id in enterprises},
                    key=lambda p: (order.index(p[0]) if p[0] in order else len(order), p[1]))
    return [LedgerParty(role, enterprises[ent_id]) for role, ent_id in unique]


def _personnel(session: Session, cases: list[ProcessInstance]) -> list[LedgerPerson]:
    if not cases:
        return []
    people: dict[tuple, LedgerPerson] = {}
    submissions = session.scalars(select(FilingSubmission).where(
        FilingSubmission.instance_id.in_([c.id for c in cases])).order_by(FilingSubmission.instance_id))
    for submission in submissions:
        schema_fields = form_schema(submission.form_key).fields
        for name, is_crew in PERSONNEL_FIELDS:
            value = submission.data.get(name)
            if not value or name not in schema_fields:
                continue
            duty = schema_fields[name].metadata.get("title") or (name, name)
            members = value if is_crew else [{"name": value}]
            for member in members:
                key = (member["name"], member.get("certificate_no"))
                person = people.setdefault(key, LedgerPerson(name=key[0], certificate_no=key[1]))
                if duty not in person.duties:
                    person.duties.append(duty)
                if submission.instance_id not in person.case_ids:
                    person.case_ids.append(submission.instance_id)
    numbers = [p.certificate_no for p in people.values() if p.certificate_no]
    if numbers:
        for cert in session.scalars(select(Certificate).join(Person).where(Certificate.number.in_(numbers))):
            person = people.get((cert.person.name, cert.number))
            if person is not None:
                person.category, person.valid_until = cert.category, cert.valid_until
    return sorted(people.values(), key=lambda p: (p.name, p.certificate_no or ""))


def open_hazards(session: Session, project: Project, today: date | None = None) -> list[LedgerHazard]:
    today = today or _today()
    rows = session.execute(select(Hazard, Inspection.deadline_on).join(Inspection, Inspection.id == Hazard.inspection_id)
                           .where(Inspection.project_id == project.id, Hazard.status == "open")).all()
    found = []
    for hazard, notice_deadline in rows:
        deadline = hazard.deadline_on or notice_deadline
        found.append(LedgerHazard(hazard, deadline, deadline is not None and deadline < today))
    return sorted(found, key=lambda x: (x.deadline_on is None, x.deadline_on or date.max, x.hazard.id))


def status_history(session: Session, project: Project) -> list[AuditEvent]:
    # Project events belong to no case: the instance_id index narrows them to the few such rows.
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id.is_(None), AuditEvent.action == "project_status",
        AuditEvent.detail["project_id"].as_integer() == project.id).order_by(AuditEvent.id)))


def project_ledger(session: Session, project: Project, viewer: User | None = None) -> Ledger:
    """Everything the ledger shows; with a viewer, only the cases (and the crews named in them)
    the viewer may see."""
    catalog = load_catalog()
    cases = project_cases(session, project)
    parties = _parties(session, project, cases, catalog)
    if viewer is not None:
        cases = [c for c in cases if can_see_case(viewer, c, session)]
    crane_ids = {c.subject_id for c in cases if c.subject_type == "crane"}
    cranes = list(session.scalars(select(Crane).where(
        or_(Crane.project_id == project.id, Crane.id.in_(crane_ids))).order_by(Crane.id)))
    inspections = list(session.scalars(select(Inspection).where(Inspection.project_id == project.id)
                                       .order_by(Inspection.check_date.desc(), Inspection.id.desc())))
    today = _today()
    return Ledger(project=project, parties=parties, cranes=cranes, cases=cases,
                  personnel=_personnel(session, cases), inspections=inspections,
                  open_hazards=open_hazards(session, project, today), history=status_history(session, project),
                  procedures=catalog, today=today)


def may_set_status(user: User, project: Project) -> bool:
    """The authority of the project's place (any level above it included) marks it."""
    return user.kind == "regulator" and in_jurisdiction(user, project.region_code)


def set_project_status(session: Session, user: User, project: Project, status: str, reason: str = "") -> Project:
    """Mark a project 在建 or 完工, or return it as not in this region; 完工 only once no crane stands
    on it and no hazard is open, a return only while no crane stands on it."""
    if not may_set_status(user, project):
        raise NotPermitted(t("project_status_not_permitted"))
    if status == "completed":
        on_site = session.scalars(select(Crane.record_number).where(Crane.project_id == project.id)
                                  .order_by(Crane.id)).all()
        if on_site:
            raise Conflict(t("project_cranes_on_site", cranes="、".join(n or "—" for n in on_site)))
        hazards = session.scalar(select(func.count()).select_from(Hazard).join(Inspection, Inspection.id == Hazard.inspection_id)
                                 .where(Inspection.project_id == project.id, Hazard.status == "open"))
        if hazards:
            raise Conflict(t("project_open_hazards", n=hazards))
    if status == "returned" and session.scalar(select(Crane.id).where(Crane.project_id == project.id).limit(1)):
        raise Conflict(t("project_returned_has_cranes"))
    before = project.status
    if before != status:
        project.status = status
        audit.record(session, action="project_status", actor=user, from_state=before, to_state=status,
                     project_id=project.id, project_code=project.code, reason=reason or None)
        session.flush()
    return project
