"""Chinese working-day calendar with statutory holidays and 调休 makeup working days."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

_DAY = timedelta(days=1)


class WorkdayCalendar:
    """Mon-Fri are working days unless a holiday; Sat/Sun only when a makeup working day.

    ``years`` lists the years the holiday data covers (default: years of the given dates).
    """

    def __init__(
        self,
        holidays: Iterable[date],
        makeup_workdays: Iterable[date],
        years: Iterable[int] | None = None,
    ):
        self.holidays = frozenset(holidays)
        self.makeup_workdays = frozenset(makeup_workdays)
        clash = self.holidays & self.makeup_workdays
        if clash:
            raise ValueError(f"dates are both holiday and makeup workday: {sorted(clash)}")
        if years is None:
            years = (d.year for d in self.holidays | self.makeup_workdays)
        self.years = frozenset(years)

    def covers(self, d: date) -> bool:
        """True when the calendar holds holiday data for the year of d."""
        return d.year in self.years

    def is_workday(self, d: date) -> bool:
        if d in self.holidays:
            return False
        if d in self.makeup_workdays:
            return True
        return d.weekday() < 5

    def _step(self, start: date, n: int, direction: int) -> date:
        if n < 0:
            raise ValueError("n must be >= 0")
        d = start
        while n:
            d += direction * _DAY
            if self.is_workday(d):
                n -= 1
        return d

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after start (start itself for n == 0)."""
        return self._step(start, n, 1)

    def subtract_workdays(self, start: date, n: int) -> date:
        """The n-th working day before start (start itself for n == 0)."""
        return self._step(start, n, -1)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative count of (end, start] when end < start."""
        if end < start:
            return -self.workdays_between(end, start)
        days = (end - start).days
        return sum(self.is_workday(start + i * _DAY) for i in range(1, days + 1))


def _parse(text: str) -> WorkdayCalendar:
    holidays: set[date] = set()
    makeup: set[date] = set()
    try:
        years = json.loads(text)["years"]
        for year, festivals in years.items():
            for festival in festivals:
                first, last = (date.fromisoformat(x) for x in festival["off"])
                if not 0 <= (last - first).days < 31:
                    raise ValueError(f"bad range for {festival.get('name')} in {year}")
                holidays.update(first + i * _DAY for i in range((last - first).days + 1))
                makeup.update(date.fromisoformat(x) for x in festival.get("makeup", []))
        covered = [int(y) for y in years]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"invalid calendar data: {exc}") from None
    return WorkdayCalendar(holidays, makeup, years=covered)


def load_calendar(path: str | os.PathLike[str]) -> WorkdayCalendar:
    """Load a calendar file in the format of data/cn_workdays.json."""
    with open(path, encoding="utf-8") as f:
        return _parse(f.read())


@lru_cache(maxsize=1)
def default_calendar() -> WorkdayCalendar:
    """The bundled State Council arrangements (see data/cn_workdays.json)."""
    ref = resources.files(__package__).joinpath("data/cn_workdays.json")
    return _parse(ref.read_text("utf-8"))
