"""Template filters: Chinese date conventions, region and code labels."""
from flask import Flask

from engine.domain.cranes import CRANE_TYPES
from engine.domain.lifecycle import STATE_LABELS
from engine.domain.regions import get_region
from engine.services.audit import ACTION_LABELS
from engine.services.settings import CHINA_TZ
from forms import current_locale
from engine.domain.resident_id import mask_resident_id
from forms.messages import document_name
from forms.projects import PROJECT_STATUSES

STATUS_LABELS = {
    "running": ("办理中", "In progress"), "completed": ("已办结", "Completed"),
    "error": ("异常", "Error"), "cancelled": ("已撤销", "Cancelled"),
    "open": ("待办", "Open"), "approved": ("准予", "Approved"), "rejected": ("不予", "Rejected"),
    "draft": ("草稿", "Draft"), "pending_review": ("备案待审", "Pending review"),
    "returned": ("退回补正", "Returned for correction"), "filed": ("已备案", "Filed"),
    "in_use": ("在用", "In use"),
}
DECISION_LABELS = {"approve": ("准予备案", "Approved"), "return": ("退回补正", "Returned for correction"),
                   "reject": ("不予备案", "Rejected")}
LEVEL_LABELS = {"province": ("省级", "Province"), "city": ("市级", "City"), "county": ("县级", "County")}


def _zh() -> bool:
    return current_locale.get().startswith("zh")


def _pick(table, key) -> str:
    pair = table.get(key)
    return (pair[0] if _zh() else pair[1]) if pair else (key or "")


def local_datetime(value, with_time: bool = True) -> str:
    if value is None:
        return "—"
    local = value.astimezone(CHINA_TZ) if hasattr(value, "astimezone") and hasattr(value, "hour") else value
    if not hasattr(local, "hour"):
        return f"{local.year}年{local.month}月{local.day}日" if _zh() else local.isoformat()
    if _zh():
        text = f"{local.year}年{local.month}月{local.day}日"
        return f"{text} {local:%H:%M}" if with_time else text
    return f"{local:%Y-%m-%d %H:%M}" if with_time else f"{local:%Y-%m-%d}"


def region_name(code) -> str:
    region = get_region(code) if code else None
    if region is None:
        return code or "—"
    return region.name if _zh() else region.name_en


def region_path(code) -> str:
    """湖北省 武汉市 武昌区 — province to county, the way Chinese addresses read."""
    parts, region = [], get_region(code) if code else None
    while region is not None:
        parts.append(region.name if _zh() else region.name_en)
        region = get_region(region.parent) if region.parent else None
    return (" " if _zh() else ", ").join(reversed(parts) if _zh() else parts) or "—"


def crane_type_name(code) -> str:
    names = CRANE_TYPES.get(code)
    return (names["zh"] if _zh() else names["en"]) if names else (code or "")


def plain_number(value) -> str:
    """800.00 → 800, 812.50 → 812.5: Decimal columns shown without trailing zeros."""
    if value is None:
        return "—"
    text = f"{value:f}" if hasattr(value, "as_tuple") else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        dt=local_datetime, date=lambda v: local_datetime(v, with_time=False), region=region_name,
        number=plain_number, masked_id=mask_resident_id, region_path=region_path, crane_type=crane_type_name, doc_name=document_name,
        status=lambda v: _pick(STATUS_LABELS, v), action=lambda v: _pick(ACTION_LABELS, v),
        decision=lambda v: _pick(DECISION_LABELS, v), level=lambda v: _pick(LEVEL_LABELS, v),
        crane_state=lambda v: _pick(STATE_LABELS, v), project_status=lambda v: _pick(PROJECT_STATUSES, v),
        pick=lambda pair: (pair[0] if _zh() else pair[1]) if pair else "",
    )
