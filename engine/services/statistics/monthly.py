"""Applications lodged per month: filings, installation notices, use registrations, dismantling
notices and cancellations (one grouped query per day over an index on process key and start time;
the days add up to months here)."""
from sqlalchemy import func, select

from engine.db import ProcessInstance

from .base import Chart, Column, Section
from .period import day_of, month_of_day

PROCEDURES = {"crane_registration": "filings", "installation_notice": "installation_notices",
              "use_registration": "use_registrations", "dismantling_notice": "dismantling_notices",
              "record_cancellation": "cancellations"}


def rows(session, scope, period, today) -> list[dict]:
    """One row per month of the period (empty months included): cases started that month in the
    region, per procedure, whatever their outcome."""
    day = day_of(session, ProcessInstance.started_at)
    found = session.execute(
        select(ProcessInstance.process_key, day, func.count())
        .where(ProcessInstance.process_key.in_(PROCEDURES), ProcessInstance.started_at >= period.since,
               ProcessInstance.started_at < period.until, ProcessInstance.region_code.is_not(None),
               scope.where(ProcessInstance.region_code))
        .group_by(ProcessInstance.process_key, day)).all()
    table = {m: {"month": m, **{key: 0 for key in PROCEDURES.values()}} for m in period.months}
    for process_key, day_number, count in found:  # at most a few hundred days × five procedures
        m = month_of_day(day_number)
        if m in table:
            table[m][PROCEDURES[process_key]] += count
    out = list(table.values())
    out.append({"month": None, "is_total": True,
                **{key: sum(r[key] for r in out) for key in PROCEDURES.values()}})
    return out


SECTION = Section(
    name="monthly",
    title=("月度业务量", "Monthly applications"),
    note=("按申请（告知）提交月份统计，含尚在办理和已退回的业务。",
          "By the month the application or notice was lodged, including cases still open or returned."),
    columns=(Column("month", ("月份", "Month"), "month"),
             Column("filings", ("产权备案", "Record filings")),
             Column("installation_notices", ("安装告知", "Installation notices")),
             Column("use_registrations", ("使用登记", "Use registrations")),
             Column("dismantling_notices", ("拆卸告知", "Dismantling notices")),
             Column("cancellations", ("备案注销", "Cancellations"))),
    rows=rows,
    chart=Chart("line", "month", ("filings", "installation_notices", "use_registrations", "dismantling_notices",
                                  "cancellations")),
)
