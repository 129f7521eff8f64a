"""Filed cranes by type × region × lifecycle state, as of now (one grouped query on the crane table)."""
from sqlalchemy import func, select

from engine.db import Crane
from engine.domain import lifecycle as lc
from engine.domain.cranes import CRANE_TYPES

from .base import Chart, Column, Section

STATE_GROUPS = {
    "in_use": (lc.IN_USE,),
    "installing": (lc.INSTALL_NOTIFIED, lc.SELF_INSPECTED, lc.INSPECTED, lc.ACCEPTED, lc.REGISTRATION_PENDING,
                   lc.DISMANTLE_NOTIFIED),
    "idle": (lc.FILED,),
    "cancelled": (lc.CANCELLED,),
}
GROUP_OF = {state: group for group, states in STATE_GROUPS.items() for state in states}


def rows(session, scope, period, today) -> list[dict]:
    """One row per child region and crane type: cranes with a record number (filed at some point)
    by the state group they are in now; those in none of the groups (a record under correction)
    count as `other`. Regions follow the filing authority (the owner's region)."""
    found = session.execute(
        select(Crane.filing_region_code, Crane.crane_type, Crane.status, func.count())
        .where(Crane.filed_at.is_not(None), scope.where(Crane.filing_region_code))
        .group_by(Crane.filing_region_code, Crane.crane_type, Crane.status)).all()
    table: dict[tuple[str, str], dict] = {}
    for region_code, crane_type, status, count in found:
        child = scope.child_of(region_code)
        if child is None:
            continue
        row = table.setdefault((child, crane_type), {
            "region_code": child, "crane_type": crane_type, **{g: 0 for g in STATE_GROUPS}, "other": 0, "total": 0})
        row[GROUP_OF.get(status, "other")] += count
        row["total"] += count
    order = list(CRANE_TYPES)
    return sorted(table.values(), key=lambda r: (r["region_code"], order.index(r["crane_type"])
                                                 if r["crane_type"] in order else len(order)))


SECTION = Section(
    name="cranes",
    title=("备案设备分布", "Filed cranes"),
    note=("按备案机关所在地区统计已取得备案编号的设备，状态为当前状态。",
          "Cranes holding a record number, by the filing authority's region and their current state."),
    columns=(Column("region_code", ("地区", "Region"), "region"),
             Column("crane_type", ("设备类型", "Crane type"), "crane_type"),
             Column("in_use", ("在用", "In use")),
             Column("installing", ("安装/验收/拆卸中", "Installing / dismantling")),
             Column("idle", ("闲置", "Idle")),
             Column("cancelled", ("已注销", "Cancelled")),
             Column("other", ("其他", "Other")),
             Column("total", ("合计", "Total"))),
    rows=rows,
    chart=Chart("bar", "region_code", ("in_use", "installing", "idle", "cancelled"), stack=True),
    uses_period=False,
)
