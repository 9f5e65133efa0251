"""What page tests post into a yuan input box, and where its error must show."""

import re
from html import escape

from shequn.core.money import MAX_FEN, format_fen

UNREADABLE = "请输入金额，如 35.90，最多两位小数"


def yuan_refusals(*, max_fen: int = MAX_FEN, min_fen: int = 0) -> list[tuple[str, str]]:
    """(typed, message) for what every yuan field must refuse with a field error, never a 500:
    infinities and huge exponents (once an OverflowError), NaN, negatives, a third decimal and
    an amount over the field's bound."""
    below = "金额不能为负数" if min_fen == 0 else f"金额不能低于 {format_fen(min_fen)}"
    return [
        ("inf", UNREADABLE),
        ("1e400", UNREADABLE),
        ("NaN", UNREADABLE),
        ("-1", below),
        ("1.234", "金额最多两位小数"),
        ("99999999999", f"金额不能超过 {format_fen(max_fen)}"),
    ]


def beside_input(html: str, name: str) -> str:
    """The input named ``name`` and the markup after it up to the next label or input: where
    its value and its error belong."""
    match = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert match is not None, f"no input named {name}"
    rest = html[match.end() :]
    following = re.search(r"<label|<input|<textarea|<select|<button", rest)
    return match.group(0) + rest[: following.start() if following else len(rest)]


def keeps_typed_value(html: str, name: str, typed: str) -> bool:
    return f'value="{escape(typed)}"' in beside_input(html, name)
