"""What a section is: its columns (with (zh, en) titles and a kind telling how to show a value),
the function computing its rows, and how its chart is drawn."""
from dataclasses import dataclass
from typing import Callable

# Column kinds: int, pct (0–100, one decimal), days (one decimal), region (a code), crane_type,
# month (YYYY-MM), date, text, instrument.


@dataclass(frozen=True)
class Column:
    key: str
    title: tuple[str, str]
    kind: str = "int"


@dataclass(frozen=True)
class Chart:
    """`category` is the column along the x axis; rows with the same category add up; `series`
    are the columns drawn (stacked bars when `stack`)."""

    type: str  # bar | line
    category: str
    series: tuple[str, ...]
    stack: bool = False


@dataclass(frozen=True)
class Section:
    name: str
    title: tuple[str, str]
    note: tuple[str, str]
    columns: tuple[Column, ...]
    rows: Callable  # (session, scope, period, today) -> list[dict]
    chart: Chart
    uses_period: bool = True


def rate(part, whole) -> float | None:
    """part / whole as a percentage with one decimal; None when there is nothing to divide."""
    return round(100.0 * part / whole, 1) if whole else None


def one_decimal(value) -> float | None:
    return None if value is None else round(float(value), 1)
