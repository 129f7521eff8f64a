"""Hubei administrative divisions (GB/T 2260) and their plate letters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PROVINCE_CODE = "420000"
LEVELS = ("province", "city", "county")
LEVEL_RANK = {level: i for i, level in enumerate(LEVELS)}  # province 0 < city 1 < county 2


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_en: str
    level: str
    parent: str | None
    plate: str | None = None


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[Region, ...], dict[str, Region]]:
    text = resources.files(__package__).joinpath("data/hubei_regions.json").read_text("utf-8")
    regions = tuple(
        sorted(
            (
                Region(
                    code=r["code"],
                    name=r["name"],
                    name_en=r["name_en"],
                    level=r["level"],
                    parent=r.get("parent"),
                    plate=r.get("plate"),
                )
                for r in json.loads(text)["regions"]
            ),
            key=lambda r: r.code,
        )
    )
    return regions, {r.code: r for r in regions}


def _key(code: str | int | None) -> str:
    return "" if code is None else str(code).strip()


def all_regions() -> list[Region]:
    """All regions ordered by code."""
    return list(_load()[0])


def get_region(code: str) -> Region | None:
    return _load()[1].get(_key(code))


def _chain(code: str):
    region = get_region(code)
    while region is not None:
        yield region
        region = get_region(region.parent) if region.parent else None


def prefecture_of(code: str) -> Region | None:
    """The prefecture-level unit containing a code (itself for a city)."""
    return next((r for r in _chain(code) if r.level == "city"), None)


def province_of(code: str) -> Region | None:
    return next((r for r in _chain(code) if r.level == "province"), None)


def superior_of(code: str) -> Region | None:
    """The division one level up (the province for itself): whose authority oversees this one's."""
    region = get_region(code)
    if region is None:
        return None
    return get_region(region.parent) if region.parent else region


def children(code: str) -> list[Region]:
    key = _key(code)
    return [r for r in _load()[0] if r.parent == key]


def plate_letter(code: str) -> str | None:
    """Plate letter of the prefecture containing the code (None for the province)."""
    prefecture = prefecture_of(code)
    return prefecture.plate if prefecture else None


def is_within(code: str, ancestor_code: str) -> bool:
    """True when code is ancestor_code or lies under it; unknown codes are never within."""
    key = _key(ancestor_code)
    return any(r.code == key for r in _chain(code))


def housing_authority(code: str, locale: str = "zh_CN") -> str:
    """The housing and urban-rural development authority of a region (省厅, 市/县局); a county's
    name carries its city's (武汉市江岸区住房和城乡建设局)."""
    region = get_region(code) or get_region(PROVINCE_CODE)
    if not locale.startswith("zh"):
        kind = "Department" if region.level == "province" else "Bureau"
        return f"{kind} of Housing and Urban-Rural Development, {region.name_en}"
    if region.level == "province":
        return f"{region.name}住房和城乡建设厅"
    if region.level == "county":
        city = prefecture_of(region.code)
        return f"{city.name if city else ''}{region.name}住房和城乡建设局"
    return f"{region.name}住房和城乡建设局"
