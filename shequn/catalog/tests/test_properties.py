"""Property tests: the pinyin keys. (Yuan ↔ fen parsing is tested in shequn/core/tests/test_money.py.)"""

from hypothesis import given
from hypothesis import strategies as st

from shequn.catalog.pinyin import normalise_query, pinyin_keys


@given(st.text(alphabet="三文鱼刺身北极甜虾牛排 0123456789gkAB", max_size=30))
def test_initials_and_full_pinyin_are_searchable_keys(title):
    full, initials = pinyin_keys(title)
    assert full == normalise_query(full)
    assert initials == normalise_query(initials)
    assert len(initials) <= len(full)
