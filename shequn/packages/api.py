"""Prepaid package API under /api/v1/packages: packages for sale, the member's packages (history,
redeem, refund of unused portions), and operators (/console/...: packages, a held package with
counter redemption, liabilities). Buying is the ordinary POST /orders with the plan's sku_id."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.phone import mask_phone
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.gifts.schemas import GiftOut
from shequn.shops.console import api_console_shop
from shequn.shops.models import Shop
from shequn.shops.permissions import FULFIL_ORDERS, MANAGE_CATALOG, VIEW_ORDERS

from . import actions, selectors
from .enums import Channel
from .models import MemberPackage
from .schemas import (
    PackageDetailOut,
    PackageGiftIn,
    PackageHeldOut,
    PackageLiabilitiesOut,
    PackageLiabilityOut,
    PackageOut,
    PackagePlanIn,
    PackagePlanOut,
    PackagePlansQuery,
    PackageRedeemIn,
    PackageRedemptionOut,
)

router = Router(tags=["packages"])
console = Router(tags=["packages console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get("/plans", response={200: Page[PackagePlanOut], **error_responses(422)}, auth=None)
def plans(request: HttpRequest, query: Query[PackagePlansQuery]) -> dict[str, Any]:
    """Packages on sale (of one shop with ``shop``), newest first."""
    shop = Shop.objects.filter(slug=query.shop).first() if query.shop else None
    rows = selectors.plans_for_sale(shop).distinct() if shop or not query.shop else selectors.plans_for_sale().none()
    page = paginate(rows, query.page, query.page_size)
    page["items"] = [PackagePlanOut.from_model(plan) for plan in page["items"]]
    return page


@router.get("/mine", response={200: Page[PackageOut], **READ_ERRORS})
def mine(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    page = paginate(selectors.my_packages(request.user), query.page, query.page_size)
    page["items"] = [PackageOut.from_model(package) for package in page["items"]]
    return page


def _detail(package: MemberPackage) -> dict[str, Any]:
    return PackageDetailOut.from_package(package, selectors.history(package)[:200])


@router.get("/mine/{int:package_id}", response={200: PackageDetailOut, **READ_ERRORS})
def my_package(request: HttpRequest, package_id: Id) -> dict[str, Any]:
    return _detail(selectors.access_my_package(request.user, package_id))


def _redeem(actor: Any, package: MemberPackage, body: PackageRedeemIn, channel: str) -> dict[str, Any]:
    order = actions.redeem(actor, package, channel=channel, **body.model_dump())
    package.refresh_from_db()
    return {"order_number": order.number, "portions_left": package.portions_left}


@router.post("/mine/{int:package_id}/redeem", response={201: PackageRedemptionOut, **WRITE_ERRORS})
def redeem(request: HttpRequest, package_id: Id, body: PackageRedeemIn) -> Status[Any]:
    """Draw portions into a zero-payment order. 409 ``package_portions_short``,
    ``package_not_redeemable`` (``package_expired``, ``package_pickup_only``), ``sold_out``."""
    package = selectors.access_my_package(request.user, package_id)
    return Status(201, _redeem(request.user, package, body, Channel.MEMBER))


@router.post("/mine/{int:package_id}/refund", response={200: PackageDetailOut, **WRITE_ERRORS})
def refund(request: HttpRequest, package_id: Id) -> dict[str, Any]:
    """Refund the unused portions pro rata (the package's rule). 409 ``package_not_refundable``."""
    package = selectors.access_my_package(request.user, package_id)
    actions.do_refund_unused(request.user, package)
    return _detail(selectors.access_my_package(request.user, package_id))


@router.post("/mine/{int:package_id}/gift", response={201: GiftOut, **WRITE_ERRORS})
def send_as_gift(request: HttpRequest, package_id: Id, body: PackageGiftIn) -> Status[Any]:
    """Send a package one bought to a friend: a claim link (``token``), refunded if unclaimed in
    time. 409 ``package_not_giftable`` (received as a gift, a no-refund rule, used up, not active)."""
    package = selectors.access_my_package(request.user, package_id)
    gift = actions.do_send_as_gift(request.user, package, message=body.message)
    return Status(201, GiftOut.from_model(gift))


# --- console ---------------------------------------------------------------------------


@console.get("/plans", response={200: Page[PackagePlanOut], **WRITE_ERRORS})
def console_plans(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    shop = api_console_shop(request, MANAGE_CATALOG)
    page = paginate(selectors.shop_plans(shop).select_related("shop"), query.page, query.page_size)
    page["items"] = [PackagePlanOut.from_model(plan) for plan in page["items"]]
    return page


@console.post("/plans", response={201: PackagePlanOut, **WRITE_ERRORS})
def console_create(request: HttpRequest, body: PackagePlanIn) -> Status[Any]:
    """422 ``package_invalid`` names the field (``details.field``)."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    plan = actions.do_save_plan(shop, actions.PlanInput(**body.model_dump()), actor=request.user, ip=client_ip(request))
    return Status(201, PackagePlanOut.from_model(selectors.access_plan(shop, plan.pk)))


@console.put("/plans/{int:plan_id}", response={200: PackagePlanOut, **WRITE_ERRORS})
def console_update(request: HttpRequest, plan_id: Id, body: PackagePlanIn) -> dict[str, Any]:
    """Once sold, the item and portions are frozen: 422 ``package_invalid``."""
    shop = api_console_shop(request, MANAGE_CATALOG)
    plan = selectors.access_plan(shop, plan_id)
    actions.do_save_plan(
        shop, actions.PlanInput(**body.model_dump()), actor=request.user, plan=plan, ip=client_ip(request)
    )
    return PackagePlanOut.from_model(selectors.access_plan(shop, plan_id))


def _held(package: MemberPackage) -> dict[str, Any]:
    return {
        **_detail(package),
        "owner_phone": mask_phone(package.owner.phone or ""),
        "owner_nickname": package.owner.nickname,
    }


@console.get("/held/{int:package_id}", response={200: PackageHeldOut, **WRITE_ERRORS})
def console_package(request: HttpRequest, package_id: Id) -> dict[str, Any]:
    shop = api_console_shop(request, VIEW_ORDERS)
    return _held(selectors.access_shop_package(shop, package_id))


@console.post("/held/{int:package_id}/redeem", response={201: PackageRedemptionOut, **WRITE_ERRORS})
def console_redeem(request: HttpRequest, package_id: Id, body: PackageRedeemIn) -> Status[Any]:
    """Redeem for the member at the counter (audited); the same refusals as the member's."""
    shop = api_console_shop(request, FULFIL_ORDERS)
    package = selectors.access_shop_package(shop, package_id)
    return Status(201, _redeem(request.user, package, body, Channel.COUNTER))


@console.get("/liabilities", response={200: PackageLiabilitiesOut, **WRITE_ERRORS})
def console_liabilities(request: HttpRequest) -> dict[str, Any]:
    """Unredeemed portions and their value by package, summed from the ledger."""
    rows, total = selectors.liabilities(api_console_shop(request, VIEW_ORDERS))
    return {"rows": [PackageLiabilityOut.from_row(row) for row in rows], "total": PackageLiabilityOut.from_row(total)}


router.add_router("/console", console)
