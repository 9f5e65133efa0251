"""接龙 gate tickets: a member's signed right to sign up for one campaign (``gate.tickets``).

Not to be confused with the queue ticket a sign-up answers with (the first claim's id, polled on
``/sign-up-tickets/{ticket}``): this one is sent *with* the sign-up, as ``X-Jielong-Ticket``.

The checks that need the database run once, when the campaign page or ``POST
/api/v1/groupbuy/campaigns/{id}/ticket`` issues it (``actions.issue_ticket``): signed in, a member
of a community taking part, which of the campaign's leaders the member may choose and the default
one, and the campaign's item ids (fixed once published). A ticket is
``<member>.<campaign>.<default leader>.<leaders>.<items>.<expires>.<signature>`` (lists as ids
joined by ``-``). The sign-up endpoint, the thin front's or Django's, verifies it with no session
and no SQL (docs/adr/0012-jielong-through-the-gate.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from shequn.gate.tickets import TicketKind, id_list, ids

from .errors import SignUpPassExpired, SignUpPassInvalid

HEADER = "X-Jielong-Ticket"
KIND = TicketKind(
    salt=b"shequn.groupbuy.ticket",
    fields=5,
    invalid=lambda: SignUpPassInvalid(_("接龙凭证无效，请刷新页面")),
    expired=lambda: SignUpPassExpired(_("接龙凭证已过期，请刷新页面")),
    max_length=600,  # 20 items and a few leaders
)


@dataclass(frozen=True)
class Ticket:
    member_id: int
    campaign_id: int
    default_leader_id: int
    leader_ids: tuple[int, ...]
    item_ids: tuple[int, ...]
    expires: int  # epoch seconds
    token: str


def sign(
    member_id: int,
    campaign_id: int,
    default_leader_id: int,
    leader_ids: Sequence[int],
    item_ids: Sequence[int],
    *,
    now: float | None = None,
) -> Ticket:
    fields = [str(member_id), str(campaign_id), str(default_leader_id), id_list(leader_ids), id_list(item_ids)]
    token, expires = KIND.sign(fields, now=now)
    return Ticket(
        member_id=member_id,
        campaign_id=campaign_id,
        default_leader_id=default_leader_id,
        leader_ids=tuple(leader_ids),
        item_ids=tuple(item_ids),
        expires=expires,
        token=token,
    )


def verify(token: str, campaign_id: int | None = None, *, now: float | None = None) -> Ticket:
    """The ticket, or ``SignUpPassInvalid`` (403: malformed, forged, another campaign's) /
    ``SignUpPassExpired`` (401)."""
    (member, campaign, default, leaders, items), expires = KIND.verify(token, now=now)
    if "-" in member + campaign + default:
        raise KIND.invalid()
    ticket = Ticket(
        member_id=int(member),
        campaign_id=int(campaign),
        default_leader_id=int(default),
        leader_ids=ids(leaders),
        item_ids=ids(items),
        expires=expires,
        token=token,
    )
    if campaign_id is not None:
        require_campaign(ticket, campaign_id)
    return ticket


def require_campaign(ticket: Ticket, campaign_id: int) -> None:
    if ticket.campaign_id != campaign_id:
        raise SignUpPassInvalid(_("接龙凭证与活动不符，请刷新页面"))
