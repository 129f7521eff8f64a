"""The public verification portal (证明核验): no login. Look up a crane's public facts by record or
certificate number, check a certificate's QR link, or check an uploaded certificate PDF.

A blueprint of its own (`verify`), apart from the logged-in pages. Its endpoints are session-less
(web/security.py): the caller's account is never loaded, so the pages look the same to everyone.
Each is rate limited per client IP (VERIFY_RATE_LIMIT a minute).
"""
from flask import Blueprint, Response, render_template, request

from engine.services import certificates
from forms import t

from ..extensions import db
from ..ratelimit import rate_limited

bp = Blueprint("verify", __name__)

MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024


def _portal(template: str, status: int = 200, **context):
    return render_template(template, max_upload_mb=MAX_UPLOAD_MB, **context), status


def _lookup_context(query: str, code: str) -> tuple[dict, int]:
    crane, cert = certificates.look_up(db.session, query)
    if crane is None or crane.record_number is None:
        return {"query": query, "not_found": True}, 404
    context = {"query": query, "facts": certificates.public_facts(db.session, crane),
               "matched": cert.number if cert else None}
    if code and cert is not None:
        context["code_ok"] = "".join(code.upper().split()) == certificates.verification_code(cert.signature)
    return context, 200


@bp.get("/verify")
@rate_limited("verify", "VERIFY_RATE_LIMIT")
def home():
    query = request.args.get("q", "").strip()[:64]
    code = request.args.get("code", "").strip()[:20]
    if not query:
        return _portal("verify/home.html", query="", code=code,
                       error=t("verify_query_required") if "q" in request.args else None)
    context, status = _lookup_context(query, code)
    return _portal("verify/home.html", status, code=code, **context)


@bp.post("/verify/upload")
@rate_limited("verify", "VERIFY_RATE_LIMIT")
def upload():
    if (request.content_length or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
        return _portal("verify/home.html", 413, query="", upload_error=t("verify_file_too_large", mb=MAX_UPLOAD_MB))
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _portal("verify/home.html", 422, query="", upload_error=t("verify_file_required"))
    content = sent.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _portal("verify/home.html", 413, query="", upload_error=t("verify_file_too_large", mb=MAX_UPLOAD_MB))
    if not content.startswith(b"%PDF-"):
        return _portal("verify/home.html", 422, query="", upload_error=t("verify_not_pdf"))
    try:
        check = certificates.check_pdf(db.session, content)
    except ValueError:
        return _portal("verify/home.html", 422, query="", upload_error=t("verify_unreadable_pdf"))
    summary = certificates.certificate_summary(check.certificate) if check.certificate else None
    return _portal("verify/upload_result.html", outcome=check.outcome, certificate=summary,
                   file_name=sent.filename[:120])


@bp.get("/verify/c/<number>")
@rate_limited("verify", "VERIFY_RATE_LIMIT")
def certificate(number: str):
    cert = certificates.find(db.session, number)
    state = certificates.link_state(cert, request.args.get("s"))
    context = {"state": state, "number": number[:64]}
    if cert is not None and state != "invalid":
        context["certificate"] = certificates.certificate_summary(cert)
        context["facts"] = certificates.public_facts(db.session, certificates.crane_of(db.session, cert))
    return _portal("verify/certificate.html", 404 if cert is None else 200, **context)


@bp.get("/verify/public-key.pem")
@rate_limited("verify", "VERIFY_RATE_LIMIT")
def public_key():
    return Response(certificates.public_key_pem(), mimetype="application/x-pem-file",
                    headers={"Content-Disposition": 'inline; filename="craneflow-certificates.pem"'})
