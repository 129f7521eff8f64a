"""Certificate downloads: the crane's filing or use registration certificate as a signed PDF."""
from urllib.parse import quote

from flask import Response, g

from engine.db import utcnow
from engine.errors import NotFound
from engine.services import certificates, cranes
from forms import t

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp


@bp.get("/v1/cranes/<int:crane_id>/certificates/<kind>")
@login_required
def crane_certificate(crane_id: int, kind: str):
    """Whoever sees the crane; only while the crane holds the fact. A fact older than certificates
    gets its certificate issued on this first download; the first download of a certificate
    records the SHA-256 of its PDF."""
    crane = cranes.get_crane(db.session, user=g.user, crane_id=crane_id)
    certificates.require_kind(kind)
    if not certificates.has_fact(crane, kind):
        raise NotFound(t("certificate_not_available"))
    cert = certificates.current(db.session, crane.id, kind)
    if cert is None:
        with write() as s:
            cert = certificates.ensure_current(s, crane.id, kind, at=utcnow())
    pdf, number = certificates.pdf_file(db.engine, cert), cert.number
    label = certificates.KIND_LABELS[kind][0]
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"certificate-{number}.pdf\"; "
                               f"filename*=UTF-8''{quote(f'{label}-{number}.pdf')}"})
