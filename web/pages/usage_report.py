"""The usage report (使用情况通报) for regulators: the period form, the table per region with drill-down,
and the same report as a PDF document."""
from flask import Response, g, render_template, request
from marshmallow import ValidationError

from engine.services import usage_report
from engine.services.usage_report_pdf import render_pdf
from forms import current_locale
from forms.usage_report import UsageReportQuery, error_lines
from forms.fields import today_in_china

from ..extensions import db
from ..security import kinds_allowed
from . import bp


def _query():
    """(cleaned query, None) or (None, the form page answering 400 with each problem named)."""
    usage_report.report_region(g.user, None)  # others learn nothing from a form error
    args = {k: v for k, v in request.args.items() if k != "lang"}
    try:
        return UsageReportQuery().load(args), None
    except ValidationError as exc:
        page = render_template("reports/usage.html", report=None, form=args, errors=error_lines(exc.messages),
                               default=usage_report.last_full_month(today_in_china()))
        return None, (page, 400)


@bp.get("/reports/usage")
@kinds_allowed("regulator")
def usage_report_page():
    query, refused = _query()
    if refused:
        return refused
    report = usage_report.build_report(db.session, g.user, period=query["period"], region_code=query["region"])
    args = report.period.query()
    return render_template("reports/usage.html", report=report, form={k: str(v) for k, v in args.items()},
                           errors=[], period_args=args, locale=current_locale.get(),
                           default=usage_report.last_full_month(today_in_china()))


@bp.get("/reports/usage.pdf")
@kinds_allowed("regulator")
def usage_report_pdf():
    query, refused = _query()
    if refused:
        return refused
    report = usage_report.build_report(db.session, g.user, period=query["period"], region_code=query["region"])
    name = f"usage-report-{report.region.code}-{report.period.start.isoformat()}-{report.period.end.isoformat()}.pdf"
    return Response(render_pdf(report), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})
