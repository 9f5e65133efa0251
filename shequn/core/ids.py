"""Readable, unique identifiers that are also valid WeChat Pay ``out_trade_no`` values."""

import re
import secrets
from collections.abc import Collection

from django.utils import timezone

# WeChat Pay v3: out_trade_no / out_refund_no are 6–32 chars of [0-9A-Za-z_\-*].
OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-*]{6,32}$")


def readable_number(prefix: str = "") -> str:
    """``prefix`` + local date-time to the second + 6 random digits, e.g. 20261122153045123456.

    Sortable by time, readable on the phone, 20 digits (plus prefix) so it fits WeChat's 32.
    Uniqueness is enforced by a database constraint; callers retry on the rare collision.
    """
    now = timezone.localtime()
    number = f"{prefix}{now:%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"
    assert OUT_TRADE_NO.match(number), number
    return number


def readable_numbers(count: int, prefix: str = "", *, avoid: Collection[str] = ()) -> list[str]:
    """``count`` distinct ``readable_number`` values of this second, none of them in ``avoid``
    (a batch of orders: distinct among themselves; the caller checks them against the table)."""
    stamp = f"{prefix}{timezone.localtime():%Y%m%d%H%M%S}"
    numbers: dict[str, None] = {}
    while len(numbers) < count:
        number = f"{stamp}{secrets.randbelow(10**6):06d}"
        if number not in avoid:
            numbers[number] = None
    return list(numbers)


def random_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
