from datetime import date

import pytest

from engine.domain.cranes import (
    ASSESSMENT_AGE_YEARS,
    CRANE_TYPES,
    age_in_years,
    assessment_required,
    assessment_threshold_years,
    requires_expert_review,
)


def test_crane_type_letters():
    assert {k: v["letter"] for k, v in CRANE_TYPES.items()} == {
        "tower_crane": "T",
        "construction_hoist": "S",
        "material_hoist": "W",
        "gantry_crane": "M",
    }
    assert CRANE_TYPES["tower_crane"]["zh"] == "塔式起重机"


@pytest.mark.parametrize(
    "moment,years",
    [(0, 10), (629.9, 10), (630, 15), (1249.9, 15), (1250, 20), (3000, 20)],
)
def test_tower_crane_moment_bands(moment, years):
    assert assessment_threshold_years("tower_crane", rated_moment_knm=moment) == years


@pytest.mark.parametrize("drive,years", [("SC", 8), ("SS", 5), ("SH", 8), ("ss", 5)])
def test_hoist_thresholds_by_drive(drive, years):
    assert assessment_threshold_years("construction_hoist", hoist_drive=drive) == years


@pytest.mark.parametrize("crane_type", ["material_hoist", "gantry_crane"])
def test_types_without_threshold_never_need_assessment(crane_type):
    assert assessment_threshold_years(crane_type) is None
    assert not assessment_required(crane_type, date(1990, 1, 1), date(2026, 1, 1))


def test_missing_parameters_and_unknown_type_raise():
    with pytest.raises(ValueError):
        assessment_threshold_years("tower_crane")
    with pytest.raises(ValueError):
        assessment_threshold_years("construction_hoist")
    with pytest.raises(ValueError):
        assessment_threshold_years("crawler_crane")


def test_thresholds_can_be_overridden_partially():
    custom = {"construction_hoist_SS": 4, "material_hoist": 6}
    hoist = "construction_hoist"
    assert assessment_threshold_years(hoist, hoist_drive="SS", thresholds=custom) == 4
    assert assessment_threshold_years(hoist, hoist_drive="SC", thresholds=custom) == 8
    assert assessment_threshold_years("material_hoist", thresholds=custom) == 6
    assert ASSESSMENT_AGE_YEARS["construction_hoist_SS"] == 5


def test_unknown_override_key_raises():
    with pytest.raises(ValueError):
        assessment_threshold_years("tower_crane", 500, thresholds={"tower_small": 9})


def test_exactly_ten_years_is_not_over_age():
    made = date(2016, 3, 15)
    assert not assessment_required("tower_crane", made, date(2026, 3, 15), rated_moment_knm=500)


def test_ten_years_and_one_day_is_over_age():
    made = date(2016, 3, 15)
    assert assessment_required("tower_crane", made, date(2026, 3, 16), rated_moment_knm=500)


def test_moment_band_changes_the_boundary():
    made = date(2010, 6, 1)
    on = date(2025, 6, 2)
    assert assessment_required("tower_crane", made, on, rated_moment_knm=629)
    assert assessment_required("tower_crane", made, on, rated_moment_knm=630)
    assert not assessment_required("tower_crane", made, date(2025, 6, 1), rated_moment_knm=630)
    assert not assessment_required("tower_crane", made, on, rated_moment_knm=1250)


def test_ss_hoist_over_age_after_five_years():
    made = date(2020, 7, 1)
    assert not assessment_required("construction_hoist", made, date(2025, 7, 1), hoist_drive="SS")
    assert assessment_required("construction_hoist", made, date(2025, 7, 2), hoist_drive="SS")
    assert not assessment_required("construction_hoist", made, date(2025, 7, 2), hoist_drive="SC")


def test_february_29_manufacture_date_in_common_year():
    made = date(2016, 2, 29)
    assert not assessment_required("tower_crane", made, date(2026, 2, 28), rated_moment_knm=400)
    assert assessment_required("tower_crane", made, date(2026, 3, 1), rated_moment_knm=400)


def test_february_29_manufacture_date_in_leap_year():
    made = date(2016, 2, 29)
    assert not assessment_required("construction_hoist", made, date(2024, 2, 29), hoist_drive="SC")
    assert assessment_required("construction_hoist", made, date(2024, 3, 1), hoist_drive="SC")


def test_age_in_full_years():
    assert age_in_years(date(2016, 3, 15), date(2026, 3, 14)) == 9
    assert age_in_years(date(2016, 3, 15), date(2026, 3, 15)) == 10
    assert age_in_years(date(2016, 2, 29), date(2017, 2, 28)) == 1
    with pytest.raises(ValueError):
        age_in_years(date(2026, 1, 2), date(2026, 1, 1))


@pytest.mark.parametrize(
    "capacity,height,base,expected",
    [
        (299.9, 199.9, 0, False),
        (300, 50, 0, True),
        (100, 200, 0, True),
        (100, 50, 200, True),
        (100, 50, 199.9, False),
    ],
)
def test_expert_review_thresholds(capacity, height, base, expected):
    assert requires_expert_review(capacity, height, base) is expected
