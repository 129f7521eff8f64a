"""Notices past their rectification deadline and still open, with the days overdue (domain.md §4.7)."""
from sqlalchemy import func, select

from engine.db import Hazard, Inspection, Project

from .base import Chart, Column, Section

LIMIT = 200
BUCKETS = ((7, "1–7"), (30, "8–30"), (90, "31–90"), (None, ">90"))


def rows(session, scope, period, today) -> list[dict]:
    """The open notices whose deadline has passed, longest overdue first (at most 200), each with
    its project, open hazards and days overdue; the deadline is the last one set (a re-issue moves it)."""
    open_hazards = (select(Hazard.inspection_id, func.count().label("n")).where(Hazard.status == "open")
                    .group_by(Hazard.inspection_id).subquery())
    found = session.execute(
        select(Inspection.notice_number, Inspection.region_code, Project.name, Inspection.instrument,
               Inspection.check_date, Inspection.deadline_on, func.coalesce(open_hazards.c.n, 0),
               Inspection.instance_id)
        .join(Project, Project.id == Inspection.project_id)
        .outerjoin(open_hazards, open_hazards.c.inspection_id == Inspection.id)
        .where(Inspection.status == "open", Inspection.deadline_on < today, scope.where(Inspection.region_code))
        .order_by(Inspection.deadline_on, Inspection.id).limit(LIMIT)).all()
    return [{"notice_number": number, "region_code": region, "project": project, "instrument": instrument,
             "check_date": checked, "deadline_on": deadline, "open_hazards": int(hazards),
             "days_overdue": (today - deadline).days, "case_id": case_id}
            for number, region, project, instrument, checked, deadline, hazards, case_id in found]


def overdue_bucket(days: int) -> str:
    return next(label for limit, label in BUCKETS if limit is None or days <= limit)


SECTION = Section(
    name="overdue",
    title=("逾期未整改", "Overdue rectifications"),
    note=("整改期限已过仍未办结的文书（最多列出 200 件，逾期最久的在前）；逾期天数按自然日计至今日。",
          "Notices still open past their deadline (at most 200, longest overdue first); days overdue in "
          "calendar days to today."),
    columns=(Column("notice_number", ("文书编号", "Notice number"), "text"),
             Column("region_code", ("地区", "Region"), "region"),
             Column("project", ("工程项目", "Project"), "text"),
             Column("instrument", ("文书类型", "Instrument"), "instrument"),
             Column("check_date", ("检查日期", "Checked on"), "date"),
             Column("deadline_on", ("整改期限", "Deadline"), "date"),
             Column("open_hazards", ("未销项隐患", "Open hazards")),
             Column("days_overdue", ("逾期天数", "Days overdue"))),
    rows=rows,
    chart=Chart("bar", "overdue_bucket", ("notices",)),
    uses_period=False,
)
