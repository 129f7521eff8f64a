"""Crane record numbers (备案编号) from an admin-configurable str.format pattern."""

from __future__ import annotations

import re
from string import Formatter

DEFAULT_PATTERN = "鄂{city}-{type}{year}{serial:05d}"
FIELDS = frozenset({"city", "county", "type", "year", "serial"})
INT_FIELDS = frozenset({"year", "serial"})
_INT_SPEC = re.compile(r"0?(\d*)d?")
_SAMPLE = {"city": "A", "county": "A", "type": "T", "year": 2026, "serial": 1}


def _fields(pattern: str) -> list[tuple[str, str]]:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("pattern must be a non-empty string")
    try:
        parsed = list(Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"malformed pattern: {exc}") from None
    fields = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FIELDS:
            raise ValueError(
                f"field {{{name}}} is not allowed; use only {', '.join(sorted(FIELDS))}"
            )
        if conversion is not None:
            raise ValueError(f"conversion !{conversion} is not allowed in {{{name}}}")
        if "{" in spec or "}" in spec:
            raise ValueError(f"nested fields are not allowed in {{{name}}}")
        if name in INT_FIELDS and not _INT_SPEC.fullmatch(spec):
            raise ValueError(f"{{{name}}} accepts only an integer width such as :05d")
        fields.append((name, spec))
    return fields


def validate_pattern(pattern: str) -> None:
    """Raise ValueError with a reason unless the pattern is usable."""
    fields = _fields(pattern)
    if "serial" not in {name for name, _ in fields}:
        raise ValueError("pattern must contain {serial}")
    try:
        pattern.format(**_SAMPLE)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"pattern cannot be formatted: {exc}") from None


def max_serial(pattern: str) -> int | None:
    """Largest serial that fits the narrowest {serial} width, None when unbounded."""
    widths = [
        int(m.group(1))
        for name, spec in _fields(pattern)
        if name == "serial" and (m := _INT_SPEC.fullmatch(spec)) and int(m.group(1) or 0)
    ]
    return 10 ** min(widths) - 1 if widths else None


def format_record_number(
    pattern: str, *, city: str, type: str, year: int, serial: int, county: str = ""
) -> str:
    """Format a record number, e.g. 鄂A-T202600001 for the default pattern."""
    validate_pattern(pattern)
    used = {name for name, _ in _fields(pattern)}
    for name, value in (("year", year), ("serial", serial)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer")
    if not 1000 <= year <= 9999:
        raise ValueError("year must have four digits")
    limit = max_serial(pattern)
    if serial < 1:
        raise ValueError("serial must be at least 1")
    if limit is not None and serial > limit:
        raise ValueError(f"serial must be between 1 and {limit} for this pattern")
    for name, value in (("city", city), ("type", type), ("county", county)):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        if name != "county" and name in used and not value.strip():
            raise ValueError(f"{name} must not be empty")
    return pattern.format(city=city, county=county, type=type, year=year, serial=serial)
