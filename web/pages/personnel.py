"""Personnel registry pages: my personnel (enterprise) / personnel in my jurisdiction (regulator)."""
from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from engine.errors import InvalidInput
from engine.services import personnel as personnel_service
from engine.services import portal
from forms.fields import today_in_china
from forms.jsonschema import schema_to_json
from forms.personnel import PersonSchema

from ..extensions import db
from ..security import kinds_allowed, login_required
from ..transactions import write
from . import bp
from .formdata import from_html
from .paging import PER_PAGE, page_arg


@bp.get("/personnel")
@login_required
def personnel():
    """The personnel list with certificate validity badges and filters (unknown values ignored)."""
    page, today = page_arg(), today_in_china()
    validity = request.args.get("validity", "")
    filters = {"validity": validity if validity in portal.VALIDITY else "",
               "q": request.args.get("q", "").strip()[:64]}
    rows, total = portal.list_personnel(db.session, user=g.user, today=today, validity=filters["validity"] or None,
                                        q=filters["q"] or None, page=page, per_page=PER_PAGE)
    return render_template("personnel/list.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           filters=filters, filter_args={k: v for k, v in filters.items() if v},
                           validity=lambda c: portal.certificate_validity(c.valid_until, today))


@bp.route("/personnel/new", methods=["GET", "POST"])
@kinds_allowed("enterprise")
def new_person():
    schema = schema_to_json(PersonSchema())
    data, errors = {}, {}
    if request.method == "POST":
        data = from_html(schema, request.form, request.files, session_factory=write, actor=g.user)
        try:
            cleaned = PersonSchema().load(data)
            with write() as s:
                personnel_service.add_person(s, actor=g.user, data=cleaned)
        except ValidationError as exc:
            errors = exc.messages
        except InvalidInput as exc:
            errors = exc.errors
        else:
            return redirect(url_for("pages.personnel", added=1))
    return render_template("personnel/new.html", schema=schema, data=data, errors=errors), (422 if errors else 200)
