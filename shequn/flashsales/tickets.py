"""Flash-sale gate tickets: a member's signed right to try for one flash item (``gate.tickets``).

The checks that need the database (signed in, the sale visible, the community-only audience) run
once, when the sale page or ``POST /api/v1/flashsales/items/{id}/ticket`` issues the ticket
(``actions.issue_ticket``). A ticket is ``<member>.<item>.<cap>.<expires>.<signature>``: the item's
per-member cap travels with it (fixed once a sale is scheduled; the refusal 每人限购 N 件 needs it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from shequn.gate.tickets import TICKET_SECONDS, TicketKind

from .errors import TicketExpired, TicketInvalid

__all__ = ["HEADER", "TICKET_SECONDS", "Ticket", "require_item", "sign", "verify"]

HEADER = "X-Flash-Ticket"
KIND = TicketKind(
    salt=b"shequn.flashsales.ticket",
    fields=3,
    invalid=lambda: TicketInvalid(_("抢购凭证无效，请刷新页面")),
    expired=lambda: TicketExpired(_("抢购凭证已过期，请刷新页面")),
)


@dataclass(frozen=True)
class Ticket:
    member_id: int
    item_id: int
    cap: int
    expires: int  # epoch seconds
    token: str


def sign(member_id: int, item_id: int, cap: int, *, now: float | None = None) -> Ticket:
    token, expires = KIND.sign([str(member_id), str(item_id), str(cap)], now=now)
    return Ticket(member_id=member_id, item_id=item_id, cap=cap, expires=expires, token=token)


def verify(token: str, item_id: int | None = None, *, now: float | None = None) -> Ticket:
    """The ticket, or ``TicketInvalid`` (403: malformed, forged, another item's) / ``TicketExpired`` (401)."""
    (member, item, cap), expires = KIND.verify(token, now=now)
    if "-" in member + item + cap:
        raise KIND.invalid()
    ticket = Ticket(member_id=int(member), item_id=int(item), cap=int(cap), expires=expires, token=token)
    if item_id is not None:
        require_item(ticket, item_id)
    return ticket


def require_item(ticket: Ticket, item_id: int) -> None:
    if ticket.item_id != item_id:
        raise TicketInvalid(_("抢购凭证与商品不符，请刷新页面"))
