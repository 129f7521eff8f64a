import json
from datetime import date, timedelta

import pytest

from engine.domain.workdays import WorkdayCalendar, default_calendar, load_calendar


@pytest.fixture(scope="module")
def cal():
    return default_calendar()


def days(first, last):
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_plain_calendar_uses_monday_to_friday():
    plain = WorkdayCalendar(set(), set())
    assert plain.is_workday(date(2026, 3, 13))
    assert not plain.is_workday(date(2026, 3, 14))
    assert not plain.is_workday(date(2026, 3, 15))


def test_national_day_2025_is_eight_days_off(cal):
    for d in days(date(2025, 10, 1), date(2025, 10, 8)):
        assert not cal.is_workday(d), d
    assert cal.is_workday(date(2025, 10, 9))


def test_makeup_working_weekend_days_2025(cal):
    assert date(2025, 9, 28).weekday() == 6
    assert date(2025, 10, 11).weekday() == 5
    assert cal.is_workday(date(2025, 9, 28))
    assert cal.is_workday(date(2025, 10, 11))
    assert not cal.is_workday(date(2025, 10, 12))


def test_spring_festival_2025(cal):
    for d in days(date(2025, 1, 28), date(2025, 2, 4)):
        assert not cal.is_workday(d), d
    assert cal.is_workday(date(2025, 1, 26))
    assert cal.is_workday(date(2025, 2, 8))


def test_add_workdays_across_spring_festival_2025(cal):
    assert cal.add_workdays(date(2025, 1, 24), 1) == date(2025, 1, 26)
    assert cal.add_workdays(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert cal.add_workdays(date(2025, 1, 24), 7) == date(2025, 2, 10)


def test_add_workdays_across_spring_festival_2026(cal):
    assert cal.add_workdays(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert cal.add_workdays(date(2026, 2, 12), 3) == date(2026, 2, 24)


def test_add_zero_workdays_returns_start(cal):
    assert cal.add_workdays(date(2025, 10, 4), 0) == date(2025, 10, 4)


def test_negative_n_is_rejected(cal):
    with pytest.raises(ValueError):
        cal.add_workdays(date(2025, 1, 1), -1)
    with pytest.raises(ValueError):
        cal.subtract_workdays(date(2025, 1, 1), -1)


def test_subtract_workdays_before_national_day(cal):
    assert cal.subtract_workdays(date(2025, 10, 9), 1) == date(2025, 9, 30)
    assert cal.subtract_workdays(date(2025, 10, 9), 2) == date(2025, 9, 29)
    assert cal.subtract_workdays(date(2025, 10, 9), 3) == date(2025, 9, 28)


def test_seven_working_day_review_across_national_day(cal):
    due = cal.add_workdays(date(2025, 9, 26), 7)
    assert due == date(2025, 10, 13)
    assert cal.workdays_between(date(2025, 9, 26), due) == 7


def test_workdays_between_excludes_start_and_includes_end(cal):
    assert cal.workdays_between(date(2025, 3, 3), date(2025, 3, 3)) == 0
    assert cal.workdays_between(date(2025, 3, 3), date(2025, 3, 10)) == 5
    assert cal.workdays_between(date(2025, 3, 10), date(2025, 3, 3)) == -5


def test_workdays_between_is_inverse_of_add(cal):
    start = date(2024, 1, 1)
    for n in (1, 5, 20, 60, 250):
        assert cal.workdays_between(start, cal.add_workdays(start, n)) == n


def test_official_2026_arrangements(cal):
    assert not cal.is_workday(date(2026, 1, 2))
    assert cal.is_workday(date(2026, 1, 4))
    assert cal.is_workday(date(2026, 5, 9))
    assert not cal.is_workday(date(2026, 9, 25))
    assert cal.is_workday(date(2026, 9, 20))
    assert cal.is_workday(date(2026, 10, 10))


def test_official_2024_arrangements(cal):
    assert cal.is_workday(date(2024, 2, 9))
    assert not cal.is_workday(date(2024, 2, 10))
    assert cal.is_workday(date(2024, 2, 18))
    assert cal.is_workday(date(2024, 5, 11))


def test_bundled_makeup_days_are_weekends(cal):
    assert cal.makeup_workdays
    assert all(d.weekday() >= 5 for d in cal.makeup_workdays)


def test_bundled_calendar_covers_2024_to_2026(cal):
    assert cal.years == {2024, 2025, 2026}
    assert cal.covers(date(2026, 12, 31))
    assert not cal.covers(date(2027, 1, 1))


def test_holiday_and_makeup_overlap_is_rejected():
    d = date(2025, 10, 11)
    with pytest.raises(ValueError):
        WorkdayCalendar({d}, {d})


def test_load_calendar_from_admin_file(tmp_path):
    path = tmp_path / "calendar.json"
    path.write_text(
        json.dumps({"years": {"2027": [
            {"name": "测试", "off": ["2027-03-01", "2027-03-02"], "makeup": ["2027-03-06"]},
        ]}}),
        encoding="utf-8",
    )
    custom = load_calendar(path)
    assert not custom.is_workday(date(2027, 3, 1))
    assert custom.is_workday(date(2027, 3, 6))
    assert custom.add_workdays(date(2027, 2, 26), 1) == date(2027, 3, 3)
    assert custom.years == {2027}


def test_load_calendar_rejects_reversed_range(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"years": {"2027": [{"name": "x", "off": ["2027-03-02", "2027-03-01"]}]}}),
        encoding="utf-8",
    )
    with pytest.raises(ValueError):
        load_calendar(path)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"years": {"2027": [{"name": "x"}]}},
        {"years": {"2027": [{"off": ["2027-02-30", "2027-03-01"]}]}},
    ],
)
def test_load_calendar_reports_malformed_files_as_value_error(tmp_path, payload):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ValueError):
        load_calendar(path)
