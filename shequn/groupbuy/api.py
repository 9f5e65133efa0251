"""Group-buying API under /api/v1/groupbuy: members (open campaigns, campaign, live list, sign-up, change,
cancel, my sign-ups), leaders (/leader/...: their campaigns, their point's sign-ups, a campaign
of their own) and operators (/console/...: campaigns across leaders with success rates,
create, edit, publish, cancel)."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.security import APIKeyHeader

from shequn.accounts.auth import BearerTokenAuth, SessionCookieAuth
from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated
from shequn.core.schemas import Id, Page, Text, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors, tickets
from .models import SignUp
from .schemas import (
    CampaignCancelIn,
    CampaignIn,
    CampaignListOut,
    CampaignOut,
    CampaignTicketOut,
    ChangeIn,
    ConsoleCampaignOut,
    GroupBuyCampaignSummaryOut,
    GroupBuyOpenCampaignQuery,
    LeaderRateOut,
    ListEntryOut,
    SignUpIn,
    SignUpOut,
    SignUpTicketOut,
)

router = Router(tags=["groupbuy"])
leader = Router(tags=["groupbuy leader"])
console = Router(tags=["groupbuy console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 404, 409, 422)
SIGN_UP_ERRORS = error_responses(401, 403, 404, 409, 422, 429)
TICKET_ERRORS = error_responses(401, 403, 404, 422)
LEADER_ERRORS = error_responses(401, 403, 404, 409, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _sign_up(entry_id: int) -> SignUpOut:
    entry = (
        selectors.with_position(SignUp.objects.all()).select_related("order").prefetch_related("lines").get(pk=entry_id)
    )
    return SignUpOut.from_model(entry)


# --- members ---------------------------------------------------------------------------


@router.get("/campaigns", response={200: Page[GroupBuyCampaignSummaryOut], **READ_ERRORS})
def open_campaigns(request: HttpRequest, query: Query[GroupBuyOpenCampaignQuery]) -> dict:
    """Campaigns taking sign-ups now in the caller's communities, closing soonest first
    (``community_id``: one of them; 404 ``community_not_found`` for any other community)."""
    found = selectors.open_campaigns(request.user, community_id=query.community_id)
    page = paginate(found, query.page, query.page_size)
    now = timezone.now()
    page["items"] = [GroupBuyCampaignSummaryOut.from_summary(selectors.summarise(c, now=now)) for c in page["items"]]
    return page


@router.get("/campaigns/{int:campaign_id}", response={200: CampaignOut, **READ_ERRORS})
def campaign(request: HttpRequest, campaign_id: Id) -> CampaignOut:
    """A published campaign of a community the caller belongs to (404 otherwise)."""
    return CampaignOut.from_model(selectors.access_member_campaign(request.user, campaign_id))


@router.get("/campaigns/{int:campaign_id}/list", response={200: list[ListEntryOut], **READ_ERRORS})
def live_list(request: HttpRequest, campaign_id: Id) -> list[ListEntryOut]:
    """The live list: confirmed sign-ups in sequence order, names masked ("1. 王** ×2 三文鱼 500g")."""
    found = selectors.access_member_campaign(request.user, campaign_id)
    return [ListEntryOut.from_entry(entry) for entry in selectors.live_list(found)]


class CampaignTicketAuth(APIKeyHeader):
    """``X-Jielong-Ticket: <ticket>``: the gate ticket from ``POST /campaigns/{id}/ticket``, verified
    with no session or database lookup (401 ``campaign_ticket_expired``, 403 ``campaign_ticket_invalid``)."""

    param_name = tickets.HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return tickets.verify(key) if key else None


@router.post("/campaigns/{int:campaign_id}/ticket", response={200: CampaignTicketOut, **TICKET_ERRORS})
def campaign_ticket(request: HttpRequest, campaign_id: Id) -> CampaignTicketOut:
    """A short-lived gate ticket for this campaign; send it as ``X-Jielong-Ticket`` with each sign-up.
    404 ``campaign_not_found`` (not published, or not a campaign of the caller's communities)."""
    return CampaignTicketOut.from_ticket(actions.issue_ticket(request.user, campaign_id))


@router.post(
    "/campaigns/{int:campaign_id}/sign-ups",
    response={202: SignUpTicketOut, **SIGN_UP_ERRORS},
    auth=[CampaignTicketAuth(), BearerTokenAuth(), SessionCookieAuth(csrf=True)],
)
def sign_up(request: HttpRequest, campaign_id: Id, body: SignUpIn) -> Status[SignUpTicketOut]:
    """Sign up through the admission gate: 202 with a ticket at once (排队中; poll
    ``/sign-up-tickets/{ticket}`` until it is ``signed_up`` with the order to pay before the
    deadline), items the gate refused listed in ``refused``; or, when nothing was admitted, 409
    ``campaign_not_open`` / ``campaign_deadline_passed`` / ``campaign_not_started``,
    ``campaign_sold_out``, ``campaign_cap_exceeded``; 429 ``campaign_busy``; 422 ``campaign_invalid``.
    With an ``X-Jielong-Ticket`` the thin front (shequn/front.py) answers this path itself, in the
    same words (403 ``campaign_ticket_invalid``, 401 ``campaign_ticket_expired``); without one, the
    session or bearer token signs the member in."""
    signed_in = request.auth  # type: ignore[attr-defined]  # set by ninja's authentication
    if isinstance(signed_in, tickets.Ticket):
        tickets.require_campaign(signed_in, campaign_id)
        queued = actions.join_with_ticket(
            signed_in, body.quantity_map(), leader_id=body.leader_id, client_ip=client_ip(request)
        )
    else:
        queued = actions.join_queue(
            request.user, campaign_id, body.quantity_map(), leader_id=body.leader_id, client_ip=client_ip(request)
        )
    return Status(202, SignUpTicketOut.from_queued(queued))


@router.get("/sign-up-tickets/{ticket}", response={200: SignUpTicketOut, **READ_ERRORS})
def sign_up_ticket(request: HttpRequest, ticket: Text) -> SignUpTicketOut:
    """My sign-up ticket: ``queued`` (排队中), ``signed_up`` (with the sign-up) or ``released`` (why)."""
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"))
    return SignUpTicketOut.from_claim(ticket[:64], actions.ticket_status(request.user, ticket[:64]))


@router.get("/sign-ups", response={200: list[SignUpOut], **READ_ERRORS})
def my_sign_ups(request: HttpRequest) -> list[SignUpOut]:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"))
    return [SignUpOut.from_model(entry) for entry in selectors.my_sign_ups(request.user)[:100]]


@router.post("/sign-ups/{int:sign_up_id}/change", response={200: SignUpOut, **WRITE_ERRORS})
def change(request: HttpRequest, sign_up_id: Id, body: ChangeIn) -> SignUpOut:
    """Fewer units before the deadline; the difference is refunded automatically, once."""
    entry = actions.change_sign_up(request.user, sign_up_id, {q.item_id: q.quantity for q in body.quantities})
    return _sign_up(entry.pk)


@router.post("/sign-ups/{int:sign_up_id}/cancel", response={200: SignUpOut, **WRITE_ERRORS})
def cancel(request: HttpRequest, sign_up_id: Id) -> SignUpOut:
    """Cancel before the deadline: unpaid → order cancelled; paid → refunded in full, once."""
    entry = actions.cancel_sign_up(request.user, sign_up_id)
    return _sign_up(entry.pk)


# --- leaders ---------------------------------------------------------------------------


@leader.get("/campaigns", response={200: list[CampaignOut], **LEADER_ERRORS})
def leader_campaigns(request: HttpRequest) -> list[CampaignOut]:
    me = selectors.active_leader(request.user)
    return [CampaignOut.from_model(c) for c in selectors.leader_campaigns(me)[:100]]


@leader.get("/campaigns/{int:campaign_id}/sign-ups", response={200: list[ListEntryOut], **LEADER_ERRORS})
def leader_sign_ups(request: HttpRequest, campaign_id: Id) -> list[ListEntryOut]:
    """The live sign-ups of the caller's own pickup point."""
    me = selectors.active_leader(request.user)
    found = selectors.access_leader_campaign(me, campaign_id)
    return [ListEntryOut.from_entry(entry) for entry in selectors.live_list(found, leader=me)]


@leader.post("/campaigns", response={201: CampaignOut, **LEADER_ERRORS})
def leader_create(request: HttpRequest, body: CampaignIn) -> Status[CampaignOut]:
    """A campaign of the leader's own from the shop's catalog, published to their community."""
    me = selectors.active_leader(request.user)
    created = actions.do_create_leader_campaign(me, body.to_input())
    return Status(201, CampaignOut.from_model(selectors.access_leader_campaign(me, created.pk)))


# --- operators -------------------------------------------------------------------------


@console.get("/campaigns", response={200: CampaignListOut, **CONSOLE_ERRORS})
def console_campaigns(request: HttpRequest, status: Text = "") -> CampaignListOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    campaigns = selectors.shop_campaigns(shop)
    rate = selectors.success_rate(campaigns)
    shown = campaigns.filter(status=status) if status else campaigns
    return CampaignListOut(
        items=[ConsoleCampaignOut.from_console(c) for c in shown[:100]],
        closed=rate.closed,
        succeeded=rate.succeeded,
        success_rate_percent=rate.percent,
        leaders=[
            LeaderRateOut(
                leader_id=row.leader.pk,
                point_name=row.leader.point_name,
                closed=row.rate.closed,
                succeeded=row.rate.succeeded,
                success_rate_percent=row.rate.percent,
            )
            for row in selectors.leader_success_rates(shop)
        ],
    )


@console.post("/campaigns", response={201: ConsoleCampaignOut, **CONSOLE_ERRORS})
def console_create(request: HttpRequest, body: CampaignIn) -> Status[ConsoleCampaignOut]:
    """A draft for the chosen leaders (publish to post it in their communities)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    created = actions.do_create_campaign(shop, request.user, body.to_input(), body.leader_ids, ip=client_ip(request))
    return Status(201, ConsoleCampaignOut.from_console(selectors.access_campaign(shop, created.pk)))


@console.get("/campaigns/{int:campaign_id}", response={200: ConsoleCampaignOut, **CONSOLE_ERRORS})
def console_campaign(request: HttpRequest, campaign_id: Id) -> ConsoleCampaignOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return ConsoleCampaignOut.from_console(selectors.access_campaign(shop, campaign_id))


@console.put("/campaigns/{int:campaign_id}", response={200: ConsoleCampaignOut, **CONSOLE_ERRORS})
def console_update(request: HttpRequest, campaign_id: Id, body: CampaignIn) -> ConsoleCampaignOut:
    """Drafts only (409 ``campaign_not_draft`` once published)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = selectors.access_campaign(shop, campaign_id)
    actions.do_update_campaign(shop, found, request.user, body.to_input(), body.leader_ids, ip=client_ip(request))
    return ConsoleCampaignOut.from_console(selectors.access_campaign(shop, campaign_id))


@console.post("/campaigns/{int:campaign_id}/publish", response={200: ConsoleCampaignOut, **CONSOLE_ERRORS})
def console_publish(request: HttpRequest, campaign_id: Id) -> ConsoleCampaignOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = selectors.access_campaign(shop, campaign_id)
    actions.do_publish_campaign(shop, found, request.user, ip=client_ip(request))
    return ConsoleCampaignOut.from_console(selectors.access_campaign(shop, campaign_id))


@console.post("/campaigns/{int:campaign_id}/cancel", response={200: ConsoleCampaignOut, **CONSOLE_ERRORS})
def console_cancel(request: HttpRequest, campaign_id: Id, body: CampaignCancelIn) -> ConsoleCampaignOut:
    """Call it off: every paid sign-up is refunded in full (409 ``campaign_closed`` when over)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = selectors.access_campaign(shop, campaign_id)
    actions.do_cancel_campaign(shop, found, request.user, reason=body.reason, ip=client_ip(request))
    return ConsoleCampaignOut.from_console(selectors.access_campaign(shop, campaign_id))


router.add_router("/leader", leader)
router.add_router("/console", console)
