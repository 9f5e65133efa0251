"""Team buy API: members read offers and teams, open and join teams, list their teams;
operators manage offers and see teams under /console/ (X-Shop header)."""

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors
from .models import TeamMember
from .schemas import DestinationIn, MembershipOut, OfferIn, OfferOut, TeamOut, TeamQuery

router = Router(tags=["teambuy"])
console = Router(tags=["teambuy console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 404, 409, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)


def _destination(body: DestinationIn) -> actions.Destination:
    return actions.Destination(
        fulfilment=body.fulfilment,
        pickup_point_id=body.pickup_point_id,
        address_id=body.address_id,
        payment_method=body.payment_method,
    )


def _membership(member: TeamMember) -> MembershipOut:
    # POST there (the payments API) to start paying; the H5 pages use the order page's button.
    return MembershipOut.from_model(member, reverse("api:pay_order", kwargs={"number": member.order.number}))


def _team_out(team_id: int) -> TeamOut:
    team = selectors.public_team(team_id)
    return TeamOut.from_model(team, members=selectors.masked_members(team), seconds_left=selectors.seconds_left(team))


@router.get("/offers/{int:offer_id}", response={200: OfferOut, **READ_ERRORS})
def offer(request: HttpRequest, offer_id: Id) -> OfferOut:
    return OfferOut.from_model(selectors.public_offer(offer_id))


@router.get("/offers/{int:offer_id}/teams", response={200: list[TeamOut], **READ_ERRORS})
def open_teams(request: HttpRequest, offer_id: Id) -> list[TeamOut]:
    """Teams of the offer still forming with a free seat, closest to their deadline first."""
    found = selectors.public_offer(offer_id)
    return [
        TeamOut.from_model(team, seconds_left=selectors.seconds_left(team)) for team in selectors.joinable_teams(found)
    ]


@router.post("/offers/{int:offer_id}/teams", response={201: MembershipOut, **WRITE_ERRORS})
def open_team(request: HttpRequest, offer_id: Id, body: DestinationIn) -> Status[MembershipOut]:
    """Open a team: the caller's order at the team price, to pay at ``pay_url`` before the deadline.
    409 ``team_offer_closed``; 409 ``sold_out``; 422 for a missing pickup point or address."""
    member = actions.do_open_team(request.user, offer_id, _destination(body))
    return Status(201, _membership(member))


@router.get("/teams/{int:team_id}", response={200: TeamOut, **READ_ERRORS})
def team(request: HttpRequest, team_id: Id) -> TeamOut:
    return _team_out(team_id)


@router.post("/teams/{int:team_id}/join", response={201: MembershipOut, **WRITE_ERRORS})
def join_team(request: HttpRequest, team_id: Id, body: DestinationIn) -> Status[MembershipOut]:
    """Take a seat: 409 ``team_full``, ``team_closed`` or ``already_in_team``."""
    member = actions.do_join_team(request.user, team_id, _destination(body))
    return Status(201, _membership(member))


@router.get("/me/teams", response={200: Page[MembershipOut], **error_responses(401, 422)})
def my_teams(request: HttpRequest, query: Query[PageQuery]) -> dict:
    page = paginate(selectors.my_teams(request.user), query.page, query.page_size)
    page["items"] = [_membership(member) for member in page["items"]]
    return page


# --- operator console ----------------------------------------------------------------------


@console.get("/offers", response={200: Page[OfferOut], **CONSOLE_ERRORS})
def console_offers(request: HttpRequest, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_CATALOG)
    page = paginate(selectors.shop_offers(shop), query.page, query.page_size)
    page["items"] = [OfferOut.from_model(offer) for offer in page["items"]]
    return page


def _offer_input(body: OfferIn) -> actions.OfferInput:
    return actions.OfferInput(
        sku_id=body.sku_id,
        team_size=body.team_size,
        team_price_fen=body.team_price_fen,
        time_limit_hours=body.time_limit_hours,
        title=body.title,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        is_active=body.is_active,
    )


@console.post("/offers", response={201: OfferOut, **CONSOLE_ERRORS})
def console_create_offer(request: HttpRequest, body: OfferIn) -> Status[OfferOut]:
    """422 ``invalid_team_offer`` with ``details.fields`` (team size 2..10, team price 1 fen up to
    below the shelf price, time limit 1..72 h, a goods SKU of this shop)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    created = actions.do_create_offer(shop, _offer_input(body), actor=request.user, ip=client_ip(request))
    return Status(201, OfferOut.from_model(created))


@console.get("/offers/{int:offer_id}", response={200: OfferOut, **CONSOLE_ERRORS})
def console_offer(request: HttpRequest, offer_id: Id) -> OfferOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    return OfferOut.from_model(selectors.access_offer(shop, offer_id))


@console.put("/offers/{int:offer_id}", response={200: OfferOut, **CONSOLE_ERRORS})
def console_update_offer(request: HttpRequest, offer_id: Id, body: OfferIn) -> OfferOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = selectors.access_offer(shop, offer_id)
    actions.do_update_offer(shop, found, _offer_input(body), actor=request.user, ip=client_ip(request))
    return OfferOut.from_model(found)


@console.get("/teams", response={200: Page[TeamOut], **CONSOLE_ERRORS})
def console_teams(request: HttpRequest, query: Query[TeamQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_CATALOG)
    page = paginate(
        selectors.shop_teams(shop, status=query.status, offer_id=query.offer_id), query.page, query.page_size
    )
    page["items"] = [TeamOut.from_model(team, seconds_left=selectors.seconds_left(team)) for team in page["items"]]
    return page


@console.get("/teams/{int:team_id}", response={200: TeamOut, **CONSOLE_ERRORS})
def console_team(request: HttpRequest, team_id: Id) -> TeamOut:
    shop = api_console_shop(request, MANAGE_CATALOG)
    found = selectors.access_team(shop, team_id)
    return TeamOut.from_model(
        found, members=selectors.masked_members(found), seconds_left=selectors.seconds_left(found)
    )


router.add_router("/console", console)
