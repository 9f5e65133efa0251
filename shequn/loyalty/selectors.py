"""Reads for the card pages, the console and the API."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Category, Sku
from shequn.shops.models import Shop

from . import points
from .enums import MEMBER_KINDS
from .errors import LevelNotFound
from .models import LevelPrice, LoyaltyProgram, MemberCard, MemberLevel, PointsEntry, PointsShopItem


def program_of(shop: Shop) -> LoyaltyProgram | None:
    return LoyaltyProgram.objects.filter(shop=shop).first()


def shop_levels(shop: Shop) -> list[MemberLevel]:
    return list(MemberLevel.objects.filter(shop=shop).select_related("birthday_coupon").order_by("growth_fen"))


def access_level(shop: Shop, level_id: int) -> MemberLevel:
    """One of the shop's levels; another shop's id looks absent (404)."""
    level = MemberLevel.objects.filter(shop=shop, pk=level_id).first()
    if level is None:
        raise LevelNotFound(_("等级不存在"))
    return level


@dataclass(frozen=True)
class LevelPriceRow:
    title: str
    spec: str
    shelf_fen: int
    price_fen: int


@dataclass(frozen=True)
class CardView:
    """What the card page and the API show: the card, its level and the next, the points."""

    card: MemberCard
    program: LoyaltyProgram
    levels: list[MemberLevel]
    available_points: int
    pending_points: int

    @property
    def level(self) -> MemberLevel | None:
        return self.card.level

    @property
    def next_level(self) -> MemberLevel | None:
        return next((level for level in self.levels if level.growth_fen > self.card.growth_fen), None)

    @property
    def growth_to_next_fen(self) -> int | None:
        following = self.next_level
        return following.growth_fen - self.card.growth_fen if following else None

    @property
    def progress_percent(self) -> int:
        """How far from this level's threshold to the next one (100 at the top level)."""
        following = self.next_level
        if following is None:
            return 100
        start = self.level.growth_fen if self.level else 0
        span = following.growth_fen - start
        return max(0, min(100, (self.card.growth_fen - start) * 100 // span)) if span > 0 else 0


def card_view(user: Any, shop: Shop) -> CardView | None:
    """The member's card in ``shop`` (None: not opened yet)."""
    card = MemberCard.objects.filter(shop=shop, user=user).select_related("level__birthday_coupon").first()
    program = program_of(shop)
    if card is None or program is None:
        return None
    balances = points.member_balances(shop, user)
    pending, available = (balances[kind] for kind in MEMBER_KINDS)
    return CardView(
        card=card, program=program, levels=shop_levels(shop), available_points=available, pending_points=pending
    )


def level_prices(level: MemberLevel, limit: int = 50) -> list[LevelPriceRow]:
    """The level's member prices of SKUs on sale, cheapest saving first shown first."""
    rows = (
        LevelPrice.objects.filter(level=level, sku__is_active=True, sku__product__on_shelf=True)
        .select_related("sku__product")
        .order_by("sku__product__position", "sku__position", "sku_id")[:limit]
    )
    return [
        LevelPriceRow(
            title=row.sku.product.title, spec=row.sku.spec, shelf_fen=row.sku.price_fen, price_fen=row.price_fen
        )
        for row in rows
    ]


def points_history(shop: Shop, user: Any) -> QuerySet[PointsEntry]:
    """The member's points movements in ``shop`` (pending and available), newest first."""
    return (
        PointsEntry.objects.filter(account__shop=shop, account__holder=user)
        .select_related("transaction", "account")
        .order_by("-id")
    )


def member_cards(user: Any) -> QuerySet[MemberCard]:
    """The member's cards in every shop, newest first."""
    return MemberCard.objects.filter(user=user).select_related("shop", "level")


def shop_cards(shop: Shop) -> QuerySet[MemberCard]:
    return MemberCard.objects.filter(shop=shop).select_related("user", "level").order_by("-opened_at", "-id")


def level_price_skus(shop: Shop, limit: int = 200) -> list[Sku]:
    """The shop's active goods SKUs a level may price (the console's price list)."""
    return list(
        Sku.objects.filter(shop=shop, is_active=True, product__kind=ProductKind.GOODS)
        .select_related("product")
        .order_by("product__position", "product_id", "position", "pk")[:limit]
    )


def prices_of(level: MemberLevel) -> dict[int, int]:
    return dict(LevelPrice.objects.filter(level=level).values_list("sku_id", "price_fen"))


def category_rates(shop: Shop) -> list[tuple[Category, int | None]]:
    """Each category of the shop with its own points rate (None: the program's)."""
    categories = list(Category.objects.filter(shop=shop).select_related("points_rate").order_by("position", "pk"))
    return [
        (category, getattr(getattr(category, "points_rate", None), "points_per_yuan", None)) for category in categories
    ]


def points_shop(shop: Shop, *, active_only: bool = True) -> list[PointsShopItem]:
    """The points shop's coupons, fewest points first."""
    rows = PointsShopItem.objects.filter(shop=shop).select_related("coupon_template")
    return list(rows.filter(is_active=True) if active_only else rows)
