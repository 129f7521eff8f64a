import pytest

from engine.domain.regions import (
    Region,
    all_regions,
    children,
    get_region,
    is_within,
    plate_letter,
    prefecture_of,
    province_of,
)

PLATES = {
    "420100": "A", "420200": "B", "420300": "C", "421000": "D", "420500": "E",
    "420600": "F", "420700": "G", "420800": "H", "421100": "J", "420900": "K",
    "421200": "L", "429004": "M", "429005": "N", "429021": "P", "422800": "Q",
    "429006": "R", "421300": "S",
}


def test_there_are_17_prefecture_level_units_under_hubei():
    cities = [r for r in all_regions() if r.level == "city"]
    assert len(cities) == 17
    assert {r.parent for r in cities} == {"420000"}
    assert [r.code for r in children("420000")] == sorted(PLATES)


def test_there_is_no_420400_and_no_grouping_code_429000():
    assert get_region("420400") is None
    assert get_region("429000") is None


def test_regions_are_ordered_by_code_and_unique():
    codes = [r.code for r in all_regions()]
    assert codes == sorted(set(codes))
    assert all(len(c) == 6 and c.isdigit() and c.startswith("42") for c in codes)


def test_xiantao_is_prefecture_level_under_the_province():
    xiantao = get_region("429004")
    assert xiantao == Region("429004", "仙桃市", "Xiantao", "city", "420000", "M")
    assert prefecture_of("429004") == xiantao


def test_wuchang_is_within_wuhan():
    assert get_region("420106").name == "武昌区"
    assert prefecture_of("420106").name == "武汉市"
    assert is_within("420106", "420100")
    assert is_within("420106", "420000")
    assert not is_within("420106", "420200")


def test_is_within_is_inclusive_and_false_for_unknown_codes():
    assert is_within("420100", "420100")
    assert not is_within("420100", "420106")
    assert not is_within("999999", "420000")


@pytest.mark.parametrize("code,letter", sorted(PLATES.items()))
def test_plate_letters_of_prefectures(code, letter):
    assert get_region(code).plate == letter
    assert plate_letter(code) == letter


def test_plate_letter_of_a_county_is_its_prefectures():
    assert plate_letter("420115") == "A"
    assert plate_letter("422801") == "Q"
    assert plate_letter("420000") is None
    assert plate_letter("110101") is None


def test_every_county_has_an_existing_city_parent():
    counties = [r for r in all_regions() if r.level == "county"]
    assert len(counties) == 99
    for county in counties:
        parent = get_region(county.parent)
        assert parent is not None and parent.level == "city"
        assert county.plate is None


def test_every_prefecture_except_directly_administered_has_counties():
    for code in PLATES:
        assert bool(children(code)) == (not code.startswith("429"))


def test_province_of_any_code_is_hubei():
    assert province_of("421088").code == "420000"
    assert province_of("420000").name == "湖北省"
    assert province_of("110101") is None


def test_known_counties_have_chinese_and_english_names():
    assert get_region("420111").name == "洪山区"
    assert get_region("420115").name_en == "Jiangxia District"
    assert get_region("421088").name == "监利市"


def test_all_regions_returns_a_fresh_list():
    first = all_regions()
    first.clear()
    assert len(all_regions()) == 117
