"""Safety supervision per month: spot checks and the notices they issued, hazards by grade, notices
closed and their mean time to close, re-inspections and their pass rate (domain.md §4, §8.4).
Four grouped queries per day on indexed dates; the re-inspection results come from the audit trail."""
from sqlalchemy import case, func, select

from engine.db import AuditEvent, Hazard, Inspection

from .base import Chart, Column, Section, one_decimal, rate
from .period import day_of, days_between, month_of_day

INSTRUMENT_COLUMNS = {"rectification": "rectification_notices", "stop_work": "stop_work_notices",
                      "stop_use": "stop_use_orders"}
COUNTS = ("inspections", *INSTRUMENT_COLUMNS.values(), "hazards_general", "hazards_major", "closed",
          "reinspections", "reinspections_passed")


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def rows(session, scope, period, today) -> list[dict]:
    """One row per month of the period, then the period's total. Spot checks and hazards count in
    the month of the check date; closings in the month closed (mean days from recording the check);
    re-inspections in the month recorded (passed = every open hazard closed)."""
    first, last = period.start, period.end
    table = {m: {"month": m, **{key: 0 for key in COUNTS}, "_close_days": 0.0} for m in period.months}

    # Grouped by day (a date, or a day number of a timestamp); the days add up to months here.
    for day, n, *by_instrument in session.execute(
            select(Inspection.check_date, func.count(), *(_count(Inspection.instrument == i) for i in INSTRUMENT_COLUMNS))
            .where(Inspection.check_date >= first, Inspection.check_date <= last, scope.where(Inspection.region_code))
            .group_by(Inspection.check_date)):
        row = table.get(month_of_day(day))
        if row:
            row["inspections"] += n
            for key, value in zip(INSTRUMENT_COLUMNS.values(), by_instrument):
                row[key] += int(value)

    for day, general, major in session.execute(
            select(Inspection.check_date, _count(Hazard.grade == "general"), _count(Hazard.grade == "major"))
            .join(Inspection, Inspection.id == Hazard.inspection_id)
            .where(Inspection.check_date >= first, Inspection.check_date <= last, scope.where(Inspection.region_code))
            .group_by(Inspection.check_date)):
        row = table.get(month_of_day(day))
        if row:
            row["hazards_general"] += int(general)
            row["hazards_major"] += int(major)

    closed_day = day_of(session, Inspection.closed_at)
    for day, n, days in session.execute(
            select(closed_day, func.count(), func.sum(days_between(session, Inspection.created_at, Inspection.closed_at)))
            .where(Inspection.closed_at >= period.since, Inspection.closed_at < period.until,
                   scope.where(Inspection.region_code))
            .group_by(closed_day)):
        row = table.get(month_of_day(day))
        if row:
            row["closed"] += n
            row["_close_days"] += float(days or 0)

    event_day = day_of(session, AuditEvent.at)
    for day, n, passed in session.execute(
            select(event_day, func.count(), _count(AuditEvent.to_state == "closed"))
            .join(Inspection, Inspection.instance_id == AuditEvent.instance_id)
            .where(AuditEvent.action == "reinspected", AuditEvent.at >= period.since, AuditEvent.at < period.until,
                   scope.where(Inspection.region_code))
            .group_by(event_day)):
        row = table.get(month_of_day(day))
        if row:
            row["reinspections"] += n
            row["reinspections_passed"] += int(passed)

    out = list(table.values())
    total = {"month": None, "is_total": True, **{key: sum(r[key] for r in out) for key in COUNTS},
             "_close_days": sum(r["_close_days"] for r in out)}
    for row in (*out, total):
        row["mean_days_to_close"] = one_decimal(row.pop("_close_days") / row["closed"]) if row["closed"] else None
        row["pass_rate"] = rate(row["reinspections_passed"], row["reinspections"])
    return [*out, total]


SECTION = Section(
    name="supervision",
    title=("监督检查与隐患整改", "Supervision and rectification"),
    note=("检查、文书和隐患按检查日期计；办结按关闭日期计，平均用时自登记检查起算；复查合格指该次复查全部隐患销项。",
          "Checks, notices and hazards by check date; closings by the date closed, mean time from recording "
          "the check; a re-inspection passes when every open hazard is closed."),
    columns=(Column("month", ("月份", "Month"), "month"),
             Column("inspections", ("监督检查", "Spot checks")),
             Column("rectification_notices", ("整改通知书", "Rectification notices")),
             Column("stop_work_notices", ("停工整改通知书", "Stop-work notices")),
             Column("stop_use_orders", ("停止使用", "Stop-use orders")),
             Column("hazards_general", ("一般隐患", "General hazards")),
             Column("hazards_major", ("重大隐患", "Major hazards")),
             Column("closed", ("办结文书", "Notices closed")),
             Column("mean_days_to_close", ("平均办结用时（天）", "Mean days to close"), "days"),
             Column("reinspections", ("复查次数", "Re-inspections")),
             Column("reinspections_passed", ("复查合格", "Passed")),
             Column("pass_rate", ("复查合格率 %", "Pass rate %"), "pct")),
    rows=rows,
    chart=Chart("bar", "month", ("inspections", "hazards_general", "hazards_major", "stop_work_notices")),
)
