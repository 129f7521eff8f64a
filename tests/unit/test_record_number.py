import pytest

from engine.domain.record_number import (
    DEFAULT_PATTERN,
    format_record_number,
    max_serial,
    validate_pattern,
)


def fmt(pattern=DEFAULT_PATTERN, **overrides):
    values = {"city": "A", "type": "T", "year": 2026, "serial": 1}
    values.update(overrides)
    return format_record_number(pattern, **values)


def test_default_pattern_example():
    assert fmt() == "鄂A-T202600001"


def test_default_pattern_largest_serial():
    assert fmt(city="F", type="S", year=2025, serial=99999) == "鄂F-S202599999"


@pytest.mark.parametrize("serial", [0, -1, 100000])
def test_serial_out_of_range_is_rejected(serial):
    with pytest.raises(ValueError):
        fmt(serial=serial)


@pytest.mark.parametrize("serial", ["1", 1.0, True])
def test_non_integer_serial_is_rejected(serial):
    with pytest.raises(ValueError):
        fmt(serial=serial)


def test_county_letter_pattern():
    pattern = "鄂{city}{county}-{type}{year}{serial:05d}"
    assert fmt(pattern, city="A", county="B", serial=42) == "鄂AB-T202600042"


def test_county_defaults_to_empty():
    assert fmt("鄂{city}{county}-{type}{year}{serial:05d}") == "鄂A-T202600001"


def test_wider_serial_raises_the_limit():
    pattern = "鄂{city}-{type}{year}{serial:06d}"
    assert max_serial(pattern) == 999999
    assert fmt(pattern, serial=123456) == "鄂A-T2026123456"


def test_unpadded_serial_has_no_upper_limit():
    assert max_serial("{city}{serial}") is None
    assert fmt("{city}{serial}", serial=1234567) == "A1234567"


@pytest.mark.parametrize(
    "pattern",
    [
        "鄂{city}-{type}{year}{serial.real}",
        "鄂{city}-{type}{year}{serial[0]}",
        "鄂{city.__class__}-{serial}",
        "鄂{0}-{serial}",
        "鄂{}-{serial}",
        "鄂{province}-{serial}",
        "鄂{city!r}-{serial}",
        "鄂{city}-{serial:{width}}",
        "鄂{city-{serial}",
        "鄂{city}}-{serial}",
        "鄂{city}-{type}{year}",
        "鄂{city:d}-{serial}",
        "鄂{city}-{serial:x}",
        "",
    ],
)
def test_bad_patterns_are_rejected(pattern):
    with pytest.raises(ValueError):
        validate_pattern(pattern)
    with pytest.raises(ValueError):
        fmt(pattern)


def test_default_pattern_is_valid():
    assert validate_pattern(DEFAULT_PATTERN) is None


def test_empty_city_or_type_is_rejected():
    with pytest.raises(ValueError):
        fmt(city="")
    with pytest.raises(ValueError):
        fmt(type=" ")


def test_year_must_have_four_digits():
    with pytest.raises(ValueError):
        fmt(year=26)


def test_escaped_braces_are_literal():
    assert fmt("{{鄂}}{city}{serial:03d}") == "{鄂}A001"
