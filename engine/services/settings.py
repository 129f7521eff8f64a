"""Service-level settings, set once by the application factory or a worker at start-up."""
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path

from engine.domain.installation import DEFAULT_NOTICE_LEAD_WORKDAYS
from engine.domain.record_number import DEFAULT_PATTERN, validate_pattern
from engine.domain.workdays import WorkdayCalendar, default_calendar

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass
class Settings:
    upload_dir: Path
    record_number_pattern: str = DEFAULT_PATTERN
    max_upload_bytes: int = 20 * 1024 * 1024
    calendar: WorkdayCalendar = field(default_factory=default_calendar)
    # Working days an installation or dismantling notice must precede the work (76号 Art 13).
    notice_lead_workdays: int = DEFAULT_NOTICE_LEAD_WORKDAYS
    # Longest deadline of a 整改通知书 and of a stop-work / stop-use order (calendar days, §4.4).
    rectification_max_days: int = 7
    stop_order_max_days: int = 30
    # Periodic self-checks a month while a crane is in use (domain.md §2.5).
    self_checks_per_month: int = 2
    # Years a 合格 JGJ/T 189 safety assessment holds (not retrieved; 1–2 years is common, §3).
    assessment_valid_years: int = 1
    # Refuse installation notices and use registration while the crane's archive has gaps (§5).
    archive_gate: bool = True
    # Verify the tamper-evident audit chains once a day in the background (audit_schedule).
    audit_verify_daily: bool = True

    def __post_init__(self):
        validate_pattern(self.record_number_pattern)
        if not 0 <= self.notice_lead_workdays <= 30:
            raise ValueError("notice_lead_workdays must be between 0 and 30")
        if not 0 <= self.rectification_max_days <= self.stop_order_max_days <= 60:
            raise ValueError("rectification deadlines must satisfy 0 <= rectification <= stop order <= 60 days")
        if not 1 <= self.assessment_valid_years <= 10:
            raise ValueError("assessment_valid_years must be between 1 and 10")
        if not 0 <= self.self_checks_per_month <= 31:
            raise ValueError("self_checks_per_month must be between 0 and 31")
        self.upload_dir = Path(self.upload_dir)


_settings: Settings | None = None


def configure(settings: Settings) -> None:
    global _settings
    _settings = settings


def get_settings() -> Settings:
    if _settings is None:
        raise RuntimeError("engine.services.settings.configure() has not been called")
    return _settings
