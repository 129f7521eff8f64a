"""Resident identity number (公民身份号码) checks per GB 11643-1999."""

from __future__ import annotations

import calendar
import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
FORMAT = re.compile(r"\d{17}[\dX]")
MIN_BIRTH_YEAR = 1800


def normalize(value: str) -> str:
    """Remove all whitespace and upper-case (x -> X)."""
    return "".join(str(value).split()).upper()


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def birth_date(value: str) -> date | None:
    """Birth date encoded in positions 7-14, or None if it is not a real date."""
    v = normalize(value)
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return None
    return born if born.year >= MIN_BIRTH_YEAR else None


def resident_id_error(value: str, today: date | None = None) -> str | None:
    """None when valid, else "format", "birth_date" or "check_digit"."""
    v = normalize(value)
    if not FORMAT.fullmatch(v):
        return "format"
    born = birth_date(v)
    if born is None or born > (today or date.today()):
        return "birth_date"
    if check_char(v[:17]) != v[17]:
        return "check_digit"
    return None


def is_valid_resident_id(value: str, today: date | None = None) -> bool:
    return resident_id_error(value, today) is None


def mask_resident_id(value: str) -> str:
    """Keep the first 6 and last 4 characters, mask the rest with '*'."""
    v = normalize(value)
    if len(v) <= 10:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def _anniversary(d: date, years: int) -> date:
    year = d.year + years
    day = min(d.day, calendar.monthrange(year, d.month)[1])
    return date(year, d.month, day)


def age_on(value: str, on: date) -> int:
    """Age in full years on a date.

    A 29 February birthday falls on 28 February in common years
    (month-end rule of 民法典 Art. 202).
    """
    v = normalize(value)
    if not FORMAT.fullmatch(v) or (born := birth_date(v)) is None:
        raise ValueError("not a resident ID with a valid birth date")
    if on < born:
        raise ValueError("date is before the birth date")
    years = on.year - born.year
    return years if _anniversary(born, years) <= on else years - 1
