"""Configuration from environment variables, with defaults for the embedded demo."""
import os
import secrets
from pathlib import Path

from engine.db.base import json_dumps

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("CRANEFLOW_VAR_DIR", ROOT / "var"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (demo only)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR / "secret_key"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def normalize_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return normalize_database_url(url) if url else f"sqlite:///{VAR / 'craneflow.db'}"


def load_config() -> dict:
    return {
        "SECRET_KEY": _secret_key(),
        # HMAC key of the tamper-evident audit chain (empty: derived from SECRET_KEY). Kept outside
        # the database; every chain was sealed with it, so it must not change.
        "AUDIT_CHAIN_KEY": os.environ.get("AUDIT_CHAIN_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        # Recycling instead of a ping before every checkout: one round trip less per transaction.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800, "json_serializer": json_dumps},
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(VAR / "uploads")),
        "MAX_UPLOAD_MB": int(os.environ.get("MAX_UPLOAD_MB", "20")),
        "RECORD_NUMBER_PATTERN": os.environ.get("RECORD_NUMBER_PATTERN", "鄂{city}-{type}{year}{serial:05d}"),
        "NOTICE_LEAD_WORKDAYS": int(os.environ.get("NOTICE_LEAD_WORKDAYS", "2")),
        "RECTIFICATION_MAX_DAYS": int(os.environ.get("RECTIFICATION_MAX_DAYS", "7")),
        "STOP_ORDER_MAX_DAYS": int(os.environ.get("STOP_ORDER_MAX_DAYS", "30")),
        "SELF_CHECKS_PER_MONTH": int(os.environ.get("SELF_CHECKS_PER_MONTH", "2")),
        "ASSESSMENT_VALID_YEARS": int(os.environ.get("ASSESSMENT_VALID_YEARS", "1")),
        # "off" lets installation notices and use registration through despite archive gaps.
        "ARCHIVE_GATE": os.environ.get("ARCHIVE_GATE", "on").lower() not in ("off", "0", "false", "no"),
        "AUDIT_VERIFY_DAILY": os.environ.get("AUDIT_VERIFY_DAILY", "on").lower() not in ("off", "0", "false", "no"),
        # A holiday file in the format of engine/domain/data/cn_workdays.json, to load a year's
        # State Council arrangements as soon as they are published (empty: the bundled file).
        "WORKDAY_CALENDAR": os.environ.get("WORKDAY_CALENDAR", ""),
        # "inprocess": a background thread runs the timer sweep (embedded default);
        # "celery": Celery beat + workers do it (production, needs REDIS_URL).
        "BACKGROUND": os.environ.get("BACKGROUND", "celery" if os.environ.get("REDIS_URL") else "inprocess"),
        # "json": one JSON object per log line; "text": plain lines (empty: json when BACKGROUND=celery).
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", ""),
        # Bearer token for GET /metrics from elsewhere than this host (empty: loopback only).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("SESSION_LIFETIME_SECONDS", "7200")),
        # Enforced on the server: a browser session ends after this long without a request, and
        # in any case this many hours after the login.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(os.environ.get("SESSION_MAX_HOURS", "12")),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        "PASSWORD_HASH_FAST": os.environ.get("PASSWORD_HASH_FAST", "0") == "1",
        # Data exchange (docs/data-exchange.md): change records are POSTed here, signed with the
        # secret (HMAC-SHA256); empty URL: no push (the pull API still serves them).
        "EXCHANGE_PUSH_URL": os.environ.get("EXCHANGE_PUSH_URL", ""),
        "EXCHANGE_SECRET": os.environ.get("EXCHANGE_SECRET", ""),
        "EXCHANGE_TIMEOUT_SECONDS": float(os.environ.get("EXCHANGE_TIMEOUT_SECONDS", "10")),
        # Notification emails: without SMTP_HOST none are sent (notifications stay in-app).
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
        "SMTP_FROM": os.environ.get("SMTP_FROM", "CraneFlow <noreply@craneflow.local>"),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "0").lower() in ("1", "true", "yes", "on"),
        # Where emails link to: the address users reach these pages at.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # Ed25519 private key (PEM) signing crane certificates; generated into var/ when unset.
        "CERT_SIGNING_KEY_FILE": os.environ.get("CERT_SIGNING_KEY_FILE", str(VAR / "cert_signing_key.pem")),
        # Requests per minute and client IP on the public verification portal (0: unlimited).
        "VERIFY_RATE_LIMIT": int(os.environ.get("VERIFY_RATE_LIMIT", "30")),
        # Reverse proxies in front of the app whose X-Forwarded-For / -Proto are believed (0: none, so a
        # client cannot choose its own address for the rate limits and logs).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
    }
