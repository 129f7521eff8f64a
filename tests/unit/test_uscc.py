import random

import pytest

from engine.domain.uscc import (
    CHARSET,
    is_valid_uscc,
    org_code_warning,
    uscc_check_char,
    uscc_error,
)

PUBLISHED = [
    "914403001922038216",  # 华为技术有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "91310110666007217T",  # hutool CreditCodeUtilTest
    "91310115591693856A",  # hutool CreditCodeUtilTest
    "9144030071526726XG",  # js-xxx isCreditCode example
]

# Check characters computed independently of the module under test.
GENERATED = ["91420106300012345F", "124200000110436122", "91420100MA4KLM3N03"]


@pytest.mark.parametrize("code", PUBLISHED + GENERATED)
def test_published_and_generated_codes_are_valid(code):
    assert uscc_error(code) is None
    assert is_valid_uscc(code)


def test_check_char_matches_published_code():
    assert uscc_check_char("91440300192203821") == "6"


def test_wrong_check_digit_is_reported():
    assert uscc_error("914403001922038217") == "check_digit"


def test_early_pilot_code_failing_the_standard_is_rejected():
    assert uscc_error("91350211M00013FA1N") == "check_digit"


def test_every_other_check_char_is_rejected_for_random_bodies():
    rng = random.Random(20260101)
    for _ in range(200):
        body = "".join(rng.choice(CHARSET) for _ in range(2))
        body += "".join(rng.choice("0123456789") for _ in range(6))
        body += "".join(rng.choice(CHARSET) for _ in range(9))
        good = uscc_check_char(body)
        assert is_valid_uscc(body + good)
        wrong = CHARSET[(CHARSET.index(good) + rng.randrange(1, 31)) % 31]
        assert uscc_error(body + wrong) == "check_digit"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_forbidden_letters_are_charset_errors(letter):
    assert uscc_error("91440300" + letter + "92203821" + "6") == "charset"


def test_letters_in_region_part_are_charset_errors():
    assert uscc_error("9144A3001922038216") == "charset"


@pytest.mark.parametrize("code", ["", "91440300192203821", "9144030019220382160"])
def test_wrong_length_is_reported(code):
    assert uscc_error(code) == "length"


def test_lowercase_and_whitespace_are_normalised():
    assert is_valid_uscc(" 9144030071526726xg ")
    assert is_valid_uscc("9144 0300 7152 6726 XG")


def test_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        uscc_check_char("9144030019220382")


def test_org_code_inner_check_passes_for_real_code():
    assert org_code_warning("914403001922038216") is False


def test_org_code_warning_for_code_with_bad_inner_check():
    assert is_valid_uscc("91420100MA4KLM3N03")
    assert org_code_warning("91420100MA4KLM3N03") is True


def test_org_code_inner_check_uses_x_for_ten():
    assert org_code_warning("9144030071526726XG") is False
