"""Pinyin keys for search: full pinyin without tones and initials, lower-case, letters and digits only.

三文鱼刺身 → ("sanwenyucishen", "swycs"); so "sanwenyu", "swy" and "三文鱼" all find it.
"""

import re

from pypinyin import Style, lazy_pinyin

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _squash(parts: list[str]) -> str:
    return _NOT_ALNUM.sub("", "".join(parts).lower())


def pinyin_keys(title: str) -> tuple[str, str]:
    """(full pinyin, initials) of ``title``; non-Chinese text is kept as it is (lower-cased)."""
    full = _squash(lazy_pinyin(title, errors="default"))
    initials = _squash(lazy_pinyin(title, style=Style.FIRST_LETTER, errors="default"))
    return full[:500], initials[:120]


def normalise_query(query: str) -> str:
    """A search box value as it is matched against the pinyin keys."""
    return _squash([query or ""])
