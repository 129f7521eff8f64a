"""My cranes (enterprise) / cranes in my jurisdiction (regulator); a crane's archive and its
operation records (self-checks, maintenance, repairs, faults)."""
from datetime import datetime

from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from engine.db import Attachment
from engine.db.cranes import CRANE_STATUSES
from engine.domain.cranes import CRANE_TYPES
from engine.errors import InvalidInput
from engine.services import archive as archive_service
from engine.services import certificates
from engine.services import cranes as crane_service
from engine.services import operations as operation_service
from engine.services import portal
from engine.services.attachments import can_read_attachment
from forms.fields import today_in_china
from forms.jsonschema import schema_to_json
from forms.operations import OperationRecordSchema, operation_labels

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .formdata import from_html
from .paging import PER_PAGE, page_arg


@bp.get("/cranes")
@login_required
def cranes():
    """The crane list with filters; unknown filter values are ignored rather than refused."""
    page = page_arg()
    state = request.args.get("state", "")
    crane_type = request.args.get("type", "")
    filters = {"state": state if state in CRANE_STATUSES else "",
               "type": crane_type if crane_type in CRANE_TYPES else "",
               "q": request.args.get("q", "").strip()[:64]}
    rows, total = portal.list_cranes(db.session, user=g.user, state=filters["state"] or None,
                                     crane_type=filters["type"] or None, q=filters["q"] or None,
                                     page=page, per_page=PER_PAGE)
    return render_template("cranes/list.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           filters=filters, filter_args={k: v for k, v in filters.items() if v},
                           states=CRANE_STATUSES, types=CRANE_TYPES)


def _crane_page(crane, form=None, errors=None, status=200):
    archive = archive_service.crane_archive(db.session, crane, viewer=g.user)
    timeline = [{**entry, "when": datetime.fromisoformat(entry["at"])} for entry in archive.timeline]
    operations = operation_service.operations_overview(db.session, crane, g.user, today_in_china())
    # Files are linked where the user may open them on their own; the archive ZIP holds them all.
    readable = {f.attachment.id for f in archive.files if can_read_attachment(db.session, g.user, f.attachment)}
    readable |= {i for i, a in operations.attachments.items() if can_read_attachment(db.session, g.user, a)}
    form = form or {}
    kept = [i for i in form.get("attachments") or [] if isinstance(i, int)]
    kept_files = {a.id: a for a in db.session.query(Attachment).filter(Attachment.id.in_(kept))} if kept else {}
    return render_template("cranes/detail.html", crane=crane, timeline=timeline, readable=readable,
                           certificate_kinds=[k for k in certificates.KINDS if certificates.has_fact(crane, k)],
                           cases=crane_service.crane_cases(db.session, user=g.user, crane=crane),
                           operations=operations, labels=operation_labels(),
                           operation_schema=schema_to_json(OperationRecordSchema()), form=form,
                           kept_files=kept_files, errors=errors or {}), status


@bp.get("/cranes/<int:crane_id>")
@login_required
def crane(crane_id: int):
    return _crane_page(crane_service.get_crane(db.session, user=g.user, crane_id=crane_id))


@bp.post("/cranes/<int:crane_id>/operations")
@login_required
def add_operation(crane_id: int):
    crane = crane_service.get_crane(db.session, user=g.user, crane_id=crane_id)
    data = from_html(schema_to_json(OperationRecordSchema()), request.form, request.files,
                     session_factory=write, actor=g.user)
    try:
        cleaned = OperationRecordSchema().load(data)
        with write() as s:
            operation_service.record_operation(s, user=g.user, crane=crane_service.get_crane(
                s, user=g.user, crane_id=crane_id), data=cleaned)
    except ValidationError as exc:
        return _crane_page(crane, data, errors=exc.messages, status=422)
    except InvalidInput as exc:
        db.session.rollback()  # end this request's read snapshot: the uploads were committed since
        return _crane_page(crane, data, errors=exc.errors, status=422)
    return redirect(url_for("pages.crane", crane_id=crane_id, recorded=1, _anchor="operations"))
