"""My notifications (the bell in the top bar, the list, mark read) and my notification settings."""
from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from engine.services import mailer, notifications
from forms import current_locale
from forms.notifications import LANGUAGES, NotificationContactSchema

from ..extensions import db
from ..security import login_required
from ..transactions import write
from . import bp
from .paging import PER_PAGE, page_arg


@bp.record
def _configure_mail(state) -> None:
    config = state.app.config
    mailer.configure(mailer.MailSettings(
        host=config.get("SMTP_HOST", ""), port=int(config.get("SMTP_PORT", 25)),
        sender=config.get("SMTP_FROM") or mailer.MailSettings.sender, user=config.get("SMTP_USER", ""),
        password=config.get("SMTP_PASSWORD", ""), starttls=bool(config.get("SMTP_STARTTLS")),
        base_url=config.get("PUBLIC_BASE_URL") or mailer.MailSettings.base_url))


def _unread_count() -> int:
    """The bell's number: one indexed COUNT, at most once per request, only where the bell is drawn."""
    if g.get("user") is None:
        return 0
    if "unread_notifications" not in g:
        try:
            g.unread_notifications = notifications.unread_count(db.session, g.user)
        except SQLAlchemyError:  # e.g. drawing the error page of a failed request: no bell number
            db.session.rollback()
            g.unread_notifications = 0
    return g.unread_notifications


@bp.app_context_processor
def _bell():
    return {"unread_notifications": _unread_count}


@bp.get("/notifications")
@login_required
def notification_list():
    page = page_arg()
    rows, total = notifications.list_notifications(db.session, user=g.user, page=page, per_page=PER_PAGE)
    locale = current_locale.get()
    items = [(row, *notifications.render(row, locale)) for row in rows]
    return render_template("notifications/list.html", items=items, total=total, page=page, per_page=PER_PAGE)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def notification_read(notification_id: int):
    with write() as s:
        link = notifications.mark_read(s, user=g.user, notification_id=notification_id).link
    if request.form.get("open") and link and link.startswith("/") and not link.startswith("//"):
        return redirect(link)
    return redirect(url_for("pages.notification_list", page=page_arg()))


@bp.post("/notifications/read-all")
@login_required
def notifications_read_all():
    with write() as s:
        notifications.mark_all_read(s, user=g.user)
    return redirect(url_for("pages.notification_list"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notification_settings():
    errors, saved = {}, False
    data = {"email": g.user.email or "", "locale": g.user.locale}
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in ("email", "locale")}
        try:
            cleaned = NotificationContactSchema().load(data)
        except ValidationError as exc:
            errors = exc.messages
        else:
            with write() as s:
                notifications.set_contact(s, user=g.user, email=cleaned["email"], locale=cleaned["locale"])
            saved = True
    return render_template("notifications/settings.html", data=data, errors=errors, saved=saved,
                           languages=LANGUAGES, mail_enabled=mailer.get_settings().enabled), (422 if errors else 200)
