"""Red-packet API under /api/v1/redpackets: members (a packet, a ticket, grab) and operators
(/console/...: list and fund pools with their figures, the shop's setting)."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.security import APIKeyHeader

from shequn.accounts.auth import BearerTokenAuth, SessionCookieAuth
from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_SHOP

from . import actions, selectors, tickets
from .schemas import (
    RedPacketAdmissionOut,
    RedPacketIn,
    RedPacketMemberOut,
    RedPacketOut,
    RedPacketSettingsIn,
    RedPacketSettingsOut,
    RedPacketTicketOut,
)

router = Router(tags=["redpackets"])
console = Router(tags=["redpackets console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 429)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get("/{int:packet_id}", response={200: RedPacketMemberOut, **READ_ERRORS}, url_name="red_packet")
def packet(request: HttpRequest, packet_id: Id) -> RedPacketMemberOut:
    """The packet page's figures: phase, parts left, my amount, 手气最佳 and the grabs (names masked).
    While my grab is queued at the gate, reading the packet writes it (``my_amount_fen`` appears)."""
    found = selectors.member_packet(packet_id)
    actions.catch_up(found, request.user)
    return RedPacketMemberOut.from_view(selectors.packet_view(found, request.user))


@router.post(
    "/{int:packet_id}/ticket", response={200: RedPacketTicketOut, **WRITE_ERRORS}, url_name="red_packet_ticket"
)
def ticket(request: HttpRequest, packet_id: Id) -> RedPacketTicketOut:
    """A short-lived gate ticket for this packet; send it as ``X-RedPacket-Ticket`` with the grab.
    403 ``red_packet_audience_only``; 404 ``red_packet_not_found``."""
    return RedPacketTicketOut.from_ticket(actions.issue_ticket(request.user, packet_id))


class RedPacketTicketAuth(APIKeyHeader):
    """``X-RedPacket-Ticket: <ticket>``: verified with no session or database lookup (401
    ``red_packet_ticket_expired``, 403 ``red_packet_ticket_invalid``)."""

    param_name = tickets.HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return tickets.verify(key) if key else None


@router.post(
    "/{int:packet_id}/grabs",
    response={202: RedPacketAdmissionOut, **WRITE_ERRORS},
    auth=[RedPacketTicketAuth(), BearerTokenAuth(), SessionCookieAuth(csrf=True)],
    url_name="red_packet_grab",
)
def grab(request: HttpRequest, packet_id: Id) -> Status[RedPacketAdmissionOut]:
    """Grab (抢): 202 with a claim id (queued: read the packet until ``my_amount_fen`` appears), or 409
    with why not: ``red_packet_not_open``, ``red_packet_closed``, ``red_packet_already_grabbed``,
    ``red_packet_all_grabbed``, ``red_packet_busy``; 429 ``red_packet_rate_limited``; 403
    ``red_packet_audience_only``. With an ``X-RedPacket-Ticket`` the thin front (shequn/front.py)
    answers this path itself, in the same words."""
    signed_in = request.auth  # type: ignore[attr-defined]  # set by ninja's authentication
    if isinstance(signed_in, tickets.Ticket):
        if signed_in.packet_id != packet_id:
            raise tickets.KIND.invalid()
        admission = actions.admit(signed_in.member_id, packet_id, client_ip=client_ip(request))
    else:
        admission = actions.grab(request.user, packet_id, client_ip=client_ip(request))
    return Status(202, RedPacketAdmissionOut.from_admission(admission))


# --- operators -------------------------------------------------------------------------


@console.get("/packets", response={200: Page[RedPacketOut], **CONSOLE_ERRORS}, url_name="red_packet_console_list")
def console_packets(request: HttpRequest, query: Query[PageQuery]) -> dict:
    """The shop's packets, newest first, each with its figures (granted, grabbed, returned, held,
    and the orders and sales it drove)."""
    shop = api_console_shop(request, MANAGE_SHOP)
    page = paginate(selectors.shop_packets(shop), query.page, query.page_size)
    driven = selectors.driven(shop, page["items"])
    page["items"] = [RedPacketOut.from_model(found, driven[found.pk]) for found in page["items"]]
    return page


@console.post("/packets", response={201: RedPacketOut, **CONSOLE_ERRORS}, url_name="red_packet_console_fund")
def console_fund(request: HttpRequest, body: RedPacketIn) -> Status[RedPacketOut]:
    """Create and fund a pool from the shop's promotion account (422 ``red_packet_invalid`` says
    what to fix). Its parts are drawn now; members grab from ``starts_at`` until ``expires_at``;
    what nobody grabbed returns to the shop at expiry."""
    shop = api_console_shop(request, MANAGE_SHOP)
    funded = actions.fund_packet(shop, request.user, body.to_input(), ip=client_ip(request))
    return Status(201, RedPacketOut.from_model(funded, selectors.driven(shop, [funded])[funded.pk]))


@console.get("/packets/{int:packet_id}", response={200: RedPacketOut, **CONSOLE_ERRORS}, url_name="red_packet_console")
def console_packet(request: HttpRequest, packet_id: Id) -> RedPacketOut:
    shop = api_console_shop(request, MANAGE_SHOP)
    packet = selectors.access_packet(shop, packet_id)
    return RedPacketOut.from_model(packet, selectors.driven(shop, [packet])[packet.pk])


@console.get("/settings", response={200: RedPacketSettingsOut, **CONSOLE_ERRORS}, url_name="red_packet_settings")
def console_settings(request: HttpRequest) -> RedPacketSettingsOut:
    shop = api_console_shop(request, MANAGE_SHOP)
    return RedPacketSettingsOut(withdrawable=actions.shop_settings(shop).withdrawable)


@console.put("/settings", response={200: RedPacketSettingsOut, **CONSOLE_ERRORS}, url_name="red_packet_settings_update")
def console_update_settings(request: HttpRequest, body: RedPacketSettingsIn) -> RedPacketSettingsOut:
    """Whether grabbed money may be withdrawn; applies to packets funded from now on."""
    shop = api_console_shop(request, MANAGE_SHOP)
    found = actions.update_settings(shop, request.user, withdrawable=body.withdrawable, ip=client_ip(request))
    return RedPacketSettingsOut(withdrawable=found.withdrawable)


router.add_router("/console", console)
