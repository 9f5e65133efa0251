import pytest

from shequn.core.errors import InvalidInput
from shequn.core.ids import OUT_TRADE_NO, readable_number
from shequn.core.phone import mask_name, mask_phone, normalise_phone


def test_readable_numbers_are_valid_wechat_out_trade_no():
    numbers = {readable_number() for _ in range(200)}
    assert all(OUT_TRADE_NO.match(n) for n in numbers)
    assert all(len(n) == 20 for n in numbers)
    assert len(numbers) > 190  # random suffix: collisions are rare (and the DB rejects them)
    assert OUT_TRADE_NO.match(readable_number("R"))


@pytest.mark.parametrize("raw", ["13812341234", "+86 138 1234 1234", "0086-138-1234-1234"])
def test_phone_numbers_are_normalised(raw):
    assert normalise_phone(raw) == "13812341234"


@pytest.mark.parametrize("raw", ["", "12345", "23812341234", "1381234123a"])
def test_bad_phone_numbers_get_a_clear_error(raw):
    with pytest.raises(InvalidInput) as error:
        normalise_phone(raw)
    assert error.value.code == "invalid_phone"


def test_masking():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_name("王小明") == "王**"
    assert mask_name("李") == "李*"
