"""Who may see and act on what: role AND scope (enterprise, region), as rows and as SQL filters."""
from functools import lru_cache

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from engine.db import CaseParty, Crane, HumanTask, ProcessInstance, Project, User
from engine.domain.regions import all_regions, is_within


def enterprise_role(role: str) -> str | None:
    return role.split(":", 1)[1] if role.startswith("enterprise:") else None


def holds_role(user: User, role: str) -> bool:
    wanted = enterprise_role(role)
    if wanted is not None:
        ent = user.enterprise
        return (user.kind == "enterprise" and ent is not None and ent.status == "approved"
                and wanted in ent.roles)
    return user.kind == role


def in_jurisdiction(user: User, region_code: str | None) -> bool:
    """A regulator's jurisdiction is its region and everything below it."""
    return bool(region_code and user.region_code and is_within(region_code, user.region_code))


def can_act_on(user: User, task: HumanTask) -> bool:
    if not user.is_active or not holds_role(user, task.role):
        return False
    if task.role == "enterprise" or task.role.startswith("enterprise:"):
        return task.enterprise_id is not None and task.enterprise_id == user.enterprise_id
    if task.role == "regulator":
        return user.regulator_level in task.levels.split(",") and in_jurisdiction(user, task.region_code)
    return True


def inbox_filter(user: User):
    """SQL condition equivalent to can_act_on, for listing without loading workflows."""
    if not user.is_active:
        return false()
    if user.kind == "enterprise":
        ent = user.enterprise
        if ent is None:
            return false()
        # Declared roles count only once the enterprise filing is approved.
        roles = ["enterprise"] + ([f"enterprise:{r}" for r in ent.roles] if ent.status == "approved" else [])
        return and_(HumanTask.role.in_(roles), HumanTask.enterprise_id == user.enterprise_id)
    if user.kind == "regulator":
        column = {"province": HumanTask.province_code, "city": HumanTask.city_code,
                  "county": HumanTask.region_code}[user.regulator_level]
        return and_(HumanTask.role == "regulator", column == user.region_code,
                    HumanTask.levels.contains(user.regulator_level))
    if user.kind == "admin":
        return HumanTask.role == "admin"
    return false()


def _party_of_case(enterprise_id):
    return exists().where(CaseParty.instance_id == ProcessInstance.id, CaseParty.enterprise_id == enterprise_id)


def can_see_case(user: User, instance: ProcessInstance, session=None) -> bool:
    """Enterprises see cases they started or are named in (the latter needs `session`)."""
    if user.kind == "admin":
        return True
    if user.kind == "enterprise":
        if user.enterprise_id is None:
            return False
        if instance.applicant_enterprise_id == user.enterprise_id:
            return True
        return session is not None and session.scalar(select(CaseParty.party).where(
            CaseParty.instance_id == instance.id, CaseParty.enterprise_id == user.enterprise_id).limit(1)) is not None
    if user.kind == "regulator":
        return in_jurisdiction(user, instance.region_code)
    return False


def _cranes_in_cases_of(enterprise_id):
    """Ids of cranes that cases the enterprise started or is named in are about."""
    return select(ProcessInstance.subject_id).where(
        ProcessInstance.subject_type == "crane",
        or_(ProcessInstance.applicant_enterprise_id == enterprise_id, _party_of_case(enterprise_id)))


def _records_handed_to(enterprise_id):
    """Ids of earlier records of cranes transferred to the enterprise (their archive passed on)."""
    successor = aliased(Crane)
    return select(successor.predecessor_id).where(successor.owner_enterprise_id == enterprise_id,
                                                  successor.predecessor_id.is_not(None))


def can_see_crane(user: User, crane: Crane, session=None) -> bool:
    """Owners see their cranes; other enterprises those their cases are about; regulators those
    filed in, or standing on a project in, their jurisdiction (`session` needed for the latter two)."""
    if user.kind == "admin":
        return True
    if user.kind == "enterprise":
        if crane.owner_enterprise_id == user.enterprise_id:
            return True
        if session is None or user.enterprise_id is None:
            return False
        return session.scalar(
            _cranes_in_cases_of(user.enterprise_id).where(ProcessInstance.subject_id == crane.id).limit(1)) is not None \
            or session.scalar(select(Crane.id).where(Crane.predecessor_id == crane.id,
                                                     Crane.owner_enterprise_id == user.enterprise_id).limit(1)) is not None
    if user.kind == "regulator":
        if in_jurisdiction(user, crane.filing_region_code):
            return True
        return session is not None and crane.project_id is not None and in_jurisdiction(
            user, session.get(Project, crane.project_id).region_code)
    return False


@lru_cache(maxsize=256)
def jurisdiction_codes(region_code: str | None) -> tuple[str, ...]:
    """Every region code within a regulator's region (itself included)."""
    return tuple(r.code for r in all_regions() if region_code and is_within(r.code, region_code))


def region_codes_filter(user: User, column):
    """Restrict a region-code column to the regulator's jurisdiction."""
    codes = jurisdiction_codes(user.region_code)
    return column.in_(codes) if codes else false()


def case_filter(user: User):
    if user.kind == "admin":
        return true()
    if user.kind == "enterprise":
        return or_(ProcessInstance.applicant_enterprise_id == user.enterprise_id, _party_of_case(user.enterprise_id))
    if user.kind == "regulator":
        return region_codes_filter(user, ProcessInstance.region_code)
    return false()


def crane_filter(user: User):
    if user.kind == "admin":
        return true()
    if user.kind == "enterprise":
        return or_(Crane.owner_enterprise_id == user.enterprise_id,
                   Crane.id.in_(_cranes_in_cases_of(user.enterprise_id)),
                   Crane.id.in_(_records_handed_to(user.enterprise_id)))
    if user.kind == "regulator":
        return or_(region_codes_filter(user, Crane.filing_region_code),
                   Crane.project_id.in_(select(Project.id).where(region_codes_filter(user, Project.region_code))))
    return false()

