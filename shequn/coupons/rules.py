"""What a coupon is worth on a checkout, and why not: pure functions over rows already read, so
the checkout page, the quote API and the order (one ``CheckoutPlan``) compute it the same way.

Rules, shown to the member with every coupon (``rule_notes``):
- one coupon per order (coupons are never stacked: each is a shop's whole promotion for an order);
- goods only (memberships, courses and tickets are priced by their own rules);
- lines priced at the member price count only when the coupon says it combines with member prices;
- the discount never exceeds the goods in scope, and the member always pays at least ¥0.01
  (WeChat Pay takes no zero amount);
- the discount is split over the lines in scope by largest remainder (``split_by_weights``), so
  each line stores what was paid for it: refunds and commission read that.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.catalog.kinds import is_goods
from shequn.core.money import format_fen, percent_of, split_by_weights

from .enums import USABLE_STATUSES, CouponKind, CouponScope
from .models import CouponTemplate, MemberCoupon


class CouponLine(Protocol):
    """A checkout line as orders prices it (``orders.actions.PlannedLine``)."""

    sku: Any
    unit_price_fen: int
    member_price: bool

    @property
    def total_fen(self) -> int: ...


@dataclass(frozen=True)
class Offer:
    """A coupon on a checkout: its discount split over the lines, or why it does not apply."""

    coupon: MemberCoupon
    discount_fen: int = 0
    line_discounts: list[int] = field(default_factory=list)
    refusal: str = ""  # "" when it applies

    @property
    def applies(self) -> bool:
        return not self.refusal


def percent_label(percent_off: int) -> str:
    """20 → "8折", 15 → "8.5折" (the Chinese way: what is paid, in tenths)."""
    paid = 100 - percent_off
    return _("%(tenths)s折") % {"tenths": f"{paid // 10}" if paid % 10 == 0 else f"{paid / 10:g}"}


def amount_off(coupon: MemberCoupon) -> int:
    """What a 满减 or 无门槛 coupon takes off: its own amount (a red packet's part) or its template's."""
    return coupon.template.amount_fen if coupon.amount_fen is None else coupon.amount_fen


def coupon_face(coupon: MemberCoupon) -> str:
    """A member's coupon's face (``describe`` with the coupon's own amount)."""
    return describe(coupon.template, amount_off(coupon))


def describe(template: CouponTemplate, amount_fen: int | None = None) -> str:
    """The coupon's face: "满¥100.00减¥20.00", "8.5折，最多减¥30.00", "无门槛减¥5.00", "赠「…」1件".
    ``amount_fen``: a coupon's own amount, in place of the template's."""
    amount = template.amount_fen if amount_fen is None else amount_fen
    if template.kind == CouponKind.THRESHOLD:
        return _("满%(threshold)s减%(amount)s") % {
            "threshold": format_fen(template.threshold_fen),
            "amount": format_fen(amount),
        }
    if template.kind == CouponKind.PERCENT:
        text = percent_label(template.percent_off)
        if template.threshold_fen:
            text = _("满%(threshold)s享%(percent)s") % {
                "threshold": format_fen(template.threshold_fen),
                "percent": text,
            }
        if template.cap_fen is not None:
            text += _("，最多减%(cap)s") % {"cap": format_fen(template.cap_fen)}
        return text
    if template.kind == CouponKind.NO_THRESHOLD:
        if not amount:  # a red packet's template: every coupon carries its own amount
            return _("无门槛，每张面额为抢到的红包金额")
        return _("无门槛减%(amount)s") % {"amount": format_fen(amount)}
    sku = template.free_sku
    return _("赠「%(item)s」1件") % {"item": f"{sku.product.title} {sku.spec}" if sku else ""}


def members_only(template: CouponTemplate) -> str:
    """Why a community-only coupon is not for someone outside its community (the claim's refusal and
    the claim centre's greyed card say the same)."""
    return _("仅限「%(community)s」社群成员领取") % {"community": template.community.name if template.community else ""}


def rule_notes(template: CouponTemplate) -> list[str]:
    """The rules the member reads with the coupon (the checkout, the claim centre, my coupons)."""
    notes = [str(CouponScope(template.scope).label) if template.scope != CouponScope.SHOP else _("全店商品可用")]
    if template.community is not None:
        notes.append(_("仅限「%(community)s」社群成员") % {"community": template.community.name})
    notes.append(_("可与会员价同享") if template.with_member_prices else _("不与会员价同享"))
    notes.append(_("每单限用一张优惠券"))
    return notes


def _in_scope(template: CouponTemplate, line: CouponLine, scope_ids: set[int]) -> bool:
    product = line.sku.product
    if template.scope == CouponScope.CATEGORIES:
        return product.category_id in scope_ids
    if template.scope == CouponScope.PRODUCTS:
        return product.pk in scope_ids
    return True


def offer(
    coupon: MemberCoupon,
    lines: Sequence[CouponLine],
    *,
    payable_fen: int,
    is_audience: bool,
    now: datetime | None = None,
) -> Offer:
    """``coupon`` on a checkout of ``lines`` (of the coupon's shop) that would cost ``payable_fen``
    without it. ``is_audience``: the buyer is a current member of the template's community (True
    when it has none)."""
    now = now or timezone.now()
    template = coupon.template

    def refused(reason: str) -> Offer:
        return Offer(coupon=coupon, refusal=reason)

    if coupon.status not in USABLE_STATUSES:
        return refused(_("已使用或已过期"))
    if now < coupon.valid_from:
        return refused(
            _("%(date)s 起可用") % {"date": timezone.localtime(coupon.valid_from).strftime("%Y-%m-%d %H:%M")}
        )
    if now >= coupon.valid_until:
        return refused(_("已过期"))
    if not is_audience:
        community = template.community.name if template.community else ""
        return refused(_("仅限「%(community)s」社群成员使用") % {"community": community})
    if not lines or not is_goods(lines[0].sku.product.kind):
        return refused(_("会员、课程和门票不能用券"))
    scope_ids = set(template.scope_ids)
    in_scope = [_in_scope(template, line, scope_ids) for line in lines]
    if not any(in_scope):
        return refused(_("订单中没有适用的商品"))
    counted = [
        scoped and (template.with_member_prices or not line.member_price)
        for scoped, line in zip(in_scope, lines, strict=True)
    ]
    if not any(counted):
        return refused(_("不与会员价同享"))
    weights = [line.total_fen if count else 0 for count, line in zip(counted, lines, strict=True)]
    base = sum(weights)
    if base < template.threshold_fen:
        return refused(
            _("满%(threshold)s可用，还差%(gap)s")
            % {"threshold": format_fen(template.threshold_fen), "gap": format_fen(template.threshold_fen - base)}
        )
    if template.kind == CouponKind.FREE_ITEM:
        free = [
            index
            for index, (count, line) in enumerate(zip(counted, lines, strict=True))
            if count and line.sku.pk == template.free_sku_id
        ]
        if not free:
            sku = template.free_sku
            return refused(_("订单中需要有「%(item)s」") % {"item": f"{sku.product.title} {sku.spec}" if sku else ""})
        weights = [lines[index].unit_price_fen if index == free[0] else 0 for index in range(len(lines))]
        discount = weights[free[0]]
    elif template.kind == CouponKind.PERCENT:
        discount = percent_of(base, template.percent_off * 100)
        if template.cap_fen is not None:
            discount = min(discount, template.cap_fen)
    else:
        discount = amount_off(coupon)
    # Never more than the goods it covers, and at least ¥0.01 left to pay.
    discount = max(0, min(discount, sum(weights), payable_fen - 1))
    return Offer(coupon=coupon, discount_fen=discount, line_discounts=split_by_weights(discount, weights))


def best(offers: Sequence[Offer]) -> Offer | None:
    """The offer to suggest: the largest discount; on a tie the coupon that expires first."""
    usable = [offer for offer in offers if offer.applies and offer.discount_fen > 0]
    return min(usable, key=lambda o: (-o.discount_fen, o.coupon.valid_until, o.coupon.pk), default=None)
