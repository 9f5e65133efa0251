"""Every write of loyalty: cards, levels, the shop's rules, and points earned, settled, reversed,
redeemed, given back and expired (ADR 0020). Orders (above this app) calls the order hooks
explicitly, inside its own transactions: ``earn`` when a goods order is paid, ``settle`` when its
after-sales window closes (the order completes), ``refunded`` when the gateway confirms a refund,
``redeem`` / ``give_back_redeemed`` / ``retake_redeemed`` for points spent at checkout."""

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.catalog.models import Category, Sku
from shequn.core import audit
from shequn.core.errors import Conflict, DomainError
from shequn.core.events import on_commit
from shequn.coupons import actions as coupon_actions
from shequn.coupons.enums import CouponSource
from shequn.coupons.models import CouponTemplate, MemberCoupon
from shequn.shops.models import Shop
from shequn.shops.permissions import MANAGE_CATALOG
from shequn.shops.selectors import require_permission

from . import points, pricing
from .enums import EarningStatus
from .enums import PointsAccountKind as K
from .errors import CardNotFound, LevelNotFound, LoyaltyInvalid, PointsItemNotFound
from .models import (
    CategoryPointsRate,
    Earning,
    LevelPrice,
    LoyaltyProgram,
    MemberCard,
    MemberLevel,
    PointsAccount,
    PointsShopItem,
)

MAX_POINTS_PER_YUAN = 100
MAX_LEVELS = 20

# --- cards ------------------------------------------------------------------------------------


def _check_birthday(birthday: date) -> None:
    if not date(1900, 1, 1) <= birthday <= timezone.localdate():
        raise LoyaltyInvalid(_("请填写正确的生日"), details={"field": "birthday"})


def open_card(user: Any, shop: Shop, *, birthday: date | None = None) -> MemberCard:
    """Open ``user``'s card in ``shop`` (free; opening it again returns the same card)."""
    if birthday is not None:
        _check_birthday(birthday)
    program = LoyaltyProgram.objects.filter(shop=shop).first()
    if program is None or not program.is_open:
        raise CardNotFound(_("本店暂未开通会员卡"))
    existing = MemberCard.objects.filter(shop=shop, user=user).first()
    if existing is not None:
        return existing
    first_level = MemberLevel.objects.filter(shop=shop, growth_fen=0).first()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return MemberCard.objects.create(
                    shop=shop,
                    user=user,
                    number=f"{secrets.randbelow(10**16):016d}",
                    level=first_level,
                    birthday=birthday,
                )
        except IntegrityError:
            if (existing := MemberCard.objects.filter(shop=shop, user=user).first()) is not None:
                return existing  # opened meanwhile (another tab)
    raise Conflict(_("开卡失败，请重试"), code="card_number_taken")


def set_birthday(user: Any, shop: Shop, birthday: date) -> MemberCard:
    """The member's birthday, set once (a birthday that can move would give a coupon a month)."""
    _check_birthday(birthday)
    card = MemberCard.objects.filter(shop=shop, user=user).first()
    if card is None:
        raise CardNotFound(_("请先开通会员卡"))
    if card.birthday is not None:
        raise LoyaltyInvalid(_("生日设置后不能修改"), code="birthday_set")
    MemberCard.objects.filter(pk=card.pk, birthday__isnull=True).update(birthday=birthday)
    card.birthday = birthday
    return card


def _relevel(cards: Any) -> int:
    """Set each card's level to the highest its growth reaches (one UPDATE for all ``cards``)."""
    reached = MemberLevel.objects.filter(shop_id=OuterRef("shop_id"), growth_fen__lte=OuterRef("growth_fen"))
    return cards.update(level=Subquery(reached.order_by("-growth_fen").values("pk")[:1]))


def _grow(card_id: int, delta_fen: int) -> None:
    """Move a card's growth by ``delta_fen`` (never below zero) and its level with it."""
    rows = MemberCard.objects.filter(pk=card_id)
    rows.update(growth_fen=Greatest(F("growth_fen") + delta_fen, 0))
    _relevel(rows)


# --- order hooks (called by orders.actions) -----------------------------------------------------
# ``order`` is an orders.Order (this app sits below orders and reads only its columns: pk, number,
# shop, shop_id, user_id, points_used, total_fen, shipping_fee_fen, refunded_fen).


@dataclass(frozen=True)
class PaidLine:
    """An order line as earning reads it: its id, what was paid for it and its category."""

    line_id: int
    paid_fen: int
    category_id: int | None


def _line_points(paid_fen: int, rate: int) -> int:
    return paid_fen * rate // 100


def earn(order: Any, lines: Sequence[PaidLine]) -> int:
    """A goods order was paid: its points wait (pending) until ``settle``; returns them. Nothing
    for a buyer without a card or a shop without points; earning twice writes nothing."""
    card = (
        MemberCard.objects.filter(shop_id=order.shop_id, user_id=order.user_id)
        .select_related("shop__loyalty_program")
        .first()
    )
    program = getattr(card.shop, "loyalty_program", None) if card else None
    if card is None or program is None:
        return 0
    rates = dict(
        CategoryPointsRate.objects.filter(
            category_id__in={line.category_id for line in lines if line.category_id}
        ).values_list("category_id", "points_per_yuan")
    )
    kept = {
        str(line.line_id): [line.paid_fen, rates.get(line.category_id or 0, program.points_per_yuan)] for line in lines
    }
    earned = sum(_line_points(paid, rate) for paid, rate in kept.values())
    try:
        with transaction.atomic():
            Earning.objects.create(
                shop_id=order.shop_id,
                card=card,
                order_id=order.pk,
                order_number=order.number,
                lines=kept,
                points=earned,
            )
    except IntegrityError:
        return 0  # earned before (a late payment reinstating the order pays once)
    if earned:
        points.move(
            order.shop,
            f"points:earn:order:{order.pk}",
            K.ISSUED,
            K.PENDING,
            order.user_id,
            earned,
            memo=_("订单 %(number)s 消费积分（售后期后入账）") % {"number": order.number},
        )
    return earned


def settle(order: Any) -> bool:
    """The order's after-sales window closed: its pending points become available and what was
    paid and not refunded counts towards the level. Returns False when there was nothing to settle."""
    earning = Earning.objects.filter(order_id=order.pk, status=EarningStatus.PENDING).first()
    if earning is None or not Earning.objects.filter(pk=earning.pk, status=EarningStatus.PENDING).update(
        status=EarningStatus.SETTLED, settled_at=timezone.now()
    ):
        return False  # nothing earned, or settled meanwhile
    earning.refresh_from_db(fields=["reversed_points", "refunded_fen"])
    left = earning.points - earning.reversed_points
    if left > 0:
        points.move(
            order.shop,
            f"points:settle:order:{order.pk}",
            K.PENDING,
            K.AVAILABLE,
            order.user_id,
            left,
            memo=_("订单 %(number)s 售后期结束，积分入账") % {"number": order.number},
        )
    _grow(earning.card_id, sum(paid for paid, _rate in earning.lines.values()) - earning.refunded_fen)
    return True


def refunded(order: Any, *, refund_number: str, line_id: int, amount_fen: int, line_refunded_fen: int) -> None:
    """The gateway confirmed ``amount_fen`` of a line went back (``line_refunded_fen`` and the
    order's ``refunded_fen`` are the totals after it). The line's points for that money are
    reversed (pending ones, or available ones once settled, and the growth with them), and the
    points the order spent come back in proportion to the goods refunded."""
    earning = Earning.objects.filter(order_id=order.pk).first()
    if earning is not None and (kept := earning.lines.get(str(line_id))) is not None:
        _reverse(order, earning, kept, refund_number, amount_fen, line_refunded_fen)
    goods_paid = order.total_fen - order.shipping_fee_fen
    if order.points_used and goods_paid > 0:
        before = min(order.refunded_fen - amount_fen, goods_paid)
        after = min(order.refunded_fen, goods_paid)
        back = order.points_used * after // goods_paid - order.points_used * before // goods_paid
        if back:
            points.move(
                order.shop,
                f"points:return:refund:{refund_number}",
                K.REDEEMED,
                K.AVAILABLE,
                order.user_id,
                back,
                memo=_("订单 %(number)s 退款，退回抵扣的积分") % {"number": order.number},
            )


def _reverse(
    order: Any, earning: Earning, kept: list[int], refund_number: str, amount_fen: int, line_refunded_fen: int
) -> None:
    paid, rate = kept
    due = _line_points(paid - (line_refunded_fen - amount_fen), rate) - _line_points(paid - line_refunded_fen, rate)
    reference = f"points:reverse:refund:{refund_number}"
    memo = _("订单 %(number)s 退款，扣回积分") % {"number": order.number}
    rows = Earning.objects.filter(pk=earning.pk)
    if not rows.filter(status=EarningStatus.SETTLED).exists():
        if due:
            points.move(order.shop, reference, K.PENDING, K.ISSUED, order.user_id, due, memo=memo)
        rows.update(reversed_points=F("reversed_points") + due, refunded_fen=F("refunded_fen") + amount_fen)
        return
    # Settled early (staff completed the order inside the window): take back what is left of the
    # points (they may have been spent: a member's balance never goes negative) and the growth.
    take = min(due, points.balance(order.shop, K.AVAILABLE, order.user_id))
    if take > 0:
        points.move(order.shop, reference, K.AVAILABLE, K.ISSUED, order.user_id, take, memo=memo)
    rows.update(reversed_points=F("reversed_points") + take, refunded_fen=F("refunded_fen") + amount_fen)
    _grow(earning.card_id, -amount_fen)


def redeem(order: Any) -> None:
    """Spend the points the order takes off its goods (checkout, in the order's transaction):
    ``InsufficientPoints`` when they were spent meanwhile (another tab), which undoes the order."""
    if order.points_used:
        points.move(
            order.shop,
            f"points:redeem:order:{order.pk}",
            K.AVAILABLE,
            K.REDEEMED,
            order.user_id,
            order.points_used,
            memo=_("订单 %(number)s 积分抵扣") % {"number": order.number},
        )


def give_back_redeemed(order: Any) -> None:
    """The unpaid order closed or was cancelled: the points it took come back (once)."""
    if order.points_used:
        points.move(
            order.shop,
            f"points:return:order:{order.pk}",
            K.REDEEMED,
            K.AVAILABLE,
            order.user_id,
            order.points_used,
            memo=_("订单 %(number)s 已关闭，退回抵扣的积分") % {"number": order.number},
        )


def retake_redeemed(order: Any) -> None:
    """A late payment reinstates the closed order: its points are spent again, or
    ``InsufficientPoints`` (the reinstating is refused and the payment refunded)."""
    if order.points_used:
        points.move(
            order.shop,
            f"points:retake:order:{order.pk}",
            K.AVAILABLE,
            K.REDEEMED,
            order.user_id,
            order.points_used,
            memo=_("订单 %(number)s 补付款，重新抵扣积分") % {"number": order.number},
        )


# --- expiry and birthdays (daily tasks) ---------------------------------------------------------


def expire_points(*, today: date | None = None, limit: int = 10_000) -> int:
    """Points settled in a calendar year expire at the end of the following year, in shops whose
    rule says so (published on the card page). Spending takes the oldest points first, so what
    expires of year Y is what came in up to its end less everything ever spent, taken back or
    expired. Safe to run any day, any number of times (one reference per account and year)."""
    today = today or timezone.localdate()
    year = today.year - 2  # the end of ``year`` + 1 has passed
    cutoff = timezone.make_aware(datetime(year + 1, 1, 1))
    accounts = (
        PointsAccount.objects.filter(
            kind=K.AVAILABLE,
            balance__gt=0,
            shop__loyalty_program__expire_yearly=True,
        )
        .annotate(
            came_in=Sum(
                "entries__points", filter=Q(entries__points__gt=0, entries__transaction__created_at__lt=cutoff)
            ),
            went_out=Sum("entries__points", filter=Q(entries__points__lt=0)),
        )
        .select_related("shop")
        .order_by("pk")[:limit]
    )
    expired = 0
    for account in accounts:
        due = min((account.came_in or 0) + (account.went_out or 0), account.balance)
        if due > 0 and points.move(
            account.shop,
            f"points:expire:{account.pk}:{year}",
            K.AVAILABLE,
            K.EXPIRED,
            account.holder_id,
            due,
            memo=_("%(year)s 年获得的积分已于 %(next)s 年底过期") % {"year": year, "next": year + 1},
        ):
            expired += due
    return expired


def give_birthday_coupons(*, today: date | None = None, limit: int = 5_000) -> int:
    """On a member's birthday, their level's birthday coupon, once a year (the card's
    ``birthday_coupon_year`` is claimed by a conditional UPDATE first). A coupon the template can
    no longer give (stopped, sold out) is skipped for this year. Returns how many were given."""
    today = today or timezone.localdate()
    cards = (
        MemberCard.objects.filter(
            birthday__month=today.month, birthday__day=today.day, level__birthday_coupon__isnull=False
        )
        .exclude(birthday_coupon_year=today.year)
        .select_related("level__birthday_coupon", "user")
        .order_by("pk")[:limit]
    )
    given = 0
    for card in cards:
        template = card.level.birthday_coupon if card.level else None
        if template is None:
            continue
        with transaction.atomic():
            claimed = MemberCard.objects.filter(pk=card.pk).exclude(birthday_coupon_year=today.year)
            if not claimed.update(birthday_coupon_year=today.year):
                continue
            try:
                with transaction.atomic():
                    coupon_actions.issue(template, card.user, source=CouponSource.BIRTHDAY)
                given += 1
            except DomainError:
                pass  # the template cannot give one now: this year's is skipped
    return given


# --- the points shop ------------------------------------------------------------------------------


def exchange(user: Any, shop: Shop, item_id: int) -> MemberCoupon:
    """Take a coupon of the points shop for its points: the coupon is issued as any other
    (its quantity, per-person limit and audience hold) and the points spent in the same
    transaction, or nothing happens (``InsufficientPoints``, the coupon's own refusals)."""
    item = (
        PointsShopItem.objects.filter(shop=shop, pk=item_id, is_active=True).select_related("coupon_template").first()
    )
    if item is None:
        raise PointsItemNotFound(_("兑换商品不存在或已下架"))
    if not MemberCard.objects.filter(shop=shop, user=user).exists():
        raise CardNotFound(_("请先开通会员卡"))
    template = item.coupon_template
    with transaction.atomic():
        coupon = coupon_actions.issue(template, user, source=CouponSource.POINTS)
        points.move(
            shop,
            f"points:exchange:coupon:{coupon.pk}",
            K.AVAILABLE,
            K.REDEEMED,
            user,
            item.points,
            memo=_("积分兑换「%(name)s」") % {"name": template.name},
        )
    return coupon


def save_shop_item(
    shop: Shop, actor: Any, coupon_template_id: int, points_count: int, *, is_active: bool = True, ip: str | None = None
) -> PointsShopItem:
    """Offer one of the shop's coupons in the points shop for ``points_count`` (again: change it)."""
    require_permission(actor, shop, MANAGE_CATALOG)
    template = CouponTemplate.objects.filter(shop=shop, pk=coupon_template_id).first()
    if template is None:
        raise LoyaltyInvalid(_("优惠券不存在"), details={"field": "coupon_template_id"})
    if not 0 < points_count <= 10_000_000:
        raise LoyaltyInvalid(_("兑换积分须在 1 到 10000000 之间"), details={"field": "points"})
    item, _created = PointsShopItem.objects.update_or_create(
        shop=shop, coupon_template=template, defaults={"points": points_count, "is_active": is_active}
    )
    audit.record(actor=actor, shop=shop, action="loyalty.shop_item", obj=item, ip=ip, points=str(points_count))
    return item


# --- console: the shop's rules, levels and level prices -----------------------------------------


@dataclass(frozen=True)
class ProgramInput:
    is_open: bool
    points_per_yuan: int
    points_per_yuan_off: int
    redeem_cap_percent: int
    expire_yearly: bool


def save_program(shop: Shop, actor: Any, data: ProgramInput, *, ip: str | None = None) -> LoyaltyProgram:
    """Create or change the shop's card and points rules."""
    require_permission(actor, shop, MANAGE_CATALOG)
    if not 0 <= data.points_per_yuan <= MAX_POINTS_PER_YUAN:
        raise LoyaltyInvalid(
            _("每元积分须在 0 到 %(max)s 之间") % {"max": MAX_POINTS_PER_YUAN}, details={"field": "points_per_yuan"}
        )
    if not 1 <= data.points_per_yuan_off <= 10_000:
        raise LoyaltyInvalid(_("抵扣 ¥1 所需积分须在 1 到 10000 之间"), details={"field": "points_per_yuan_off"})
    if not 0 <= data.redeem_cap_percent <= 100:
        raise LoyaltyInvalid(_("抵扣上限须在 0 到 100 之间"), details={"field": "redeem_cap_percent"})
    program, _created = LoyaltyProgram.objects.update_or_create(
        shop=shop,
        defaults={
            "is_open": data.is_open,
            "points_per_yuan": data.points_per_yuan,
            "points_per_yuan_off": data.points_per_yuan_off,
            "redeem_cap_percent": data.redeem_cap_percent,
            "expire_yearly": data.expire_yearly,
        },
    )
    audit.record(actor=actor, shop=shop, action="loyalty.program", obj=program, ip=ip, **_as_text(data.__dict__))
    return program


def _as_text(values: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


@dataclass(frozen=True)
class LevelInput:
    name: str
    growth_fen: int
    discount_percent: int = 100
    free_shipping: bool = False
    birthday_coupon_id: int | None = None


def _check_level(shop: Shop, data: LevelInput, level: MemberLevel | None) -> CouponTemplate | None:
    name = (data.name or "").strip()
    if not name or len(name) > 20:
        raise LoyaltyInvalid(_("等级名称须为 1 到 20 个字"), details={"field": "name"})
    if not 1 <= data.discount_percent <= 100:
        raise LoyaltyInvalid(_("折扣须在 1 到 100 之间（100 为不打折）"), details={"field": "discount_percent"})
    others = MemberLevel.objects.filter(shop=shop)
    if level is not None:
        others = others.exclude(pk=level.pk)
    if others.filter(growth_fen=data.growth_fen).exists():
        raise LoyaltyInvalid(_("已有等级使用这个成长值"), details={"field": "growth_fen"})
    if others.filter(name=name).exists():
        raise LoyaltyInvalid(_("等级名称已存在"), details={"field": "name"})
    if level is None and others.count() >= MAX_LEVELS:
        raise LoyaltyInvalid(_("最多设置 %(max)s 个等级") % {"max": MAX_LEVELS}, details={"field": "name"})
    if data.birthday_coupon_id is None:
        return None
    template = CouponTemplate.objects.filter(shop=shop, pk=data.birthday_coupon_id).first()
    if template is None:
        raise LoyaltyInvalid(_("优惠券不存在"), details={"field": "birthday_coupon_id"})
    return template


def save_level(
    shop: Shop, actor: Any, data: LevelInput, *, level_id: int | None = None, ip: str | None = None
) -> MemberLevel:
    """Create or change a level; every card of the shop moves to the level its growth reaches."""
    require_permission(actor, shop, MANAGE_CATALOG)
    with transaction.atomic():
        level = None
        if level_id is not None:
            level = MemberLevel.objects.select_for_update().filter(shop=shop, pk=level_id).first()
            if level is None:
                raise LevelNotFound(_("等级不存在"))
        template = _check_level(shop, data, level)
        level = level or MemberLevel(shop=shop)
        level.name = data.name.strip()
        level.growth_fen = data.growth_fen
        level.discount_percent = data.discount_percent
        level.free_shipping = data.free_shipping
        level.birthday_coupon = template
        level.save()
        _relevel(MemberCard.objects.filter(shop=shop))
        on_commit(cache.delete, pricing.levels_cache_key(shop.pk))
        audit.record(actor=actor, shop=shop, action="loyalty.level", obj=level, ip=ip, **_as_text(data.__dict__))
    return level


def delete_level(shop: Shop, actor: Any, level_id: int, *, ip: str | None = None) -> None:
    require_permission(actor, shop, MANAGE_CATALOG)
    with transaction.atomic():
        level = MemberLevel.objects.filter(shop=shop, pk=level_id).first()
        if level is None:
            raise LevelNotFound(_("等级不存在"))
        audit.record(actor=actor, shop=shop, action="loyalty.level.delete", obj=level, ip=ip, name=level.name)
        level.delete()
        _relevel(MemberCard.objects.filter(shop=shop))
        on_commit(cache.delete, pricing.levels_cache_key(shop.pk))


def set_level_prices(
    shop: Shop, actor: Any, level_id: int, prices: Mapping[int, int | None], *, ip: str | None = None
) -> int:
    """The level's member prices by SKU id (None removes one); each of the shop's SKUs, below its
    shelf price. Returns how many prices the level has now."""
    require_permission(actor, shop, MANAGE_CATALOG)
    level = MemberLevel.objects.filter(shop=shop, pk=level_id).first()
    if level is None:
        raise LevelNotFound(_("等级不存在"))
    skus = {sku.pk: sku for sku in Sku.objects.filter(shop=shop, pk__in=list(prices))}
    for sku_id, price in prices.items():
        sku = skus.get(sku_id)
        if sku is None:
            raise LoyaltyInvalid(_("商品规格不存在"), details={"field": "sku_id", "sku_id": sku_id})
        if price is not None and not 0 < price < sku.price_fen:
            raise LoyaltyInvalid(_("会员价须高于 0 且低于售价"), details={"field": "price_fen", "sku_id": sku_id})
    with transaction.atomic():
        LevelPrice.objects.filter(
            level=level, sku_id__in=[pk for pk, price in prices.items() if price is None]
        ).delete()
        for sku_id, price in prices.items():
            if price is not None:
                LevelPrice.objects.update_or_create(
                    level=level, sku_id=sku_id, defaults={"price_fen": price, "shop": shop}
                )
        audit.record(actor=actor, shop=shop, action="loyalty.level_prices", obj=level, ip=ip, count=str(len(prices)))
    return LevelPrice.objects.filter(level=level).count()


def set_category_rate(
    shop: Shop, actor: Any, category_id: int, points_per_yuan: int | None, *, ip: str | None = None
) -> None:
    """Points per ¥1 for one category (None: the program's rate again)."""
    require_permission(actor, shop, MANAGE_CATALOG)
    category = Category.objects.filter(shop=shop, pk=category_id).first()
    if category is None:
        raise LoyaltyInvalid(_("分类不存在"), details={"field": "category_id"})
    if points_per_yuan is None:
        CategoryPointsRate.objects.filter(category=category).delete()
    elif not 0 <= points_per_yuan <= MAX_POINTS_PER_YUAN:
        raise LoyaltyInvalid(
            _("每元积分须在 0 到 %(max)s 之间") % {"max": MAX_POINTS_PER_YUAN}, details={"field": "points_per_yuan"}
        )
    else:
        CategoryPointsRate.objects.update_or_create(
            category=category, defaults={"shop": shop, "points_per_yuan": points_per_yuan}
        )
    audit.record(actor=actor, shop=shop, action="loyalty.category_rate", obj=category, ip=ip, rate=str(points_per_yuan))
