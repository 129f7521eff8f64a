"""Admin: deployed process definitions and their versions."""
from flask import render_template
from sqlalchemy import func, select

from engine.db import ProcessDefinition, ProcessInstance

from ..extensions import db
from ..security import kinds_allowed
from . import bp


@bp.get("/admin/definitions")
@kinds_allowed("admin")
def definitions():
    rows = db.session.scalars(select(ProcessDefinition)
                              .order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())).all()
    running = dict(db.session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(ProcessInstance.status == "running").group_by(ProcessInstance.definition_id)).all())
    return render_template("admin/definitions.html", rows=rows, running=running)
