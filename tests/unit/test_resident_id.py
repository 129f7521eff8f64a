from datetime import date

import pytest

from engine.domain.resident_id import (
    age_on,
    check_char,
    is_valid_resident_id,
    mask_resident_id,
    resident_id_error,
)

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize("value", ["11010519491231002X", "440524188001010014"])
def test_standard_examples_are_valid(value):
    assert resident_id_error(value, today=TODAY) is None
    assert is_valid_resident_id(value, today=TODAY)


def test_lowercase_x_is_accepted():
    assert is_valid_resident_id("11010519491231002x", today=TODAY)


def test_wrong_check_digit_is_reported():
    assert resident_id_error("110105194912310021", today=TODAY) == "check_digit"


@pytest.mark.parametrize("value", ["11010519491231002", "1101051949123100XX", "A1010519491231002X"])
def test_malformed_values_are_format_errors(value):
    assert resident_id_error(value, today=TODAY) == "format"


def test_february_30_is_a_birth_date_error():
    assert resident_id_error("110105194902300021", today=TODAY) == "birth_date"


def test_future_birth_date_is_a_birth_date_error():
    assert resident_id_error("110105202601160010", today=TODAY) == "birth_date"


def test_birth_date_on_today_is_allowed():
    body = "11010520260115001"
    assert resident_id_error(body + check_char(body), today=TODAY) is None


def test_mask_keeps_first_six_and_last_four():
    assert mask_resident_id("11010519491231002X") == "110105********002X"
    assert mask_resident_id("11010519491231002x") == "110105********002X"


def test_mask_hides_short_values_entirely():
    assert mask_resident_id("1234") == "****"


def test_age_counts_full_years():
    assert age_on("11010519491231002X", date(2025, 12, 30)) == 75
    assert age_on("11010519491231002X", date(2025, 12, 31)) == 76


def test_age_of_february_29_birthday_in_common_year():
    body = "42010620000229001"
    value = body + check_char(body)
    assert age_on(value, date(2018, 2, 27)) == 17
    assert age_on(value, date(2018, 2, 28)) == 18
    assert age_on(value, date(2020, 2, 28)) == 19
    assert age_on(value, date(2020, 2, 29)) == 20


def test_age_rejects_invalid_birth_date():
    with pytest.raises(ValueError):
        age_on("110105194902300021", date(2025, 1, 1))
