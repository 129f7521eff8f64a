"""Regulators' review time against the legal limits, per region: completed review tasks, the
share completed by their due time (due_at already encodes the 7 / 2 working-day limit), and the
median and mean lead time in calendar days.

One grouped query over the review-time rollup (rollup.py: per region, month and lead time in tenths
of a day, the count, the on-time count and the summed lead time), never over the tasks themselves.
The totals and the mean add up from those groups; the median is read off the same histogram (to a
tenth of a day), so no row is sorted and PostgreSQL and SQLite give the same answer."""
from sqlalchemy import func, select

from engine.db import ReviewLeadRollup

from .base import Chart, Column, Section, one_decimal, rate
from .rollup import TENTHS


def _median(histogram: dict[int, int], count: int) -> float | None:
    """Lower bound (days) of the bucket holding the middle review."""
    if not count:
        return None
    seen, middle = 0, (count + 1) // 2
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= middle:
            return bucket / TENTHS
    return None


class _Figures:
    def __init__(self):
        self.count, self.on_time, self.lead, self.histogram = 0, 0, 0.0, {}

    def add(self, bucket, count, on_time, lead):
        self.count += count
        self.on_time += int(on_time or 0)
        self.lead += float(lead or 0)
        self.histogram[bucket] = self.histogram.get(bucket, 0) + count

    def row(self, region_code, total=False) -> dict:
        row = {"region_code": region_code, "reviews": self.count, "on_time": self.on_time,
               "on_time_rate": rate(self.on_time, self.count), "median_days": _median(self.histogram, self.count),
               "mean_days": one_decimal(self.lead / self.count) if self.count else None}
        return row | {"is_total": True} if total else row


def rows(session, scope, period, today) -> list[dict]:
    """One row per child region with reviews in the period (none for a county), then the region's total."""
    r = ReviewLeadRollup
    group = r.city_code if scope.level == "province" else r.region_code
    found = session.execute(
        select(group, r.lead_tenths, func.sum(r.reviews), func.sum(r.on_time), func.sum(r.lead_days))
        .where(r.month >= period.start, r.month <= period.end, scope.level_where(r))
        .group_by(group, r.lead_tenths)).all()
    children: dict[str, _Figures] = {}
    total = _Figures()
    for code, tenth, count, ok, summed in found:
        tenth, count = int(tenth), int(count)
        total.add(tenth, count, ok, summed)
        child = scope.child_of(code)
        if scope.level != "county" and child:
            children.setdefault(child, _Figures()).add(tenth, count, ok, summed)
    out = [children[code].row(code) for code in sorted(children)]
    out.append(total.row(scope.region.code, total=True))
    return out


SECTION = Section(
    name="processing",
    title=("审核办理时限", "Review time against the legal limits"),
    note=("统计期内办结的主管部门审核任务；按期办结指在法定时限（备案、登记 7 个工作日，告知 2 个工作日）内办结；"
          "用时为自然日，中位数精确到 0.1 天。",
          "Regulator review tasks completed in the period; on time = within the legal limit (filing and "
          "registration 7 working days, notices 2); lead times in calendar days, the median to a tenth of a day."),
    columns=(Column("region_code", ("地区", "Region"), "region"),
             Column("reviews", ("办结审核", "Reviews completed")),
             Column("on_time", ("按期办结", "On time")),
             Column("on_time_rate", ("按期率 %", "On time %"), "pct"),
             Column("median_days", ("用时中位数（天）", "Median days"), "days"),
             Column("mean_days", ("平均用时（天）", "Mean days"), "days")),
    rows=rows,
    chart=Chart("bar", "region_code", ("on_time_rate", "median_days")),
)
