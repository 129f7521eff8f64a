"""Usage report API (regulators): the figures of the usage report (使用情况通报) as JSON. Role and scope
are checked in engine/services/usage_report.py."""
from flask import g, jsonify

from engine.services import usage_report
from forms import current_locale
from forms.usage_report import UsageReportQuery

from ..extensions import db
from ..security import login_required
from . import bp
from .routes import _query


@bp.get("/v1/reports/usage")
@login_required
def usage_report_json():
    usage_report.report_region(g.user, None)  # before the query is checked: others learn nothing from a 422
    q = _query(UsageReportQuery)
    report = usage_report.build_report(db.session, g.user, period=q["period"], region_code=q["region"])
    return jsonify(usage_report.report_json(report, current_locale.get()))
