"""Gate tickets: a member's signed right to try for one flash item, checked with no session and no SQL.

The checks that need the database (signed in, the sale visible, the community-only audience) run
once, when the sale page or ``POST /api/v1/flashsales/items/{id}/ticket`` issues the ticket
(``actions.issue_ticket``). The attempt endpoint, whether the thin asyncio front
(``shequn/front.py``) or Django's own, then only verifies an HMAC and an expiry and asks the gate.

A ticket is ``<member>.<item>.<cap>.<expires>.<signature>``: ids, the item's per-member cap (fixed
once a sale is scheduled; the refusal 每人限购 N 件 needs it), the expiry in epoch seconds, and
HMAC-SHA256 over the rest with a key derived from ``SECRET_KEY`` (``SECRET_KEY_FALLBACKS`` are
accepted too, so a key rotation does not refuse tickets issued a minute before). Within its
lifetime a ticket can be replayed, but every replay is an attempt by the same member: the gate's
per-member cap and rate limits bound what that buys (docs/adr/0010-gate-front.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from .errors import TicketExpired, TicketInvalid

TICKET_SECONDS = 600  # long enough for one sale's rush; the page fetches a fresh one after that
HEADER = "X-Flash-Ticket"
SALT = b"shequn.flashsales.ticket"
MAX_LENGTH = 200


@dataclass(frozen=True)
class Ticket:
    member_id: int
    item_id: int
    cap: int
    expires: int  # epoch seconds
    token: str


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return hashlib.sha256(SALT + secret.encode()).digest()


def _signature(payload: str, secret: str) -> str:
    digest = hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(member_id: int, item_id: int, cap: int, *, now: float | None = None) -> Ticket:
    expires = int((time.time() if now is None else now) + TICKET_SECONDS)
    payload = f"{member_id}.{item_id}.{cap}.{expires}"
    token = f"{payload}.{_signature(payload, settings.SECRET_KEY)}"
    return Ticket(member_id=member_id, item_id=item_id, cap=cap, expires=expires, token=token)


def verify(token: str, item_id: int | None = None, *, now: float | None = None) -> Ticket:
    """The ticket, or ``TicketInvalid`` (403: malformed, forged, another item's) / ``TicketExpired``
    (401). Checked in that order: a forged ticket never learns whether it would have been expired."""
    parts = token.split(".") if len(token) <= MAX_LENGTH else []
    if len(parts) != 5 or not all(part.isdigit() and len(part) <= 19 for part in parts[:4]):
        raise TicketInvalid("抢购凭证无效，请刷新页面")
    payload = token.rsplit(".", 1)[0]
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(hmac.compare_digest(parts[4], _signature(payload, secret)) for secret in secrets):
        raise TicketInvalid("抢购凭证无效，请刷新页面")
    ticket = Ticket(
        member_id=int(parts[0]), item_id=int(parts[1]), cap=int(parts[2]), expires=int(parts[3]), token=token
    )
    if (time.time() if now is None else now) >= ticket.expires:
        raise TicketExpired("抢购凭证已过期，请刷新页面")
    if item_id is not None:
        require_item(ticket, item_id)
    return ticket


def require_item(ticket: Ticket, item_id: int) -> None:
    if ticket.item_id != item_id:
        raise TicketInvalid("抢购凭证与商品不符，请刷新页面")
