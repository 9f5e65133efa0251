"""Signed gate tickets: a member's right to try a crowd moment, checked with no session and no SQL.

The checks that need the database run once, when a page or an API endpoint issues the ticket; the
attempt endpoint (the thin asyncio front, ``shequn/front.py``, or Django's own) then only verifies
an HMAC and an expiry (docs/adr/0010-gate-front.md). Each crowd moment has its own ``TicketKind``
(its salt, its fields, its refusal words): flash sales (``flashsales.tickets``) and 接龙
(``groupbuy.tickets``).

A token is ``<field>.<field>…<expires>.<signature>``: fields of digits (ids, counts) or of ids
joined by ``-`` (id lists), the expiry in epoch seconds, and HMAC-SHA256 over the rest with a key
derived from ``SECRET_KEY`` and the kind's salt (``SECRET_KEY_FALLBACKS`` are accepted too, so a key
rotation does not refuse tickets issued a minute before). Within its lifetime a ticket can be
replayed, but every replay is an attempt by the same member: the gate's per-member cap and rate
limits bound what that buys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from shequn.core.errors import DomainError

TICKET_SECONDS = 600  # long enough for one rush; the page fetches a fresh one after that
FIELD = re.compile(r"[0-9]{1,19}(-[0-9]{1,19})*")


@lru_cache(maxsize=32)
def _key(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


def _signature(salt: bytes, payload: str, secret: str) -> str:
    digest = hmac.new(_key(salt, secret), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class TicketKind:
    """One crowd moment's tickets: ``fields`` values before the expiry; ``invalid`` and ``expired``
    make the refusals (403 and 401 in the kind's words and codes)."""

    salt: bytes
    fields: int
    invalid: Callable[[], DomainError]
    expired: Callable[[], DomainError]
    max_length: int = 200

    def sign(self, fields: Sequence[str], *, now: float | None = None) -> tuple[str, int]:
        """The token and its expiry (epoch seconds)."""
        if len(fields) != self.fields or not all(FIELD.fullmatch(field) for field in fields):
            raise ValueError(f"not this kind's ticket fields: {fields}")
        expires = int((time.time() if now is None else now) + TICKET_SECONDS)
        payload = ".".join([*fields, str(expires)])
        token = f"{payload}.{_signature(self.salt, payload, settings.SECRET_KEY)}"
        if len(token) > self.max_length:
            raise ValueError(f"a ticket longer than {self.max_length} characters")
        return token, expires

    def verify(self, token: str, *, now: float | None = None) -> tuple[list[str], int]:
        """The fields and the expiry, or the kind's ``invalid`` (malformed, forged) or ``expired``
        refusal. Checked in that order: a forged ticket never learns whether it would have expired."""
        parts = token.split(".") if len(token) <= self.max_length else []
        if len(parts) != self.fields + 2 or not all(FIELD.fullmatch(part) for part in parts[:-1]):
            raise self.invalid()
        payload = token.rsplit(".", 1)[0]
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        if not any(hmac.compare_digest(parts[-1], _signature(self.salt, payload, secret)) for secret in secrets):
            raise self.invalid()
        expires = int(parts[-2])
        if (time.time() if now is None else now) >= expires:
            raise self.expired()
        return parts[:-2], expires


def ids(field: str) -> tuple[int, ...]:
    """An id list field (``3-5-9``) as ids."""
    return tuple(int(part) for part in field.split("-"))


def id_list(values: Sequence[int]) -> str:
    return "-".join(str(value) for value in values)
