"""Template filters: Chinese date conventions, region and code labels."""
from flask import Flask
from markupsafe import Markup, escape

from engine.domain.cranes import CRANE_TYPES
from engine.domain.lifecycle import STATE_LABELS
from engine.domain.regions import get_region
from engine.services.audit import ACTION_LABELS
from engine.services.settings import CHINA_TZ
from forms import current_locale
from engine.domain.resident_id import mask_resident_id
from forms.messages import document_name
from forms.projects import PROJECT_STATUSES
from workflows.catalog import get_entry

STATUS_LABELS = {
    "running": ("办理中", "In progress"), "completed": ("已办结", "Completed"),
    "error": ("异常", "Error"), "cancelled": ("已撤销", "Cancelled"),
    "open": ("待办", "Open"), "approved": ("准予", "Approved"), "rejected": ("不予", "Rejected"),
    "draft": ("草稿", "Draft"), "pending_review": ("备案待审", "Pending review"),
    "returned": ("退回补正", "Returned for correction"), "filed": ("已备案", "Filed"),
    "in_use": ("在用", "In use"), "accepted": ("验收合格", "Accepted"),
}
DECISION_LABELS = {"approve": ("准予", "Approved"), "return": ("退回补正", "Returned for correction"),
                   "reject": ("不予", "Rejected"), "pass": ("通过", "Passed"), "fail": ("不通过", "Failed"),
                   "confirm": ("记入不良行为记录", "Recorded as bad conduct"), "dismiss": ("不予记录", "Not recorded")}
# What "approve" and "reject" mean in each procedure's own words.
PROCEDURE_DECISIONS = {
    "crane_registration": {"approve": ("准予备案", "Filing approved"), "reject": ("不予备案", "Filing refused")},
    "enterprise_filing": {"approve": ("审核通过", "Filing approved"), "reject": ("不予通过", "Filing refused")},
    "use_registration": {"approve": ("准予登记", "Registered"), "reject": ("不予登记", "Registration refused")},
    "record_cancellation": {"approve": ("准予注销", "Cancellation approved"), "reject": ("不予注销", "Cancellation refused")},
    **{key: {"approve": ("同意（已告知）", "Acknowledged")}
       for key in ("installation_notice", "dismantling_notice", "jacking_notice")},
}


def decision_label(decision, process_key=None) -> str:
    return _pick({**DECISION_LABELS, **PROCEDURE_DECISIONS.get(process_key, {})}, decision)
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


def case_title(title, process_key) -> str:
    """A case's title in the current language. The stored title is the Chinese record (searched,
    archived, with the crane or project it concerns), so other languages show the procedure's name."""
    entry = get_entry(process_key) if process_key else None
    if _zh() or entry is None or not entry.names.get(current_locale.get()):
        return title or ""
    return entry.name(current_locale.get())


def case_title_html(title, process_key) -> Markup:
    """case_title, followed by the Chinese record where it names more than the procedure: the
    procedure's name alone does not tell one case of a list from another."""
    shown = case_title(title, process_key)
    if shown == (title or "") or title == get_entry(process_key).name("zh_CN"):
        return escape(shown)
    return Markup('{} <span class="muted" lang="zh-CN">{}</span>').format(shown, title)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        dt=local_datetime, date=lambda v: local_datetime(v, with_time=False), region=region_name,
        number=plain_number, masked_id=mask_resident_id, region_path=region_path, crane_type=crane_type_name, doc_name=document_name,
        status=lambda v: _pick(STATUS_LABELS, v), action=lambda v: _pick(ACTION_LABELS, v),
        decision=decision_label, level=lambda v: _pick(LEVEL_LABELS, v),
        crane_state=lambda v: _pick(STATE_LABELS, v), project_status=lambda v: _pick(PROJECT_STATUSES, v),
        pick=lambda pair: (pair[0] if _zh() else pair[1]) if pair else "",
        case_title=case_title, case_title_html=case_title_html,
    )
