"""Member card API under /api/v1/loyalty: the member's card in a shop, opening it, the points
history; operators (/console/...) set the rules, levels and level prices."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, Text, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_CATALOG
from shequn.shops.selectors import access_shop_by_slug

from . import actions, points, selectors
from .enums import PointsAccountKind
from .errors import CardNotFound
from .schemas import (
    CardOut,
    ExchangeOut,
    LevelPricesIn,
    LevelPricesOut,
    MemberLevelIn,
    MemberLevelOut,
    OpenCardIn,
    PointsEntryOut,
    PointsShopItemIn,
    PointsShopItemOut,
    ProgramIn,
    ProgramOut,
)

router = Router(tags=["loyalty"])
console = Router(tags=["loyalty console"])

READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _card(request: HttpRequest, shop_slug: str) -> dict[str, Any]:
    view = selectors.card_view(request.user, access_shop_by_slug(shop_slug))
    if view is None:
        raise CardNotFound(_("还没有开通会员卡"))
    return CardOut.from_view(view)


@router.get("/cards/{shop_slug}", response={200: CardOut, **READ_ERRORS})
def get_card(request: HttpRequest, shop_slug: Text) -> dict[str, Any]:
    """The member's card in a shop: level, next level, growth, points. 404 ``card_not_found``."""
    return _card(request, shop_slug)


@router.post("/cards/{shop_slug}", response={201: CardOut, **WRITE_ERRORS})
def open_card(request: HttpRequest, shop_slug: Text, body: OpenCardIn) -> Status[Any]:
    """Open the card (free; again: the same card). 404 ``card_not_found`` when the shop has none."""
    shop = access_shop_by_slug(shop_slug)
    actions.open_card(request.user, shop, birthday=body.birthday)
    return Status(201, _card(request, shop_slug))


@router.get("/cards/{shop_slug}/points", response={200: Page[PointsEntryOut], **READ_ERRORS})
def points_history(request: HttpRequest, shop_slug: Text, query: Query[PageQuery]) -> dict[str, Any]:
    """The member's points movements in a shop, newest first."""
    page = paginate(selectors.points_history(access_shop_by_slug(shop_slug), request.user), query.page, query.page_size)
    page["items"] = [PointsEntryOut.from_model(entry) for entry in page["items"]]
    return page


@router.get("/cards/{shop_slug}/shop", response={200: list[PointsShopItemOut], **READ_ERRORS})
def points_shop(request: HttpRequest, shop_slug: Text) -> list[dict[str, Any]]:
    """积分商城: the coupons a member may take for points, fewest points first."""
    return [PointsShopItemOut.from_model(item) for item in selectors.points_shop(access_shop_by_slug(shop_slug))]


@router.post("/cards/{shop_slug}/shop/{int:item_id}/exchange", response={201: ExchangeOut, **WRITE_ERRORS})
def exchange(request: HttpRequest, shop_slug: Text, item_id: Id) -> Status[Any]:
    """Take the item's coupon for its points. 409 ``insufficient_points`` and the coupon's own
    refusals (``coupon_sold_out``, ``coupon_limit_reached`` …); 404 ``card_not_found``."""
    shop = access_shop_by_slug(shop_slug)
    coupon = actions.exchange(request.user, shop, item_id)
    left = points.balance(shop, PointsAccountKind.AVAILABLE, request.user)
    return Status(201, {"coupon_id": coupon.pk, "available_points": left})


# --- console -------------------------------------------------------------------------------


@console.get("/program", response={200: ProgramOut, **READ_ERRORS})
def console_program(request: HttpRequest) -> dict[str, Any]:
    program = selectors.program_of(api_console_shop(request, MANAGE_CATALOG))
    if program is None:
        raise CardNotFound(_("本店暂未开通会员卡"))
    return ProgramOut.from_model(program)


@console.put("/program", response={200: ProgramOut, **WRITE_ERRORS})
def console_save_program(request: HttpRequest, body: ProgramIn) -> dict[str, Any]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    program = actions.save_program(shop, request.user, actions.ProgramInput(**body.model_dump()), ip=client_ip(request))
    return ProgramOut.from_model(program)


@console.get("/levels", response={200: list[MemberLevelOut], **READ_ERRORS})
def console_levels(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        MemberLevelOut.from_model(level) for level in selectors.shop_levels(api_console_shop(request, MANAGE_CATALOG))
    ]


@console.post("/levels", response={201: MemberLevelOut, **WRITE_ERRORS})
def console_create_level(request: HttpRequest, body: MemberLevelIn) -> Status[Any]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    level = actions.save_level(shop, request.user, actions.LevelInput(**body.model_dump()), ip=client_ip(request))
    return Status(201, MemberLevelOut.from_model(level))


@console.put("/levels/{int:level_id}", response={200: MemberLevelOut, **WRITE_ERRORS})
def console_update_level(request: HttpRequest, level_id: Id, body: MemberLevelIn) -> dict[str, Any]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    level = actions.save_level(
        shop, request.user, actions.LevelInput(**body.model_dump()), level_id=level_id, ip=client_ip(request)
    )
    return MemberLevelOut.from_model(level)


@console.post("/shop-items", response={201: PointsShopItemOut, **WRITE_ERRORS})
def console_save_shop_item(request: HttpRequest, body: PointsShopItemIn) -> Status[Any]:
    """Offer one of the shop's coupons in the points shop (again: change its points or take it off)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    item = actions.save_shop_item(
        shop, request.user, body.coupon_template_id, body.points, is_active=body.is_active, ip=client_ip(request)
    )
    return Status(201, PointsShopItemOut.from_model(item))


@console.put("/levels/{int:level_id}/prices", response={200: LevelPricesOut, **WRITE_ERRORS})
def console_level_prices(request: HttpRequest, level_id: Id, body: LevelPricesIn) -> dict[str, Any]:
    """Set (or, with ``price_fen`` null, remove) the level's member prices of these SKUs."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    prices = {row.sku_id: row.price_fen for row in body.prices}
    return {"count": actions.set_level_prices(shop, request.user, level_id, prices, ip=client_ip(request))}


router.add_router("/console", console)
