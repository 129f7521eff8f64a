"""Application factory."""
import logging
from datetime import date, datetime

from flask import Flask
from werkzeug.routing import IntegerConverter

from engine.domain.workdays import WorkdayCalendar, default_calendar, load_calendar
from engine.services import accounts, audit_chain, certificates, settings
from engine.services import reactions  # noqa: F401  (what follows transitions: notifications, data exchange)

from .config import load_config
from .extensions import babel, db, migrate


def _calendar(app: Flask) -> WorkdayCalendar:
    path = app.config.get("WORKDAY_CALENDAR")
    calendar = load_calendar(path) if path else default_calendar()
    today = datetime.now(settings.CHINA_TZ).date()
    for year in (today.year, today.year + 1):
        if not calendar.covers(date(year, 12, 31)):
            # Without the arrangements, only weekends count as days off in that year: deadlines
            # over the Spring Festival or National Day would be counted short.
            logging.getLogger(__name__).warning(
                "the working-day calendar has no holiday arrangements for %s; set WORKDAY_CALENDAR "
                "to a file with the State Council notice for that year", year)
    return calendar


def trust_proxies(wsgi_app, hops: int):
    """Behind `hops` reverse proxies, the client's address and scheme are the ones they forward."""
    if hops <= 0:
        return wsgi_app
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(wsgi_app, x_for=hops, x_proto=hops)


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.url_map.converters["int"] = IdConverter  # before any route is registered
    app.config.update(load_config())
    app.config.update(overrides or {})
    app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    app.json.sort_keys = False  # answers keep the order they are built in; sorting costs time
    app.wsgi_app = trust_proxies(app.wsgi_app, app.config["TRUSTED_PROXIES"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    settings.configure(settings.Settings(
        upload_dir=app.config["UPLOAD_DIR"],
        record_number_pattern=app.config["RECORD_NUMBER_PATTERN"],
        max_upload_bytes=app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
        notice_lead_workdays=app.config["NOTICE_LEAD_WORKDAYS"],
        rectification_max_days=app.config["RECTIFICATION_MAX_DAYS"],
        stop_order_max_days=app.config["STOP_ORDER_MAX_DAYS"],
        self_checks_per_month=app.config["SELF_CHECKS_PER_MONTH"],
        assessment_valid_years=app.config["ASSESSMENT_VALID_YEARS"],
        archive_gate=app.config["ARCHIVE_GATE"],
        audit_verify_daily=app.config["AUDIT_VERIFY_DAILY"],
        calendar=_calendar(app),
    ))
    audit_chain.configure(audit_chain.key_from_config(app.config))
    certificates.configure(key_file=app.config["CERT_SIGNING_KEY_FILE"], base_url=app.config["PUBLIC_BASE_URL"])
    if app.config["PASSWORD_HASH_FAST"]:
        accounts.configure_hasher(time_cost=1, memory_cost=8192)

    from . import errors, filters, i18n, observability, security
    from .api import bp as api_bp
    from .health import bp as health_bp
    from .auth import bp as auth_bp
    from .cli import register_cli
    from .pages import bp as pages_bp
    from .pages.verification import bp as verify_bp

    observability.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(health_bp)
    register_cli(app)
    logging.getLogger("spiff").setLevel(logging.WARNING)
    return app


class IdConverter(IntegerConverter):
    """<int:...> ids beyond the database's integer range are 404, not a driver overflow (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _migrations_dir():
    from .config import ROOT

    return ROOT / "migrations"
