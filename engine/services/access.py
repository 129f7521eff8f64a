"""Who may see and act on what: role AND scope (enterprise, region), as rows and as SQL filters."""
from functools import lru_cache

from sqlalchemy import and_, false, true

from engine.db import Crane, HumanTask, ProcessInstance, User
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


def can_see_case(user: User, instance: ProcessInstance) -> bool:
    if user.kind == "admin":
        return True
    if user.kind == "enterprise":
        return instance.applicant_enterprise_id == user.enterprise_id
    if user.kind == "regulator":
        return in_jurisdiction(user, instance.region_code)
    return False


def can_see_crane(user: User, crane: Crane) -> bool:
    if user.kind == "admin":
        return True
    if user.kind == "enterprise":
        return crane.owner_enterprise_id == user.enterprise_id
    if user.kind == "regulator":
        return in_jurisdiction(user, crane.filing_region_code)
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
        return ProcessInstance.applicant_enterprise_id == user.enterprise_id
    if user.kind == "regulator":
        return region_codes_filter(user, ProcessInstance.region_code)
    return false()


def crane_filter(user: User):
    if user.kind == "admin":
        return true()
    if user.kind == "enterprise":
        return Crane.owner_enterprise_id == user.enterprise_id
    if user.kind == "regulator":
        return region_codes_filter(user, Crane.filing_region_code)
    return false()

