"""Reporting periods (China time) and the few SQL expressions that differ between PostgreSQL and SQLite."""
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, cast, func, literal_column

from engine.errors import InvalidInput
from forms.messages import t

from ..settings import CHINA_TZ

DEFAULT_PERIOD = "12m"
ROLLING = {"6m": 6, "12m": 12, "24m": 24}
_YEAR = re.compile(r"^(20[0-9]{2})$")


@dataclass(frozen=True)
class Period:
    """Whole calendar months from `start` (first day) to `end` (last day), both in China time."""

    key: str
    start: date
    end: date

    @property
    def months(self) -> list[str]:
        """Every month of the period as YYYY-MM, oldest first."""
        out, (y, m) = [], (self.start.year, self.start.month)
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def since(self) -> datetime:
        """The period's first instant (aware)."""
        return datetime.combine(self.start, time(0), tzinfo=CHINA_TZ)

    @property
    def until(self) -> datetime:
        """The instant after the period's last day (aware, exclusive)."""
        y, m = (self.end.year + 1, 1) if self.end.month == 12 else (self.end.year, self.end.month + 1)
        return datetime(y, m, 1, tzinfo=CHINA_TZ)


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def period_choices(today: date) -> list[str]:
    """What the period selector offers: the rolling windows, then this year and the two before."""
    return [*ROLLING, *(str(today.year - i) for i in range(3))]


def resolve_period(key: str | None, today: date) -> Period:
    """`6m`/`12m`/`24m` (months up to and including this one) or a calendar year `YYYY`."""
    key = key or DEFAULT_PERIOD
    if key in ROLLING:
        end = _month_start(today, -1)  # first day of next month
        last = date.fromordinal(end.toordinal() - 1)
        return Period(key, _month_start(today, ROLLING[key] - 1), last)
    match = _YEAR.match(key)
    if match and int(match.group(1)) <= today.year:
        year = int(match.group(1))
        return Period(key, date(year, 1, 1), date(year, 12, 31))
    raise InvalidInput({"period": [t("statistics_period", choices=", ".join(period_choices(today)))]})


# --- dialect helpers ----------------------------------------------------------------------------

def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


EPOCH = date(1970, 1, 1)
CHINA_OFFSET_SECONDS = 8 * 3600


def day_of(session, column):
    """The China-time day of a UTC timestamp as a day number since 1970-01-01 (see `month_of_day`).
    Plain arithmetic on the stored instant: no per-row time-zone lookup or text formatting, so a
    grouped count over hundreds of thousands of rows stays cheap."""
    if is_postgres(session):
        return func.floor((func.date_part("epoch", column) + CHINA_OFFSET_SECONDS) / literal_column("86400.0"))
    return func.floor(func.julianday(column) + literal_column("8.0 / 24") - literal_column("2440587.5"))


def month_start_of(session, column):
    """First day of the China-time month of a UTC timestamp column, as a date."""
    if is_postgres(session):
        return cast(func.date_trunc("month", func.timezone("Asia/Shanghai", column)), Date)
    return func.date(column, "+8 hours", "start of month")


def month_of_day(day_number) -> str:
    """YYYY-MM of a day number from `day_of`, or of a date."""
    day = day_number if isinstance(day_number, date) else EPOCH + timedelta(days=int(day_number))
    return f"{day.year:04d}-{day.month:02d}"


def days_between(session, start, end):
    """(end - start) in days, fractional."""
    if is_postgres(session):
        return func.date_part("epoch", end - start) / literal_column("86400.0")  # float8: extract() is numeric
    return func.julianday(end) - func.julianday(start)
