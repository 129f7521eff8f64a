"""Whose figures: the region a regulator looks at (its own or one below it) and its child regions."""
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import true

from engine.db import HumanTask, User
from engine.domain.regions import Region, children, get_region, is_within
from engine.errors import NotFound, NotPermitted
from forms.messages import t

from ..access import jurisdiction_codes


@dataclass(frozen=True)
class Scope:
    region: Region

    @property
    def level(self) -> str:
        return self.region.level

    @property
    def codes(self) -> tuple[str, ...]:
        return jurisdiction_codes(self.region.code)

    def where(self, column):
        """Restrict a region-code column to the region (no condition at all for the province)."""
        return true() if self.level == "province" else column.in_(self.codes)

    def level_where(self, model=HumanTask):
        """The region on a model's denormalised province_code / city_code / region_code columns (the
        inbox's tasks, the rollups)."""
        column = {"province": model.province_code, "city": model.city_code, "county": model.region_code}[self.level]
        return column == self.region.code

    def child_of(self, code: str | None) -> str | None:
        """The child region (city under the province, county under a city) a code counts in; the
        region itself for codes at its own level; None outside."""
        return child_region_by_code(self.region.code).get(code)

    @property
    def children(self) -> list[Region]:
        return children(self.region.code)


@lru_cache(maxsize=256)
def child_region_by_code(code: str) -> dict[str, str]:
    """Every code within a region -> the child region it counts in (the region itself for its own code)."""
    out = {code: code}
    for child in children(code):
        for inner in jurisdiction_codes(child.code):
            out[inner] = child.code
    return out


def resolve_scope(user: User, region_code: str | None = None, *,
                  refused: str = "statistics_regulators_only") -> Scope:
    """The region to report on: the regulator's own by default, or one within its jurisdiction.

    Only regulators get figures (403 with the `refused` message for everyone else); a region outside
    the jurisdiction, above it included, is refused (403); an unknown code is 404."""
    if user is None or user.kind != "regulator" or not user.region_code:
        raise NotPermitted(t(refused))
    code = region_code or user.region_code
    region = get_region(code)
    if region is None:
        raise NotFound(t("statistics_region_unknown", code=code))
    if not is_within(region.code, user.region_code):
        raise NotPermitted(t("region_outside_jurisdiction"))
    return Scope(region)
