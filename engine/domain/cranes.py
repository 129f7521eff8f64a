"""Crane types, JGJ/T 189-2009 assessment ages and the 超危大 expert-review test."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

CRANE_TYPES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    code: MappingProxyType({"letter": letter, "zh": zh, "en": en})
    for code, letter, zh, en in (
        ("tower_crane", "T", "塔式起重机", "Tower crane"),
        ("construction_hoist", "S", "施工升降机", "Construction hoist"),
        ("material_hoist", "W", "物料提升机", "Material hoist"),
        ("gantry_crane", "M", "门式起重机", "Gantry crane"),
    )
})

HOIST_DRIVES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "SC": MappingProxyType({"zh": "齿轮齿条", "en": "Rack and pinion"}),
    "SS": MappingProxyType({"zh": "钢丝绳", "en": "Wire rope"}),
    "SH": MappingProxyType({"zh": "混合", "en": "Hybrid"}),
})

TOWER_MOMENT_BANDS_KNM = (630, 1250)

ASSESSMENT_AGE_YEARS: Mapping[str, int | None] = MappingProxyType({
    "tower_crane_lt_630": 10,
    "tower_crane_630_1250": 15,
    "tower_crane_ge_1250": 20,
    "construction_hoist_SC": 8,
    "construction_hoist_SS": 5,
    "material_hoist": None,
    "gantry_crane": None,
})

SUPER_DANGEROUS_CAPACITY_KN = 300
SUPER_DANGEROUS_HEIGHT_M = 200


def type_letter(crane_type: str) -> str:
    return _crane_type(crane_type)["letter"]


def _crane_type(crane_type: str) -> Mapping[str, str]:
    try:
        return CRANE_TYPES[crane_type]
    except KeyError:
        raise ValueError(f"unknown crane type: {crane_type!r}") from None


def _threshold_key(crane_type: str, rated_moment_knm: float | None, hoist_drive: str | None) -> str:
    _crane_type(crane_type)
    if crane_type == "tower_crane":
        if rated_moment_knm is None or rated_moment_knm < 0:
            raise ValueError("tower cranes need a non-negative rated moment in kN·m")
        low, high = TOWER_MOMENT_BANDS_KNM
        if rated_moment_knm < low:
            return "tower_crane_lt_630"
        return "tower_crane_630_1250" if rated_moment_knm < high else "tower_crane_ge_1250"
    if crane_type == "construction_hoist":
        drive = (hoist_drive or "").strip().upper()
        if drive not in HOIST_DRIVES:
            raise ValueError(f"construction hoists need a drive kind {sorted(HOIST_DRIVES)}")
        return "construction_hoist_SS" if drive == "SS" else "construction_hoist_SC"
    return crane_type


def assessment_threshold_years(
    crane_type: str,
    rated_moment_knm: float | None = None,
    hoist_drive: str | None = None,
    thresholds: Mapping[str, int | None] | None = None,
) -> int | None:
    """Age in years above which a safety assessment is due; None = no threshold.

    ``thresholds`` overrides entries of ASSESSMENT_AGE_YEARS by key (unknown keys raise).
    SH (hybrid) hoists use the SC value.
    """
    overrides = dict(thresholds or {})
    unknown = set(overrides) - set(ASSESSMENT_AGE_YEARS)
    if unknown:
        raise ValueError(f"unknown threshold keys: {sorted(unknown)}")
    table = {**ASSESSMENT_AGE_YEARS, **overrides}
    return table[_threshold_key(crane_type, rated_moment_knm, hoist_drive)]


def add_years(d: date, years: int) -> date:
    """Same month and day ``years`` later; 29 February maps to 28 February in common years."""
    year = d.year + years
    return date(year, d.month, min(d.day, calendar.monthrange(year, d.month)[1]))


def age_in_years(manufacture_date: date, on_date: date) -> int:
    """Full years from the factory date to on_date; raises if on_date is earlier."""
    if on_date < manufacture_date:
        raise ValueError("on_date is before the manufacture date")
    years = on_date.year - manufacture_date.year
    return years if add_years(manufacture_date, years) <= on_date else years - 1


def assessment_required(
    crane_type: str,
    manufacture_date: date,
    on_date: date,
    rated_moment_knm: float | None = None,
    hoist_drive: str | None = None,
    thresholds: Mapping[str, int | None] | None = None,
) -> bool:
    """True when the age strictly exceeds the threshold.

    On the N-th anniversary of the factory date the crane is not yet over age;
    from the following day it is.
    """
    limit = assessment_threshold_years(crane_type, rated_moment_knm, hoist_drive, thresholds)
    if limit is None:
        return False
    return on_date > add_years(manufacture_date, limit)


def requires_expert_review(
    capacity_kn: float, erected_height_m: float, base_elevation_m: float = 0
) -> bool:
    """超危大 install/dismantle: capacity ≥ 300 kN, or erected height or base elevation ≥ 200 m."""
    return (
        capacity_kn >= SUPER_DANGEROUS_CAPACITY_KN
        or erected_height_m >= SUPER_DANGEROUS_HEIGHT_M
        or base_elevation_m >= SUPER_DANGEROUS_HEIGHT_M
    )
