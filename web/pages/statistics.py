"""Regulator statistics dashboard (domain.md §8): one card per section with its chart and table,
drill-down from the province to a city and a county, and each section as CSV or XLSX."""
from urllib.parse import quote

from flask import Response, g, render_template, request, url_for
from marshmallow import ValidationError

from engine.domain.regions import get_region, is_within
from engine.errors import InvalidInput
from engine.services import statistics
from engine.services.statistics import present
from forms.fields import today_in_china
from forms.statistics import StatisticsQuery

from ..extensions import db
from ..security import kinds_allowed
from . import bp

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def statistics_query() -> dict:
    try:
        return StatisticsQuery().load({k: v for k, v in request.args.items() if k != "lang"})
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def _breadcrumb(region) -> list:
    """The region's ancestors within the viewer's jurisdiction, then the region itself."""
    chain, current = [], region
    while current is not None:
        chain.append(current)
        current = get_region(current.parent) if current.parent else None
    return [r for r in reversed(chain) if is_within(r.code, g.user.region_code)]


@bp.get("/statistics")
@kinds_allowed("regulator")
def statistics_dashboard():
    query = statistics_query()
    today = today_in_china()
    reports = [statistics.compute(db.session, g.user, name, today=today, **query) for name in statistics.SECTIONS]
    scope, period = reports[0].scope, reports[0].period
    cards = [{"report": r, "header": present.header(r.section), "table": present.table(r.section, r.rows),
              "chart": present.chart(r.section, r.rows)} for r in reports]
    return render_template("statistics/dashboard.html", cards=cards, scope=scope, period=period,
                           breadcrumb=_breadcrumb(scope.region), periods=statistics.period_choices(today),
                           children=scope.children, drill=url_for_region)


def url_for_region(code: str, **extra) -> str:
    """The dashboard for another region, keeping the period."""
    args = {"region": code, "period": request.args.get("period")} | extra
    return url_for("pages.statistics_dashboard", **{k: v for k, v in args.items() if v})


@bp.get("/statistics/<section>.csv")
@kinds_allowed("regulator")
def statistics_csv(section: str):
    return _export(section, "csv")


@bp.get("/statistics/<section>.xlsx")
@kinds_allowed("regulator")
def statistics_xlsx(section: str):
    return _export(section, "xlsx")


def _export(section: str, fmt: str) -> Response:
    report = statistics.compute(db.session, g.user, section, **statistics_query())
    body = (present.csv_bytes if fmt == "csv" else present.xlsx_bytes)(report.section, report.rows)
    region = report.scope.region
    stem = f"{report.section.name}-{region.code}" + (f"-{report.period.key}" if report.section.uses_period else "")
    title = f"{region.name}-{report.section.title[0]}" + (f"-{report.period.key}" if report.section.uses_period else "")
    response = Response(body, mimetype=MIMETYPES[fmt])
    # ASCII for browsers that do not read filename*, the Chinese title for the rest.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"statistics-{stem}.{fmt}\"; filename*=UTF-8''{quote(f'{title}.{fmt}')}")
    return response
