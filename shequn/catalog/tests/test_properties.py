"""Property tests: yuan ↔ fen parsing and the pinyin keys."""

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from shequn.catalog.forms import parse_yuan, yuan
from shequn.catalog.pinyin import normalise_query, pinyin_keys


@given(st.integers(min_value=0, max_value=10**9))
def test_yuan_round_trips(fen):
    assert parse_yuan(yuan(fen)) == fen


@given(st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False, allow_infinity=False))
def test_parse_yuan_refuses_fractions_of_a_fen(amount):
    text = str(amount)
    if amount == amount.quantize(amount.__class__("0.01")):
        assert parse_yuan(text) == int(amount * 100)
    else:
        with pytest.raises(forms.ValidationError):
            parse_yuan(text)


@pytest.mark.parametrize("text", ["-1", "abc", "1e3x", "NaN", "Infinity"])
def test_parse_yuan_refuses_garbage(text):
    with pytest.raises(forms.ValidationError):
        parse_yuan(text)


@given(st.text(alphabet="三文鱼刺身北极甜虾牛排 0123456789gkAB", max_size=30))
def test_initials_and_full_pinyin_are_searchable_keys(title):
    full, initials = pinyin_keys(title)
    assert full == normalise_query(full)
    assert initials == normalise_query(initials)
    assert len(initials) <= len(full)
