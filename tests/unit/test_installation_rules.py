"""Installation rules: notice lead time over holidays, crew categories per crane type, and the
use-registration window."""
from datetime import date

from engine.domain.installation import (earliest_start, installation_crew_categories, notice_too_late,
                                        operating_crew_categories, registration_due_on, registration_late,
                                        registration_reminder_on, verticality_limit)
from engine.domain.workdays import default_calendar


def test_lead_time_counts_working_days_across_the_national_day_holiday():
    calendar = default_calendar()
    # Lodged on Tuesday 2026-09-29: 30 Sep is a working day, 1–7 Oct are holidays, so the second
    # working day after lodging is Thursday 8 Oct.
    assert earliest_start(calendar, date(2026, 9, 29), 2) == date(2026, 10, 8)
    assert notice_too_late(calendar, date(2026, 9, 29), date(2026, 10, 7), 2)
    assert not notice_too_late(calendar, date(2026, 9, 29), date(2026, 10, 8), 2)


def test_lead_time_on_a_plain_week():
    calendar = default_calendar()
    assert earliest_start(calendar, date(2026, 11, 20), 2) == date(2026, 11, 24)  # Fri → Tue
    assert earliest_start(calendar, date(2026, 11, 20), 0) == date(2026, 11, 20)


def test_crew_categories_follow_the_crane_type():
    assert installation_crew_categories("tower_crane") == {"08", "04", "01"}
    assert installation_crew_categories("construction_hoist") == {"09", "04", "01"}
    assert installation_crew_categories("material_hoist") == {"10", "04", "01"}
    assert installation_crew_categories("gantry_crane") == {"04", "01"}
    assert operating_crew_categories("tower_crane") == {"05", "04"}
    assert operating_crew_categories("construction_hoist") == {"06", "04"}


def test_registration_window_is_thirty_calendar_days():
    accepted = date(2026, 1, 31)
    assert registration_reminder_on(accepted) == date(2026, 2, 20)
    assert registration_due_on(accepted) == date(2026, 3, 2)
    assert not registration_late(accepted, date(2026, 3, 2))
    assert registration_late(accepted, date(2026, 3, 3))


def test_verticality_limits():
    assert verticality_limit(anchored_below=False) == 4.0
    assert verticality_limit(anchored_below=True) == 2.0
