"""Age bands of the cranes on record, those past their JGJ/T 189-2009 assessment age, and whether a
valid 合格 assessment covers them (domain.md §3). One grouped query: the age limits become cut-off
factory dates computed once for today."""
from datetime import timedelta

from sqlalchemy import and_, case, func, or_, select

from engine.db import Crane, OperationRecord
from engine.domain.cranes import ASSESSMENT_AGE_YEARS, CRANE_TYPES, TOWER_MOMENT_BANDS_KNM, add_years

from .base import Chart, Column, Section

BANDS = (("age_0_5", 5), ("age_5_10", 10), ("age_10_15", 15), ("age_15_20", 20), ("age_20_plus", None))
# An assessment running out within this many days counts as expiring soon.
EXPIRING_DAYS = 90


def _over_age(today):
    """True when the crane is past its assessment age: age strictly over N years ⇔ factory date
    before today's date N years back."""
    def older_than(key):
        return Crane.manufacture_date < add_years(today, -ASSESSMENT_AGE_YEARS[key])
    low, high = TOWER_MOMENT_BANDS_KNM
    moment = func.coalesce(Crane.rated_moment_knm, 0)
    tower, hoist = Crane.crane_type == "tower_crane", Crane.crane_type == "construction_hoist"
    drive_ss = func.coalesce(Crane.hoist_drive, "SC") == "SS"
    return or_(and_(tower, moment < low, older_than("tower_crane_lt_630")),
               and_(tower, moment >= low, moment < high, older_than("tower_crane_630_1250")),
               and_(tower, moment >= high, older_than("tower_crane_ge_1250")),
               and_(hoist, drive_ss, older_than("construction_hoist_SS")),
               and_(hoist, ~drive_ss, older_than("construction_hoist_SC")))


def rows(session, scope, period, today) -> list[dict]:
    """One row per crane type: cranes on record (filed, not cancelled) by age band; past the
    assessment age; of those, covered by a valid 合格 assessment, expiring within 90 days, and due
    (no valid assessment). Grouped on (type, band, flags) in SQL; the few groups pivot here."""
    valid = (select(OperationRecord.crane_id, func.max(OperationRecord.valid_until).label("valid_until"))
             .where(OperationRecord.kind == "assessment", OperationRecord.result == "qualified",
                    OperationRecord.valid_until >= today)
             .group_by(OperationRecord.crane_id).subquery())
    cuts = [(i, add_years(today, -years)) for i, (_, years) in enumerate(BANDS) if years]
    band = case(*((Crane.manufacture_date > cut, i) for i, cut in cuts), else_=len(BANDS) - 1)
    over = case((_over_age(today), 1), else_=0)
    covered = case((valid.c.crane_id.is_not(None), 1), else_=0)
    expiring = case((valid.c.valid_until <= today + timedelta(days=EXPIRING_DAYS), 1), else_=0)
    found = session.execute(
        select(Crane.crane_type, band, over, covered, expiring, func.count())
        .outerjoin(valid, valid.c.crane_id == Crane.id)
        .where(Crane.filed_at.is_not(None), Crane.status.not_in(("cancelled", "rejected")),
               scope.where(Crane.filing_region_code))
        .group_by(Crane.crane_type, band, over, covered, expiring)).all()
    table: dict[str, dict] = {}
    for crane_type, band_index, is_over, is_covered, is_expiring, count in found:
        row = table.setdefault(crane_type, {"crane_type": crane_type, "total": 0, **{key: 0 for key, _ in BANDS},
                                            "over_age": 0, "assessed": 0, "expiring": 0, "assessment_due": 0})
        row["total"] += count
        row[BANDS[band_index][0]] += count
        if is_over:
            row["over_age"] += count
            row["assessed" if is_covered else "assessment_due"] += count
            row["expiring"] += count if is_covered and is_expiring else 0
    order = list(CRANE_TYPES)
    return sorted(table.values(), key=lambda r: order.index(r["crane_type"]) if r["crane_type"] in order else len(order))


SECTION = Section(
    name="ages",
    title=("设备年限与安全评估", "Crane ages and safety assessments"),
    note=("JGJ/T 189-2009：塔机按额定起重力矩 10/15/20 年，SC 升降机 8 年，SS 升降机 5 年（自出厂日期起，满该年限次日起超期）。",
          "JGJ/T 189-2009: tower cranes 10/15/20 years by rated moment, SC hoists 8, SS hoists 5 "
          "(from the factory date; past it from the day after the anniversary)."),
    columns=(Column("crane_type", ("设备类型", "Crane type"), "crane_type"),
             Column("total", ("在册设备", "On record")),
             Column("age_0_5", ("5年以内", "Under 5 years")),
             Column("age_5_10", ("5–10年", "5–10 years")),
             Column("age_10_15", ("10–15年", "10–15 years")),
             Column("age_15_20", ("15–20年", "15–20 years")),
             Column("age_20_plus", ("20年以上", "Over 20 years")),
             Column("over_age", ("超评估年限", "Past assessment age")),
             Column("assessed", ("评估合格且有效", "Valid assessment")),
             Column("expiring", ("评估90天内到期", "Assessment expiring in 90 days")),
             Column("assessment_due", ("应评估未评估", "Assessment due"))),
    rows=rows,
    chart=Chart("bar", "crane_type", ("age_0_5", "age_5_10", "age_10_15", "age_15_20", "age_20_plus"), stack=True),
    uses_period=False,
)
