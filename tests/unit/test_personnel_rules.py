"""Certificate number formats, categories and validity (domain.md §6)."""
from datetime import date

import pytest

from engine.domain.personnel import missing_categories, number_problem, validity_problem


@pytest.mark.parametrize("kind,category,number,expected", [
    ("special_operation", "05", "鄂A052015000001", None),
    ("special_operation", "04", "鄂A052015000001", "category_mismatch"),
    ("special_operation", "08", "JZ-E-2024-000123", None),  # electronic certificate numbers pass
    ("special_operation", "08", "x", "number_format"),
    ("safety_manager", "C1", "鄂建安C1(2015)0000001", None),
    ("safety_manager", "C1", "鄂建安C1（2015）0000001", None),
    ("safety_manager", "B", "鄂建安C1(2015)0000001", "category_mismatch"),
    ("safety_manager", "C1", "C1-12345", "number_format"),
    ("other", "C1", "鄂建安C1(2015)0000001", "unknown_kind"),
])
def test_certificate_numbers(kind, category, number, expected):
    assert number_problem(kind, category, number) == expected


def test_validity_on_the_action_date():
    assert validity_problem(date(2026, 5, 1), date(2026, 5, 1)) is None
    assert validity_problem(date(2026, 5, 1), date(2026, 5, 2)) == "expired"


def test_missing_categories_for_an_installation_crew():
    held = {"08": date(2027, 1, 1), "04": date(2025, 1, 1)}
    assert missing_categories(held, {"08", "04", "01"}, date(2026, 6, 1)) == {"04", "01"}
