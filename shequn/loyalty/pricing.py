"""What a card gives at checkout, read for orders (which sits above this app): the level's prices,
discount and free shipping (``Benefits``), and points taken off the goods (``points_offer``).
One pricing for the cart, the checkout quote and the order (orders.actions.price_lines)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _

from shequn.core.money import format_fen, split_by_weights

from . import points
from .enums import PointsAccountKind
from .errors import PointsNotApplicable
from .models import LevelPrice, LoyaltyProgram, MemberCard, MemberLevel

# Whether a shop has member levels, cached: most shops have none, and then checkout (a hot path)
# asks nothing about cards. Saving or deleting a level clears its shop's key; another process
# sees a shop's first level within this many seconds.
LEVELS_CACHE_SECONDS = 300


def levels_cache_key(shop_id: int) -> str:
    return f"loyalty:has-levels:{shop_id}"


def _shops_with_levels(shop_ids: set[int]) -> set[int]:
    keys = {levels_cache_key(pk): pk for pk in shop_ids}
    cached = cache.get_many(list(keys))
    missing = {pk for key, pk in keys.items() if key not in cached}
    if missing:
        having = set(MemberLevel.objects.filter(shop_id__in=missing).values_list("shop_id", flat=True).distinct())
        cache.set_many({levels_cache_key(pk): pk in having for pk in missing}, LEVELS_CACHE_SECONDS)
        cached.update({levels_cache_key(pk): pk in having for pk in missing})
    return {pk for key, pk in keys.items() if cached[key]}


@dataclass(frozen=True)
class Benefits:
    """The member's level in one shop and what it gives."""

    level_id: int
    level_name: str
    discount_percent: int  # 100: none
    free_shipping: bool
    prices: Mapping[int, int] = field(default_factory=dict)  # SKU id → the level's price

    def price_of(self, sku_id: int, shelf_fen: int) -> int | None:
        """The level's price for a SKU at ``shelf_fen``: its price list's, or the level's discount
        (rounded half up, never below 1 fen), whichever is lower; None when neither is below the shelf."""
        candidates = [self.prices.get(sku_id) or shelf_fen]
        if self.discount_percent < 100:
            candidates.append(max(1, (shelf_fen * self.discount_percent + 50) // 100))
        best = min(candidates)
        return best if best < shelf_fen else None


def _benefits(card: MemberCard, prices: Mapping[int, int]) -> Benefits | None:
    level = card.level
    if level is None:
        return None
    return Benefits(
        level_id=level.pk,
        level_name=level.name,
        discount_percent=level.discount_percent,
        free_shipping=level.free_shipping,
        prices=prices,
    )


def benefits(user: Any, shop: Any, sku_ids: Iterable[int]) -> Benefits | None:
    """The benefits of ``user``'s card in ``shop`` for these SKUs (None: no card or no level)."""
    if not getattr(user, "is_authenticated", False):
        return None
    found = benefits_for([(user.pk, getattr(shop, "pk", shop))], sku_ids)
    return found.get((user.pk, getattr(shop, "pk", shop)))


def benefits_for(pairs: Iterable[tuple[int, int]], sku_ids: Iterable[int]) -> dict[tuple[int, int], Benefits]:
    """``Benefits`` by (user id, shop id) for many buyers at once: one query for the cards and
    their levels, one for the levels' prices of these SKUs (none when no card has a level, nothing
    at all for shops without levels)."""
    wanted = set(pairs)
    with_levels = _shops_with_levels({shop_id for _user, shop_id in wanted}) if wanted else set()
    wanted = {(user_id, shop_id) for user_id, shop_id in wanted if shop_id in with_levels}
    if not wanted:
        return {}
    cards = [
        card
        for card in MemberCard.objects.filter(
            user_id__in={user_id for user_id, _shop in wanted},
            shop_id__in={shop_id for _user, shop_id in wanted},
            level__isnull=False,
        ).select_related("level")
        if (card.user_id, card.shop_id) in wanted
    ]
    if not cards:
        return {}
    prices: dict[int, dict[int, int]] = {}
    for level_id, sku_id, price in LevelPrice.objects.filter(
        level_id__in={card.level_id for card in cards}, sku_id__in=set(sku_ids)
    ).values_list("level_id", "sku_id", "price_fen"):
        prices.setdefault(level_id, {})[sku_id] = price
    found = {}
    for card in cards:
        if (benefit := _benefits(card, prices.get(card.level_id or 0, {}))) is not None:
            found[(card.user_id, card.shop_id)] = benefit
    return found


# --- points at checkout ---------------------------------------------------------------------


@dataclass(frozen=True)
class PointsOffer:
    """What ``points`` take off an order's goods, split over its lines (largest remainder)."""

    points: int  # charged: never more than asked
    fen: int
    line_discounts: list[int]


@dataclass(frozen=True)
class PointsQuote:
    """The checkout page's offer: the member's points and the most this order can take."""

    available: int
    max_points: int
    max_fen: int


def _fen_of(program: LoyaltyProgram, points_count: int) -> int:
    return points_count * 100 // program.points_per_yuan_off


def _points_of(program: LoyaltyProgram, fen: int) -> int:
    return -(-fen * program.points_per_yuan_off // 100)  # the fewest points worth ``fen``


def quote(user: Any, shop: Any, goods_paid_fen: int, payable_fen: int) -> PointsQuote | None:
    """How many points this order may take: the shop's cap on the goods (after a coupon), never the
    whole payable amount (WeChat Pay takes no zero), never more than the member has. None when the
    shop has no points or the member has no card."""
    program = LoyaltyProgram.objects.filter(shop=shop).first()
    if program is None or not MemberCard.objects.filter(shop=shop, user=user).exists():
        return None
    available = points.balance(shop, PointsAccountKind.AVAILABLE, user)
    cap_fen = min(goods_paid_fen * program.redeem_cap_percent // 100, payable_fen - 1)
    max_fen = max(0, min(cap_fen, _fen_of(program, available)))
    return PointsQuote(available=available, max_points=_points_of(program, max_fen), max_fen=max_fen)


def points_offer(user: Any, shop: Any, lines_paid_fen: Sequence[int], payable_fen: int, wanted: int) -> PointsOffer:
    """``wanted`` points off the goods whose lines are paid ``lines_paid_fen`` (after a coupon), or
    ``PointsNotApplicable`` saying why not (no card, more than the member has or the cap allows)."""
    offer = quote(user, shop, sum(lines_paid_fen), payable_fen)
    if offer is None:
        raise PointsNotApplicable(_("开通会员卡后才能使用积分"))
    if wanted > offer.available:
        raise PointsNotApplicable(_("积分不足，你有 %(points)s 积分") % {"points": offer.available})
    program = LoyaltyProgram.objects.get(shop=shop)
    fen = _fen_of(program, wanted)
    if fen > offer.max_fen:
        raise PointsNotApplicable(
            _("本单最多可用 %(points)s 积分抵 %(yuan)s")
            % {"points": offer.max_points, "yuan": format_fen(offer.max_fen)},
            details={"max_points": offer.max_points},
        )
    if fen == 0:
        raise PointsNotApplicable(_("积分太少，不够抵扣 ¥0.01"))
    return PointsOffer(points=_points_of(program, fen), fen=fen, line_discounts=split_by_weights(fen, lines_paid_fen))
