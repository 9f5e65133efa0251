"""Money is integer fen. Every split goes through here so parts always sum to the whole, and
every amount of yuan a person types is read here (``parse_yuan``), never with float."""

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal, overload

from django.db.models import CharField, Func
from django.utils.translation import gettext as _

from .errors import InvalidInput

# The most a PositiveIntegerField (every ``*_fen`` column) holds: ¥21,474,836.47.
MAX_FEN = 2_147_483_647

# What a person may type, after NFKC (full-width ３５．９０ and ￥ become 35.90 and ¥): an
# optional sign, an optional ¥, digits (".5" is half a yuan) (optionally grouped by commas in threes, as format_fen
# writes them), and at most two decimals. No exponents, no NaN or Infinity, no spaces inside.
_AMOUNT = re.compile(r"(?P<sign>[-+]?)¥?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<cents>[0-9]{0,2}))?")
_TOO_PRECISE = re.compile(r"[-+]?¥?[0-9,]*\.[0-9]{3,}")
# Far above any bound: digits beyond this are refused before any arithmetic is done on them.
_MAX_INPUT_LENGTH = 40


def format_fen(fen: int) -> str:
    """¥29.90 for 2990; negative amounts keep their sign in front: -¥1.00."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


class FormatFen(Func):
    """``format_fen`` in SQL, for text written set-based (a message per member, in one INSERT …
    SELECT): FormatFen(Sum("amount_fen")) reads ¥1,234.50, -¥1.00, exactly as format_fen."""

    output_field = CharField()
    arity = 1
    # "{x}" is the amount; a literal % is written %%%% (the template is %-formatted once here,
    # then the driver reads %% as %).
    sqlite = "printf('%%%%s¥%%%%,d.%%%%02d', CASE WHEN {x} < 0 THEN '-' ELSE '' END, abs({x}) / 100, abs({x}) %%%% 100)"
    postgresql = (
        "(CASE WHEN {x} < 0 THEN '-' ELSE '' END || '¥' || to_char(abs(({x})::bigint) / 100, "
        "'FM999,999,999,999,999,990') || '.' || lpad((abs(({x})::bigint) %%%% 100)::text, 2, '0'))"
    )

    def _vendor_sql(self, compiler: Any, connection: Any, template: str, **extra: Any) -> Any:
        sql, params = self.as_sql(compiler, connection, template=template.format(x="%(expressions)s"), **extra)
        return sql, tuple(params) * template.count("{x}")  # the amount's parameters, once per use

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self._vendor_sql(compiler, connection, self.sqlite, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self._vendor_sql(compiler, connection, self.postgresql, **extra)


def format_yuan_input(fen: int | None) -> str:
    """The value of a yuan input box: 3590 → "35.90", None → "". No ¥ and no commas (that is
    ``format_fen``, for reading); ``parse_yuan`` reads this back to the same fen."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan}.{cents:02d}"


class InvalidAmount(InvalidInput, ValueError):
    """An amount typed by a person could not be read. A ``ValueError`` too, so a pydantic
    validator can raise it as is; ``details["fields"]`` names the form field when given."""

    code = "invalid_amount"


@overload
def parse_yuan(
    text: object, *, max_fen: int = ..., min_fen: int = ..., required: Literal[True] = ..., field: str | None = ...
) -> int: ...


@overload
def parse_yuan(
    text: object, *, max_fen: int = ..., min_fen: int = ..., required: bool, field: str | None = ...
) -> int | None: ...


def parse_yuan(
    text: object,
    *,
    max_fen: int = MAX_FEN,
    min_fen: int = 0,
    required: bool = True,
    field: str | None = None,
) -> int | None:
    """Yuan as typed → integer fen: "35" → 3500, "35.9" → 3590, "¥35.90" / "￥３５．９０" → 3590,
    "1,234.50" → 123450.

    Refuses (``InvalidAmount``, a Chinese message fit to show next to the field): more than two
    decimals, exponents ("1e3"), NaN and Infinity, anything but digits, amounts below
    ``min_fen`` (0 by default: no negatives) or above ``max_fen`` (by default what a fen column
    holds). Blank is None when not ``required``. Decimal throughout, never float.
    """

    def refuse(message: str) -> InvalidAmount:
        details = {"fields": {field: message}} if field else None
        return InvalidAmount(message, details=details)

    raw = "" if text is None else str(text)
    cleaned = unicodedata.normalize("NFKC", raw).strip()
    if not cleaned:
        if required:
            raise refuse(_("请输入金额"))
        return None
    if len(cleaned) > _MAX_INPUT_LENGTH:
        raise refuse(_("金额不能超过 %(amount)s") % {"amount": format_fen(max_fen)})
    match = _AMOUNT.fullmatch(cleaned)
    if match is None or not (match["whole"] or match["cents"]):
        if _TOO_PRECISE.fullmatch(cleaned):
            raise refuse(_("金额最多两位小数"))
        raise refuse(_("请输入金额，如 35.90，最多两位小数"))
    digits = f"{match['sign']}{match['whole'].replace(',', '')}.{match['cents'] or '0'}"
    fen = int(Decimal(digits).scaleb(2))  # exact: at most two decimals and a bounded length
    if fen > max_fen:
        raise refuse(_("金额不能超过 %(amount)s") % {"amount": format_fen(max_fen)})
    if fen < min_fen:
        raise refuse(
            _("金额不能为负数") if min_fen == 0 else _("金额不能低于 %(amount)s") % {"amount": format_fen(min_fen)}
        )
    return fen


def split_by_weights(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` fen in proportion to non-negative integer ``weights``.

    Largest-remainder method: each part gets the floor of its exact share, then the
    fen left over go one each to the parts with the largest remainders (earlier parts
    win ties). The parts always sum to ``total``.
    """
    if total < 0:
        return [-part for part in split_by_weights(-total, weights)]
    if not weights:
        if total:
            raise ValueError("cannot split a non-zero amount into no parts")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        # Nothing to weigh by: share equally.
        return split_by_weights(total, [1] * len(weights))
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def percent_of(amount_fen: int, basis_points: int) -> int:
    """``amount_fen`` × ``basis_points`` / 10000, rounded half up, in fen."""
    return (amount_fen * basis_points + 5000) // 10000
