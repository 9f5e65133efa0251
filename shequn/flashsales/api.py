"""Flash-sale API under /api/v1/flashsales: members (open sales, a sale, reserve, attempt, claim
status) and operators (/console/...: list, create, edit, schedule, pause, resume, end, counters
with the reconciler's figures)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.security import APIKeyHeader

from shequn.accounts.auth import BearerTokenAuth, SessionCookieAuth
from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, Text, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.models import Shop
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors, tickets
from .schemas import (
    FlashAdmissionOut,
    FlashAttemptIn,
    FlashClaimOut,
    FlashConsoleSaleOut,
    FlashCountersOut,
    FlashMemberSaleOut,
    FlashReservationOut,
    FlashSaleIn,
    FlashSaleOut,
    FlashTicketOut,
)

router = Router(tags=["flashsales"])
console = Router(tags=["flashsales console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 429)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


# --- members ---------------------------------------------------------------------------


@router.get("/sales", response={200: Page[FlashSaleOut], **READ_ERRORS})
def open_sales(request: HttpRequest, query: Query[PageQuery]) -> dict:
    """Published sales not yet over, newest first."""
    page = paginate(selectors.open_sales().prefetch_related("sessions"), query.page, query.page_size)
    page["items"] = [FlashSaleOut.from_model(sale) for sale in page["items"]]
    return page


@router.get("/sales/{int:sale_id}", response={200: FlashMemberSaleOut, **READ_ERRORS})
def sale(request: HttpRequest, sale_id: Id) -> FlashMemberSaleOut:
    """The sale page's figures: phase, countdown target, items with units left, my reservation and claims."""
    return FlashMemberSaleOut.from_view(selectors.member_view(selectors.member_sale(sale_id), request.user))


@router.post("/sales/{int:sale_id}/reservation", response={200: FlashReservationOut, **WRITE_ERRORS})
def reserve(request: HttpRequest, sale_id: Id) -> FlashReservationOut:
    """Reserve (预约); idempotent. 409 ``flash_reservation_closed``; 403 ``flash_members_only``."""
    _, created = actions.reserve(request.user, sale_id)
    count = selectors.member_sale(sale_id).reservation_count
    return FlashReservationOut(reserved=True, created=created, reservation_count=count)


class FlashTicketAuth(APIKeyHeader):
    """``X-Flash-Ticket: <ticket>``: the gate ticket from ``POST /items/{id}/ticket``, verified with no
    session or database lookup (401 ``flash_ticket_expired``, 403 ``flash_ticket_invalid``)."""

    param_name = tickets.HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return tickets.verify(key) if key else None


@router.post("/items/{int:item_id}/ticket", response={200: FlashTicketOut, **WRITE_ERRORS})
def ticket(request: HttpRequest, item_id: Id) -> FlashTicketOut:
    """A short-lived gate ticket for this item; send it as ``X-Flash-Ticket`` with each attempt.
    403 ``flash_members_only``; 404 ``flash_item_not_found``."""
    return FlashTicketOut.from_ticket(actions.issue_ticket(request.user, item_id))


@router.post(
    "/items/{int:item_id}/attempts",
    response={202: FlashAdmissionOut, **WRITE_ERRORS},
    auth=[FlashTicketAuth(), BearerTokenAuth(), SessionCookieAuth(csrf=True)],
)
def attempt(request: HttpRequest, item_id: Id, body: FlashAttemptIn) -> Status[FlashAdmissionOut]:
    """Try to buy: 202 with a claim id (queued; poll the claim until its order exists), or 409 with
    why not: ``flash_not_open``, ``flash_closed``, ``flash_paused``, ``flash_priority_only``,
    ``flash_over_cap``, ``flash_sold_out``, ``flash_busy``; 429 ``flash_rate_limited``; 403
    ``flash_members_only``. With an ``X-Flash-Ticket`` the thin front (shequn/front.py) answers this
    path itself, in the same words; without one, the session or bearer token signs the member in."""
    signed_in = request.auth  # type: ignore[attr-defined]  # set by ninja's authentication
    if isinstance(signed_in, tickets.Ticket):
        tickets.require_item(signed_in, item_id)
        admission = actions.admit(
            signed_in.member_id, item_id, body.quantity, cap=signed_in.cap, client_ip=client_ip(request)
        )
    else:
        admission = actions.attempt(request.user, item_id, body.quantity, client_ip=client_ip(request))
    return Status(202, FlashAdmissionOut.from_admission(admission))


@router.get("/claims/{claim_id}", response={200: FlashClaimOut, **READ_ERRORS})
def claim(request: HttpRequest, claim_id: Text) -> FlashClaimOut:
    """A claim of mine: ``queued`` until the consumer writes it, then ``ordered`` (with the order) or
    ``released`` (with the reason). Consumers write claims within seconds (a 150,000-unit sale within
    about a minute); a claim still ``queued`` after three minutes was lost with the gate's Redis and
    never becomes an order: its unit is back on sale (the member page says so after 180 polls)."""
    return _claim_out(request, claim_id)


def _claim_out(request: HttpRequest, claim_id: str) -> FlashClaimOut:
    found = actions.claim_status(request.user, claim_id[:64])
    if found is None:
        return FlashClaimOut(claim_id=claim_id[:64], status="queued", status_label=_("排队中"))
    return FlashClaimOut.from_claim(found)


# --- operators -------------------------------------------------------------------------


def _console_sale(shop: Shop, sale_id: int) -> FlashConsoleSaleOut:
    found = selectors.access_sale(shop, sale_id)
    return FlashConsoleSaleOut.from_model(found, selectors.sale_items(found))


@console.get("/sales", response={200: Page[FlashSaleOut], **CONSOLE_ERRORS})
def console_sales(request: HttpRequest, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_CATALOG)
    page = paginate(selectors.shop_sales(shop).prefetch_related("sessions"), query.page, query.page_size)
    page["items"] = [FlashSaleOut.from_model(found) for found in page["items"]]
    return page


@console.post("/sales", response={201: FlashConsoleSaleOut, **CONSOLE_ERRORS})
def console_create(request: HttpRequest, body: FlashSaleIn) -> Status[FlashConsoleSaleOut]:
    """A draft (422 ``flash_sale_invalid`` says what to fix)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    created = actions.create_sale(shop, request.user, body.to_input(), ip=client_ip(request))
    return Status(201, _console_sale(shop, created.pk))


@console.get("/sales/{int:sale_id}", response={200: FlashConsoleSaleOut, **CONSOLE_ERRORS})
def console_sale(request: HttpRequest, sale_id: Id) -> FlashConsoleSaleOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return _console_sale(shop, sale_id)


@console.put("/sales/{int:sale_id}", response={200: FlashConsoleSaleOut, **CONSOLE_ERRORS})
def console_update(request: HttpRequest, sale_id: Id, body: FlashSaleIn) -> FlashConsoleSaleOut:
    """Drafts only (409 ``flash_sale_not_draft``)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.update_sale(shop, request.user, sale_id, body.to_input(), ip=client_ip(request))
    return _console_sale(shop, sale_id)


@console.post("/sales/{int:sale_id}/schedule", response={200: FlashConsoleSaleOut, **CONSOLE_ERRORS})
def console_schedule(request: HttpRequest, sale_id: Id) -> FlashConsoleSaleOut:
    """Publish: reservations open, the gate's pools are configured, reminders scheduled."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.schedule_sale(shop, request.user, sale_id, ip=client_ip(request))
    return _console_sale(shop, sale_id)


@console.post("/sales/{int:sale_id}/pause", response={200: FlashConsoleSaleOut, **CONSOLE_ERRORS})
def console_pause(request: HttpRequest, sale_id: Id) -> FlashConsoleSaleOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.pause_sale(shop, request.user, sale_id, ip=client_ip(request))
    return _console_sale(shop, sale_id)


@console.post("/sales/{int:sale_id}/resume", response={200: FlashConsoleSaleOut, **CONSOLE_ERRORS})
def console_resume(request: HttpRequest, sale_id: Id) -> FlashConsoleSaleOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.resume_sale(shop, request.user, sale_id, ip=client_ip(request))
    return _console_sale(shop, sale_id)


@console.post("/sales/{int:sale_id}/end", response={200: FlashConsoleSaleOut, **CONSOLE_ERRORS})
def console_end(request: HttpRequest, sale_id: Id) -> FlashConsoleSaleOut:
    """End early: the gate admits nobody more; claims already admitted still become orders."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    actions.end_sale(shop, request.user, sale_id, ip=client_ip(request))
    return _console_sale(shop, sale_id)


@console.get("/sales/{int:sale_id}/counters", response={200: FlashCountersOut, **CONSOLE_ERRORS})
def console_counters(request: HttpRequest, sale_id: Id) -> FlashCountersOut:
    """Live figures and, per item, the reconciler's check (at gate + admitted + unpaid + paid = quantity)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    return FlashCountersOut.from_counters(selectors.sale_counters(selectors.access_sale(shop, sale_id)))


router.add_router("/console", console)
