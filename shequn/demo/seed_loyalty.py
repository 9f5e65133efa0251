"""The demo's member card: the shop's rules, three levels (银卡 with member prices on two SKUs and
free shipping, 金卡 with 9.5 折) and cards for the first community's members, made through the
loyalty actions. Skipped when the shop already has its rules, so a second seed changes nothing."""

from typing import Any

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.catalog.weights import SkuPricing
from shequn.communities.models import CommunityMembership
from shequn.loyalty import actions
from shequn.loyalty.models import LoyaltyProgram
from shequn.shops.models import Shop


def seed_loyalty(shop: Shop, operator: Any) -> LoyaltyProgram | None:
    if LoyaltyProgram.objects.filter(shop=shop).exists():
        return None
    program = actions.save_program(
        shop,
        operator,
        actions.ProgramInput(
            is_open=True, points_per_yuan=1, points_per_yuan_off=100, redeem_cap_percent=20, expire_yearly=True
        ),
    )
    actions.save_level(shop, operator, actions.LevelInput(name="普通会员", growth_fen=0))
    silver = actions.save_level(
        shop, operator, actions.LevelInput(name="银卡会员", growth_fen=50000, free_shipping=True)
    )
    actions.save_level(
        shop, operator, actions.LevelInput(name="金卡会员", growth_fen=200000, discount_percent=95, free_shipping=True)
    )
    skus = Sku.objects.filter(
        shop=shop, is_active=True, product__on_shelf=True, product__kind=ProductKind.GOODS, pricing=SkuPricing.PIECE
    )
    actions.set_level_prices(
        shop, operator, silver.pk, {sku.pk: sku.price_fen * 9 // 10 for sku in skus.order_by("pk")[:2]}
    )
    first_community = shop.communities.order_by("pk").first()
    members = CommunityMembership.objects.filter(community=first_community).select_related("user").order_by("pk")
    for membership in members[:100]:
        actions.open_card(membership.user, shop)
    return program
