"""Email over SMTP, rendered from the text templates in web/templates/email/ (one per language).

Configured once at start-up (SMTP_HOST …); without a host, nothing is sent and notifications stay
in-app. The Message-ID is derived from the notification's idempotency key, so a message sent again
after a crash between sending and recording it is recognisably the same message.
"""
import hashlib
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "web" / "templates" / "email"
LANGUAGES = ("zh_CN", "en")


@dataclass(frozen=True)
class MailSettings:
    host: str = ""
    port: int = 25
    sender: str = "CraneFlow <noreply@craneflow.local>"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0
    # Links in emails point here (the address users reach the web pages at).
    base_url: str = "http://127.0.0.1:5000"

    @property
    def enabled(self) -> bool:
        return bool(self.host)


_settings = MailSettings()
_env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False, undefined=StrictUndefined,
                   keep_trailing_newline=True)


def configure(settings: MailSettings) -> None:
    global _settings
    _settings = settings


def get_settings() -> MailSettings:
    return _settings


def language_of(locale: str | None) -> str:
    return "zh_CN" if not locale or locale.startswith("zh") else "en"


def render(name: str, locale: str | None, **context) -> str:
    """Render web/templates/email/<name>.<language>.txt."""
    return _env.get_template(f"{name}.{language_of(locale)}.txt").render(**context)


def message_id(key: str) -> str:
    domain = parseaddr(_settings.sender)[1].rpartition("@")[2] or "craneflow.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def build(*, to: str, subject: str, body: str, key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = _settings.sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(key)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body, charset="utf-8")
    return msg


def send(msg: EmailMessage) -> None:
    """Hand one message to the SMTP server; raises on any failure (the outbox retries)."""
    settings = _settings
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(msg)
