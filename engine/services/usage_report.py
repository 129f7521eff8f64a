"""The usage report (使用情况通报): how each locality used the system in a period.

Per region reported on (the province: its cities; a city: its counties; a county: itself) and per
procedure: cases started and completed, the review lead time (median and p90, in working days), the
share of reviews handled within the legal limit (`completed_at <= due_at`), the review tasks still
open past their limit at the end of the period and the cases flagged overdue; and per region the
regulators active in the system.

Five grouped queries over the period, each on an index (process_instance twice, human_task twice,
audit_event once); lead times are grouped by working days in the database, against a VALUES table of
each day's working-day count. The groups are then rolled up per reported region in Python.
No workflow state is read and nothing is queried per case or per region.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, case, column, exists, func, or_, select, values
from sqlalchemy.orm import Session

from engine.db import AuditEvent, HumanTask, ProcessInstance, User, utcnow
from engine.domain.regions import Region, children, housing_authority
from workflows.catalog import load_catalog

from .access import jurisdiction_codes
from .statistics.period import EPOCH, day_of
from .statistics.scope import child_region_by_code, resolve_scope
from .settings import CHINA_TZ, get_settings

# Regions whose within-limit share is lowest, named in the report's ranking.
RANKED = 3
_QUARTERS = ("一", "二", "三", "四")


@dataclass(frozen=True)
class Period:
    """Calendar days `start`..`end` (both included, China Standard Time)."""

    start: date
    end: date
    kind: str = "custom"  # month | quarter | year | custom

    @classmethod
    def between(cls, start: date, end: date) -> "Period":
        return cls(start, end, "custom")

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1), "month")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        first_month = 3 * (quarter - 1) + 1
        return cls(date(year, first_month, 1), cls.month(year, first_month + 2).end, "quarter")

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: midnight China time of the first day and of the day after."""
        return (datetime.combine(self.start, time(), tzinfo=CHINA_TZ),
                datetime.combine(self.end + timedelta(days=1), time(), tzinfo=CHINA_TZ))

    def label(self, locale: str = "zh_CN") -> str:
        """2026年10月 · 2026年第三季度 · 2026年度 · 2026年10月1日至2026年11月15日 (or the English)."""
        zh = locale.startswith("zh")
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月" if zh else self.start.strftime("%B %Y")
        if self.kind == "quarter":
            number = (self.start.month - 1) // 3 + 1
            return f"{self.start.year}年第{_QUARTERS[number - 1]}季度" if zh else f"Q{number} {self.start.year}"
        if self.kind == "year":
            return f"{self.start.year}年度" if zh else str(self.start.year)
        if zh:
            return (f"{self.start.year}年{self.start.month}月{self.start.day}日至"
                    f"{self.end.year}年{self.end.month}月{self.end.day}日")
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def query(self) -> dict:
        """The query-string arguments that ask for this period again."""
        if self.kind == "month":
            return {"month": f"{self.start.year}-{self.start.month:02d}"}
        if self.kind == "quarter":
            return {"quarter": f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"}
        if self.kind == "year":
            return {"year": self.start.year}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def last_full_month(today: date) -> Period:
    first = today.replace(day=1) - timedelta(days=1)
    return Period.month(first.year, first.month)


def _value_at(items: list[tuple[int, int]], rank: int) -> int:
    """The value at a 0-based rank of a sorted histogram [(value, count), …]."""
    seen = 0
    for value, count in items:
        seen += count
        if rank < seen:
            return value
    return items[-1][0]


def _quantile(lead_days: Counter, q: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont), over a histogram."""
    total = sum(lead_days.values())
    if not total:
        return None
    items = sorted(lead_days.items())
    position = (total - 1) * q
    low_rank = int(position)
    low, high = _value_at(items, low_rank), _value_at(items, min(low_rank + 1, total - 1))
    return round(low + (high - low) * (position - low_rank), 1)


@dataclass
class Figures:
    """One region's (or one procedure's) figures for the period."""

    started: int = 0
    completed: int = 0
    reviews: int = 0  # regulator review tasks completed in the period
    with_limit: int = 0  # of which have a legal time limit
    within_limit: int = 0  # of which were completed by it
    lead_days: Counter = field(default_factory=Counter)  # working days → reviews
    overdue_tasks: int = 0  # review tasks open past their limit at the end of the period
    overdue_cases: int = 0  # cases flagged overdue and not completed at the end of the period

    def add(self, other: "Figures") -> None:
        for name in ("started", "completed", "reviews", "with_limit", "within_limit", "overdue_tasks",
                     "overdue_cases"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lead_days.update(other.lead_days)

    @property
    def median_days(self) -> float | None:
        return _quantile(self.lead_days, 0.5)

    @property
    def p90_days(self) -> float | None:
        return _quantile(self.lead_days, 0.9)

    @property
    def within_share(self) -> float | None:
        """Share (0–1) of the reviews with a limit handled within it; None without any."""
        return self.within_limit / self.with_limit if self.with_limit else None

    def as_json(self) -> dict:
        share = self.within_share
        return {"started": self.started, "completed": self.completed, "reviews": self.reviews,
                "reviews_with_limit": self.with_limit, "within_limit": self.within_limit,
                "within_limit_share": None if share is None else round(share, 4),
                "lead_time_median_workdays": self.median_days, "lead_time_p90_workdays": self.p90_days,
                "overdue_tasks": self.overdue_tasks, "overdue_cases": self.overdue_cases}


@dataclass
class RegionRow:
    region: Region
    own: bool = False  # the reporting region's own office (省本级 / 市本级), not a subdivision
    total: Figures = field(default_factory=Figures)
    procedures: dict[str, Figures] = field(default_factory=dict)
    active_regulators: int = 0
    lowest: bool = False  # among the lowest within-limit shares of the report

    @property
    def code(self) -> str:
        return self.region.code

    def name(self, locale: str = "zh_CN") -> str:
        base = self.region.name if locale.startswith("zh") else self.region.name_en
        if self.own:
            return ("省本级" if self.region.level == "province" else "本级" if self.region.level == "county"
                    else "市本级") if locale.startswith("zh") else f"{base} (own office)"
        return base

    @property
    def drillable(self) -> bool:
        return not self.own and bool(children(self.region.code))

    def figures(self, key: str) -> Figures:
        return self.procedures.setdefault(key, Figures())

    @property
    def has_data(self) -> bool:
        f = self.total
        return bool(f.started or f.completed or f.reviews or f.overdue_tasks or f.overdue_cases
                    or self.active_regulators)


@dataclass
class UsageReport:
    region: Region
    period: Period
    rows: list[RegionRow]
    total: RegionRow
    procedures: list[str]  # process keys, in catalog order
    ranking: list[RegionRow]  # the lowest within-limit shares, lowest first
    generated_at: datetime

    @property
    def cases_online(self) -> int:
        """Cases handled online to completion in the period."""
        return self.total.total.completed

    def procedure_name(self, key: str, locale: str = "zh_CN") -> str:
        return _procedure_name(key, locale)

    def issuer(self, locale: str = "zh_CN") -> str:
        return housing_authority(self.region.code, locale)

    def title(self, locale: str = "zh_CN") -> str:
        if locale.startswith("zh"):
            return f"{self.region.name}建筑起重机械监管系统使用情况通报（{self.period.label(locale)}）"
        return f"Crane regulation system usage report, {self.region.name_en} ({self.period.label(locale)})"


def report_region(actor, region_code: str | None) -> Region:
    """The region a regulator may report on: its own by default, or one within its jurisdiction."""
    return resolve_scope(actor, region_code, refused="usage_report_regulators_only").region


def _rows_of(region: Region) -> tuple[dict[str, RegionRow], dict[str, str]]:
    """The report's rows (code → row) and, for every code within the region, the row it counts in."""
    rows = {region.code: RegionRow(region, own=region.level != "county")}
    for child in children(region.code):
        rows[child.code] = RegionRow(child)
    return rows, child_region_by_code(region.code)


def _workday_ordinals(calendar, first: date, last: date) -> dict[date, int]:
    """Each day's count of working days since `first`: working days between two of them are the
    difference (one pass over the calendar instead of one per pair of days)."""
    ordinals, count = {}, 0
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        count += offset > 0 and calendar.is_workday(day)
        ordinals[day] = count
    return ordinals


def _inside(region: Region):
    """The condition on a region-code column: within a city or county, or (the province) any region at
    all, which lets the indexes be read by time alone instead of probed once per code."""
    if region.level == "province":
        return lambda column: column.is_not(None)
    codes = jurisdiction_codes(region.code)
    return lambda column: column.in_(codes)


def _cases_started(session: Session, inside, keys, start: datetime, end: datetime):
    """(region, process, cases started) — on the (process_key, started_at) index."""
    pi = ProcessInstance
    return session.execute(
        select(pi.region_code, pi.process_key, func.count())
        .where(pi.process_key.in_(keys), pi.started_at >= start, pi.started_at < end, inside(pi.region_code))
        .group_by(pi.region_code, pi.process_key)).all()


def _cases_closed_or_flagged(session: Session, inside, start: datetime, end: datetime):
    """(region, process, completed in the period, flagged overdue and not completed at its end) — on the
    partial indexes of completed cases by completion time and of flagged cases."""
    pi = ProcessInstance
    completed = and_(pi.status == "completed", pi.completed_at >= start, pi.completed_at < end)
    flagged = and_(pi.overdue_since.is_not(None), pi.overdue_since < end,
                   or_(pi.completed_at.is_(None), pi.completed_at >= end))
    return session.execute(
        select(pi.region_code, pi.process_key, func.sum(case((completed, 1), else_=0)),
               func.sum(case((flagged, 1), else_=0)))
        .where(or_(completed, flagged), inside(pi.region_code))
        .group_by(pi.region_code, pi.process_key)).all()


def _review_groups(session: Session, inside, start: datetime, end: datetime, calendar):
    """Regulator reviews completed in the period, per region, procedure and lead time in working days:
    (region, process, working days, reviews, with a limit, within it).

    The working-day count of each day (from the earliest review's creation to the period's end) goes
    to the database as a small VALUES table joined on the created and the completed day, so the grouping
    by lead time happens there: a few hundred rows come back for a province's year, not one per review."""
    ht = HumanTask
    where = (ht.status == "completed", ht.completed_at >= start, ht.completed_at < end, ht.role == "regulator",
             inside(ht.region_code))
    earliest = session.scalar(select(func.min(ht.created_at)).where(*where))
    if earliest is None:
        return []
    last = (end - timedelta(microseconds=1)).astimezone(CHINA_TZ).date()
    ordinals = _workday_ordinals(calendar, earliest.astimezone(CHINA_TZ).date(), last)
    days = [((day - EPOCH).days, n) for day, n in ordinals.items()]  # keyed like day_of: no per-row time zone
    created = values(column("day", Integer), column("n", Integer), name="created_workday").data(days).cte()
    completed = values(column("day", Integer), column("n", Integer), name="completed_workday").data(days).cte()
    lead = (completed.c.n - created.c.n).label("workdays")
    return session.execute(
        select(ht.region_code, ht.process_key, lead, func.count(), func.count(ht.due_at),
               func.sum(case((ht.completed_at <= ht.due_at, 1), else_=0)))
        .join_from(ht, created, created.c.day == day_of(session, ht.created_at))
        .join(completed, completed.c.day == day_of(session, ht.completed_at))
        .where(*where).group_by(ht.region_code, ht.process_key, lead)).all()


def _overdue_tasks(session: Session, inside, end: datetime):
    """Regulator tasks open at the end of the period and past their limit, per region and procedure:
    those still open (the inbox's (status, due_at) index) and those completed since (the completed
    reviews' index). A task cancelled since (its case withdrawn) is not counted."""
    ht = HumanTask
    still_open = and_(ht.status == "open", ht.due_at < end)
    done_since = and_(ht.status == "completed", ht.role == "regulator", ht.completed_at >= end)
    return session.execute(
        select(ht.region_code, ht.process_key, func.count())
        .where(or_(still_open, done_since), ht.due_at < end, ht.created_at < end, ht.role == "regulator",
               inside(ht.region_code))
        .group_by(ht.region_code, ht.process_key)).all()


def _active_regulators(session: Session, inside, start: datetime, end: datetime):
    """Regulators who acted (completed a task, started a case, decided …) in the period, per their region.
    One probe of the (actor_id, at) index per regulator account, not a scan of the period's events."""
    acted = exists().where(AuditEvent.actor_id == User.id, AuditEvent.at >= start, AuditEvent.at < end)
    return session.execute(
        select(User.region_code, func.count())
        .where(User.kind == "regulator", inside(User.region_code), acted)
        .group_by(User.region_code)).all()


def build_report(session: Session, actor, *, period: Period, region_code: str | None = None,
                 calendar=None, now: datetime | None = None) -> UsageReport:
    """The usage report of `region_code` (the actor's region by default) for the period."""
    region = report_region(actor, region_code)
    calendar = calendar or get_settings().calendar
    start, end = period.bounds
    inside = _inside(region)
    rows, row_of = _rows_of(region)

    catalog = list(load_catalog())
    for code, key, started in _cases_started(session, inside, catalog, start, end):
        rows[row_of[code]].figures(key).started += started
    for code, key, completed, flagged in _cases_closed_or_flagged(session, inside, start, end):
        f = rows[row_of[code]].figures(key)
        f.completed += completed or 0
        f.overdue_cases += flagged or 0
    for code, key, workdays, n, with_limit, within in _review_groups(session, inside, start, end, calendar):
        f = rows[row_of[code]].figures(key)
        f.reviews += n
        f.with_limit += with_limit or 0
        f.within_limit += within or 0
        f.lead_days[max(0, int(workdays))] += n
    for code, key, n in _overdue_tasks(session, inside, end):
        rows[row_of[code]].figures(key).overdue_tasks += n
    for code, n in _active_regulators(session, inside, start, end):
        rows[row_of[code]].active_regulators += n

    procedures = catalog + sorted({k for row in rows.values() for k in row.procedures} - set(catalog))
    total = RegionRow(region)
    for row in rows.values():
        for key, f in row.procedures.items():
            row.total.add(f)
            total.figures(key).add(f)
        total.total.add(row.total)
        total.active_regulators += row.active_regulators
    for key in procedures:
        total.figures(key)
    shown = [row for row in rows.values() if not row.own or row.has_data or region.level == "county"]
    shown.sort(key=lambda r: (not r.own, r.code))
    ranking = _ranking(shown)
    return UsageReport(region=region, period=period, rows=shown, total=total, procedures=procedures,
                       ranking=ranking, generated_at=now or utcnow())


def _ranking(rows: list[RegionRow]) -> list[RegionRow]:
    """The regions with the lowest within-limit share (only when there are several to compare)."""
    rated = [row for row in rows if row.total.within_share is not None]
    if len(rated) < 2:
        return []
    rated.sort(key=lambda r: (r.total.within_share, -r.total.with_limit, r.code))
    best = rated[-1].total.within_share
    lowest = [row for row in rated[:RANKED] if row.total.within_share < best]
    for row in lowest:
        row.lowest = True
    return lowest


def report_json(report: UsageReport, locale: str = "zh_CN") -> dict:
    def row_json(row: RegionRow) -> dict:
        return {"region_code": row.code, "region_name": row.name(locale), "own_office": row.own,
                "active_regulators": row.active_regulators, "cases_online": row.total.completed,
                "lowest_within_limit": row.lowest, **row.total.as_json(),
                "procedures": {key: row.procedures[key].as_json() for key in report.procedures
                               if key in row.procedures}}

    return {"title": report.title(locale), "issuer": report.issuer(locale),
            "region": {"code": report.region.code, "name": report.region.name, "level": report.region.level},
            "period": {"from": report.period.start.isoformat(), "to": report.period.end.isoformat(),
                       "kind": report.period.kind, "label": report.period.label(locale)},
            "rows": [row_json(row) for row in report.rows],
            "total": row_json(report.total) | {"region_name": "合计" if locale.startswith("zh") else "Total"},
            "procedure_names": {key: _procedure_name(key, locale) for key in report.procedures},
            "ranking": [{"region_code": row.code, "region_name": row.name(locale),
                         "within_limit_share": round(row.total.within_share, 4)} for row in report.ranking],
            "generated_at": report.generated_at.isoformat()}


def _procedure_name(key: str, locale: str) -> str:
    entry = load_catalog().get(key)
    return entry.name(locale) if entry else key
