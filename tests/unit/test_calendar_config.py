"""A year's holiday arrangements can be loaded from a file as soon as they are published; a missing
year is reported when the application starts."""
import json
import logging
from datetime import date

from flask import Flask

from web import _calendar


def _app(path="") -> Flask:
    app = Flask("calendar-test")
    app.config["WORKDAY_CALENDAR"] = path
    return app


def test_a_configured_file_replaces_the_bundled_calendar(tmp_path):
    data = {"years": {"2031": [{"name": "春节", "off": ["2031-01-22", "2031-01-28"], "makeup": ["2031-01-19"]}]}}
    path = tmp_path / "workdays.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    calendar = _calendar(_app(str(path)))
    assert calendar.covers(date(2031, 6, 1))
    assert not calendar.is_workday(date(2031, 1, 23))  # a Thursday off
    assert calendar.is_workday(date(2031, 1, 19))      # a Sunday worked (调休)
    assert calendar.add_workdays(date(2031, 1, 21), 1) == date(2031, 1, 29)


def test_a_year_without_arrangements_is_reported(tmp_path, caplog):
    data = {"years": {"2020": [{"name": "元旦", "off": ["2020-01-01", "2020-01-01"], "makeup": []}]}}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        _calendar(_app(str(path)))
    assert "no holiday arrangements" in caplog.text and "WORKDAY_CALENDAR" in caplog.text
