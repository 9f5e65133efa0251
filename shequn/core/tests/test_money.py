from decimal import Decimal

import pytest
from django import forms
from hypothesis import example, given
from hypothesis import strategies as st

from shequn.core.forms import YuanField
from shequn.core.money import (
    MAX_FEN,
    InvalidAmount,
    format_fen,
    format_yuan_input,
    parse_yuan,
    percent_of,
    split_by_weights,
)
from shequn.core.pages import field_errors


def test_format_fen_shows_yuan_with_two_decimals():
    assert format_fen(2990) == "¥29.90"
    assert format_fen(5) == "¥0.05"
    assert format_fen(1234567) == "¥12,345.67"
    assert format_fen(-100) == "-¥1.00"


def test_split_gives_leftover_fen_to_largest_remainders():
    # 100 fen over three equal weights: 34 + 33 + 33, the first part wins the tie.
    assert split_by_weights(100, [1, 1, 1]) == [34, 33, 33]
    # 10 fen by 1:2:2 → exact shares 2, 4, 4.
    assert split_by_weights(10, [1, 2, 2]) == [2, 4, 4]
    assert split_by_weights(0, [3, 4]) == [0, 0]


def test_split_with_zero_weights_shares_equally():
    assert split_by_weights(5, [0, 0]) == [3, 2]


def test_percent_of_rounds_half_up():
    assert percent_of(1000, 250) == 25  # 2.5 % of ¥10
    assert percent_of(199, 5000) == 100  # 99.5 fen rounds up


@given(
    total=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30),
)
def test_split_parts_always_sum_to_the_whole(total, weights):
    parts = split_by_weights(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    weight_sum = sum(weights)
    if weight_sum:
        # Each part is within one fen of its exact proportional share.
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - total * weight / weight_sum) < 1


# --- reading yuan typed by people ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("35", 3500),
        ("35.9", 3590),
        ("35.90", 3590),
        ("  35.90 ", 3590),
        ("¥35.90", 3590),
        ("￥３５．９０", 3590),  # full-width, as a Chinese input method types it
        ("0", 0),
        ("0.01", 1),
        (".5", 50),
        ("5.", 500),
        ("1,234.50", 123450),  # grouped as format_fen writes it
        ("21,474,836.47", MAX_FEN),
        ("21474836.47", MAX_FEN),
    ],
)
def test_parse_yuan_reads_what_people_type(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inf", "请输入金额，如 35.90，最多两位小数"),
        ("-inf", "请输入金额，如 35.90，最多两位小数"),
        ("Infinity", "请输入金额，如 35.90，最多两位小数"),
        ("NaN", "请输入金额，如 35.90，最多两位小数"),
        ("1e400", "请输入金额，如 35.90，最多两位小数"),
        ("1e3", "请输入金额，如 35.90，最多两位小数"),
        ("1E+2", "请输入金额，如 35.90，最多两位小数"),
        ("0x10", "请输入金额，如 35.90，最多两位小数"),
        ("1_000", "请输入金额，如 35.90，最多两位小数"),
        ("1,00", "请输入金额，如 35.90，最多两位小数"),  # a decimal comma is ambiguous
        ("1 000", "请输入金额，如 35.90，最多两位小数"),
        ("abc", "请输入金额，如 35.90，最多两位小数"),
        ("35元", "请输入金额，如 35.90，最多两位小数"),
        ("\x00", "请输入金额，如 35.90，最多两位小数"),
        ("٣٥", "请输入金额，如 35.90，最多两位小数"),  # digits of another script
        (".", "请输入金额，如 35.90，最多两位小数"),
        ("¥", "请输入金额，如 35.90，最多两位小数"),
        ("--1", "请输入金额，如 35.90，最多两位小数"),
        ("1.234", "金额最多两位小数"),
        ("35.900", "金额最多两位小数"),
        ("-1", "金额不能为负数"),
        ("-0.01", "金额不能为负数"),
        ("21474836.48", "金额不能超过 ¥21,474,836.47"),
        ("99999999999", "金额不能超过 ¥21,474,836.47"),
        ("9" * 5000, "金额不能超过 ¥21,474,836.47"),  # refused before any arithmetic
        ("", "请输入金额"),
        ("   ", "请输入金额"),
        (None, "请输入金额"),
    ],
)
def test_parse_yuan_refuses_with_a_message_for_people(text, message):
    with pytest.raises(InvalidAmount) as raised:
        parse_yuan(text)
    assert raised.value.message == message
    assert raised.value.code == "invalid_amount"
    assert raised.value.status == 422


def test_parse_yuan_bounds_are_the_callers_to_narrow():
    assert parse_yuan("100", max_fen=10000) == 10000
    with pytest.raises(InvalidAmount, match=r"金额不能超过 ¥100\.00"):
        parse_yuan("100.01", max_fen=10000)
    with pytest.raises(InvalidAmount, match=r"金额不能低于 ¥0\.01"):
        parse_yuan("0", min_fen=1)
    assert parse_yuan("-5", min_fen=-1000) == -500


def test_parse_yuan_blank_is_none_when_not_required():
    assert parse_yuan("", required=False) is None
    assert parse_yuan("  ", required=False) is None
    with pytest.raises(InvalidAmount):
        parse_yuan("abc", required=False)


def test_parse_yuan_names_the_field_for_re_rendering_a_form():
    with pytest.raises(InvalidAmount) as raised:
        parse_yuan("1.234", field="price_fen")
    assert field_errors(raised.value) == {"price_fen": "金额最多两位小数"}
    assert isinstance(raised.value, ValueError)  # a pydantic validator may raise it as is


def test_format_yuan_input_is_the_value_of_an_input_box():
    assert format_yuan_input(3590) == "35.90"
    assert format_yuan_input(5) == "0.05"
    assert format_yuan_input(0) == "0.00"
    assert format_yuan_input(MAX_FEN) == "21474836.47"
    assert format_yuan_input(-150) == "-1.50"
    assert format_yuan_input(None) == ""


@given(st.integers(min_value=0, max_value=MAX_FEN))
@example(0)
@example(MAX_FEN)
def test_yuan_round_trips_through_the_input_box_and_the_display(fen):
    assert parse_yuan(format_yuan_input(fen)) == fen
    assert parse_yuan(format_fen(fen)) == fen


@given(st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False, allow_infinity=False))
def test_parse_yuan_refuses_a_third_decimal(amount):
    text = f"{amount:f}"  # always written with three decimals
    with pytest.raises(InvalidAmount, match="金额最多两位小数"):
        parse_yuan(text)
    assert parse_yuan(text[:-1]) == int(Decimal(text[:-1]) * 100)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_parse_yuan_of_any_float_text_is_fen_or_its_own_refusal(number):
    try:
        fen = parse_yuan(str(number))
    except InvalidAmount:
        return
    assert isinstance(fen, int)
    assert 0 <= fen <= MAX_FEN


@given(st.text(max_size=50))
def test_parse_yuan_never_fails_other_than_with_its_own_error(text):
    try:
        fen = parse_yuan(text, required=False)
    except InvalidAmount:
        return
    assert fen is None or 0 <= fen <= MAX_FEN


# --- the form field --------------------------------------------------------------------------


class _PriceForm(forms.Form):
    price = YuanField(label="售价（元）")
    fee = YuanField(label="运费（元）", required=False, max_fen=10000)


def test_yuan_field_cleans_to_fen():
    form = _PriceForm({"price": "35.90", "fee": ""})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"price": 3590, "fee": None}


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("inf", "请输入金额，如 35.90，最多两位小数"),
        ("1e400", "请输入金额，如 35.90，最多两位小数"),
        ("NaN", "请输入金额，如 35.90，最多两位小数"),
        ("-1", "金额不能为负数"),
        ("1.234", "金额最多两位小数"),
        ("99999999999", "金额不能超过 ¥21,474,836.47"),
        ("", "请输入金额"),
    ],
)
def test_yuan_field_errors_stay_with_the_field(price, message):
    form = _PriceForm({"price": price, "fee": "100.01"})
    assert not form.is_valid()
    assert form.errors == {"price": [message], "fee": ["金额不能超过 ¥100.00"]}


def test_yuan_field_shows_fen_as_yuan_and_keeps_what_was_typed():
    assert 'value="35.90"' in str(_PriceForm(initial={"price": 3590})["price"])
    assert 'inputmode="decimal"' in str(_PriceForm()["price"])
    assert 'value="1.234"' in str(_PriceForm({"price": "1.234"})["price"])
