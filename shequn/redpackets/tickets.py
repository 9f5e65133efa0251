"""Red-packet gate tickets: a member's signed right to grab one packet (``gate.tickets``).

The checks that need the database (signed in, the packet visible, the member in its audience) run
once, when the packet page or ``POST /api/v1/redpackets/{id}/ticket`` issues the ticket
(``actions.issue_ticket``). A ticket is ``<member>.<packet>.<expires>.<signature>``, sent as
``X-RedPacket-Ticket`` with the grab; the thin front (``shequn/front.py``) verifies it with no session
or SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from shequn.gate.tickets import TicketKind

from .errors import TicketExpired, TicketInvalid

HEADER = "X-RedPacket-Ticket"
KIND = TicketKind(
    salt=b"shequn.redpackets.ticket",
    fields=2,
    invalid=lambda: TicketInvalid(_("红包凭证无效，请刷新页面")),
    expired=lambda: TicketExpired(_("红包凭证已过期，请刷新页面")),
)


@dataclass(frozen=True)
class Ticket:
    member_id: int
    packet_id: int
    expires: int  # epoch seconds
    token: str


def sign(member_id: int, packet_id: int, *, now: float | None = None) -> Ticket:
    token, expires = KIND.sign([str(member_id), str(packet_id)], now=now)
    return Ticket(member_id=member_id, packet_id=packet_id, expires=expires, token=token)


def verify(token: str, packet_id: int | None = None, *, now: float | None = None) -> Ticket:
    """The ticket, or ``TicketInvalid`` (403: malformed, forged, another packet's) / ``TicketExpired`` (401)."""
    (member, packet), expires = KIND.verify(token, now=now)
    if "-" in member + packet:
        raise KIND.invalid()
    ticket = Ticket(member_id=int(member), packet_id=int(packet), expires=expires, token=token)
    if packet_id is not None and ticket.packet_id != packet_id:
        raise KIND.invalid()
    return ticket
