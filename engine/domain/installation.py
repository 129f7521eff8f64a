"""Installation, acceptance and use-registration rules (domain.md §2.2–§2.4, §7.4)."""
from __future__ import annotations

from datetime import date, timedelta

from .workdays import WorkdayCalendar

# 76号 Art 13: the notice reaches the authority at least this many working days before the start.
DEFAULT_NOTICE_LEAD_WORKDAYS = 2
# Use registration within 30 days of acceptance; a reminder goes out on day 20.
USE_REGISTRATION_WINDOW_DAYS = 30
USE_REGISTRATION_REMINDER_DAY = 20
# Tower-crane verticality (per mille): free-standing or above the top anchorage, and below it.
VERTICALITY_LIMIT_FREE = 4.0
VERTICALITY_LIMIT_ANCHORED = 2.0
KN_PER_KG = 0.00980665

# 安装拆卸工 of the crane's type (08/09/10), 信号司索工 04 and 建筑电工 01 (§7.4).
ERECTOR_CATEGORY = {"tower_crane": "08", "construction_hoist": "09", "material_hoist": "10"}
# 司机 of the crane's type (05/06/07) and 信号司索工 04 for use.
OPERATOR_CATEGORY = {"tower_crane": "05", "construction_hoist": "06", "material_hoist": "07"}


def installation_crew_categories(crane_type: str) -> set[str]:
    """Certificate categories an installation or dismantling crew must hold between them."""
    needed = {"04", "01"}
    if crane_type in ERECTOR_CATEGORY:
        needed.add(ERECTOR_CATEGORY[crane_type])
    return needed


def operating_crew_categories(crane_type: str) -> set[str]:
    needed = {"04"}
    if crane_type in OPERATOR_CATEGORY:
        needed.add(OPERATOR_CATEGORY[crane_type])
    return needed


def earliest_start(calendar: WorkdayCalendar, notice_day: date, lead_workdays: int) -> date:
    """The first day work may start when the notice is lodged on `notice_day`."""
    return calendar.add_workdays(notice_day, lead_workdays)


def notice_too_late(calendar: WorkdayCalendar, notice_day: date, planned_start: date,
                    lead_workdays: int) -> bool:
    return planned_start < earliest_start(calendar, notice_day, lead_workdays)


def capacity_kn(rated_load_kg: int | None) -> float:
    return (rated_load_kg or 0) * KN_PER_KG


def verticality_limit(anchored_below: bool) -> float:
    """Allowed deviation (‰) at the measured point: below the top anchorage, or elsewhere."""
    return VERTICALITY_LIMIT_ANCHORED if anchored_below else VERTICALITY_LIMIT_FREE


def registration_reminder_on(accepted_on: date) -> date:
    return accepted_on + timedelta(days=USE_REGISTRATION_REMINDER_DAY)


def registration_due_on(accepted_on: date) -> date:
    """Last day of the 30-day window; registering later is flagged 逾期登记."""
    return accepted_on + timedelta(days=USE_REGISTRATION_WINDOW_DAYS)


def registration_late(accepted_on: date, applied_on: date) -> bool:
    return (applied_on - accepted_on).days > USE_REGISTRATION_WINDOW_DAYS
