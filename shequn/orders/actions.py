"""Every write of the orders app. ``check_*`` validates and authorises, ``do_*`` changes data.

Concurrency rules (ARCHITECTURE.md): stock and purchase counters only move through
single-statement conditional ``F()`` updates, taken in primary-key order (the buyers' account
rows first, ``_lock_buyers``, then counters before SKUs, so two transactions never wait on each
other in opposite orders); order and
refund status only move through ``state.transition*`` (conditional on the old status).

Inbox messages are written inside the same transaction as the step they announce, so
a message exists exactly when the step happened; ``notify`` itself pushes to the
other channels after commit.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.accounts.models import Address, User
from shequn.catalog.kinds import ProductKind, is_goods, rules_for
from shequn.catalog.models import Product, Sku
from shequn.catalog.weights import sku_line_fields
from shequn.communities.models import Community, Post
from shequn.communities.selectors import is_community_member, is_shop_member, shop_member_pairs
from shequn.content.enums import ArticleStatus
from shequn.content.models import Article
from shequn.core import audit
from shequn.core.errors import Conflict, DomainError, InvalidInput, InvalidTransition, NotFound
from shequn.core.events import on_commit
from shequn.core.group_commit import GroupCommit
from shequn.core.i18n import in_language_of
from shequn.core.idempotency import Answer, Claimed, Once, answer_many, answer_of, claim_many, run_once
from shequn.core.ids import readable_number, readable_numbers
from shequn.core.money import MAX_FEN
from shequn.core.money import format_fen as _yuan
from shequn.core.sql import insert_objects, insert_rows, insert_values
from shequn.coupons import actions as coupon_actions
from shequn.coupons import rules as coupon_rules
from shequn.coupons import selectors as coupon_selectors
from shequn.coupons.errors import CouponNotApplicable
from shequn.coupons.models import MemberCoupon
from shequn.loyalty import actions as loyalty_actions
from shequn.loyalty import pricing as loyalty_pricing
from shequn.loyalty.errors import InsufficientPoints
from shequn.notifications.actions import notify, notify_many
from shequn.shops import permissions
from shequn.shops.models import DeliverySlot, PickupPoint, Shop
from shequn.shops.selectors import bookable_delivery_slots, check_shop_open, require_permission

from . import signals, tasks
from .enums import Fulfilment, OrderStatus, PaymentMethod, RefundStatus
from .errors import (
    AccountInactive,
    AddressRequired,
    CartEmpty,
    CartItemNotFound,
    CartMixedShops,
    InvalidQuantity,
    NoteTooLong,
    NotReturnable,
    OrderNotPaid,
    OrderTooLarge,
    PaymentMethodUnavailable,
    PickupPointRequired,
    ProductUnavailable,
    PurchaseCapExceeded,
    RefundAmountInvalid,
    RefundNotFound,
    RefundReasonRequired,
    RejectReasonRequired,
    SlotClosed,
    SlotFull,
    SlotNotFound,
    SlotRequired,
    SoldOut,
    TrackingRequired,
)
from .models import CartItem, Order, OrderEvent, OrderLine, PurchaseCounter, RefundRequest
from .selectors import (
    OPEN_REFUND_STATUSES,
    CartGroup,
    access_cart_item,
    access_member_order,
    access_order,
    cart_groups,
    expired_unpaid_orders,
    refundable_left_fen,
)
from .state import transition, transition_refund

MAX_LINE_QUANTITY = 99
MAX_NOTE_LENGTH = 200
MAX_REASON_LENGTH = 200
_NUMBER_ATTEMPTS = 5

# After handing goods over, non-returnable lines can no longer be refunded.
HANDED_OVER = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PICKED_UP, OrderStatus.COMPLETED)
# COD orders may be in fulfilment before the cash is confirmed.
IN_FULFILMENT = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.READY_FOR_PICKUP, OrderStatus.PICKED_UP)


def order_link(order: Order) -> str:
    return reverse("orders:order_detail", args=[order.number])


def _order_links(orders: Sequence[Order]) -> list[str]:
    """``order_link`` of many orders: the URL reversed once (about 30 µs a call here), each number
    put in its place."""
    placeholder = "ORDERNUMBER"  # left as is by the URL quoting, found once in the path
    pattern = reverse("orders:order_detail", args=[placeholder])
    return [pattern.replace(placeholder, order.number) for order in orders]


def _notify_member(order: Order, kind: str, texts: Callable[[], tuple[str, str]]) -> None:
    """An inbox message to the order's member. ``texts`` builds its (title, body) in the member's
    language: they read it later, whoever's request or task sends it (a staff member's, a task's)."""
    with in_language_of(order.user):
        title, body = texts()
    notify(order.user, shop=order.shop, kind=kind, title=title, body=body, link=order_link(order))


def _lock_order(order: Order) -> Order:
    """Lock ``order``'s row for this transaction and reload it, so checks see the latest state."""
    locked = Order.objects.select_for_update().filter(pk=order.pk).first()
    if locked is None:
        raise NotFound(_("订单不存在"), code="order_not_found")
    return locked


def _lock_refund(refund: RefundRequest) -> RefundRequest:
    locked = RefundRequest.objects.select_for_update().filter(pk=refund.pk).first()
    if locked is None:
        raise RefundNotFound(_("售后申请不存在"))
    return locked


def _copy_state(target: Any, source: Any) -> None:
    """Reflect the saved state back on the caller's instance."""
    for model_field in source._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))


# --- cart -----------------------------------------------------------------------------


def _check_quantity(quantity: int) -> int:
    if not isinstance(quantity, int) or quantity < 1:
        raise InvalidQuantity(_("数量至少为 1"))
    if quantity > MAX_LINE_QUANTITY:
        raise InvalidQuantity(
            _("单件商品一次最多购买 %(max_line_quantity)s 件") % {"max_line_quantity": MAX_LINE_QUANTITY}
        )
    return quantity


def check_available_sku(sku_id: int) -> Sku:
    """An active SKU of a product on the shelf, else ``product_unavailable``."""
    return _available(sku_id, Sku.objects.select_related("product", "shop").filter(pk=sku_id).first())


def _available(sku_id: int, sku: Sku | None) -> Sku:
    if sku is None or not sku.is_active or not sku.product.on_shelf or sku.product.shop_id != sku.shop_id:
        raise ProductUnavailable(_("商品已下架或规格不可购买"), details={"sku_id": sku_id})
    return sku


def _post_of_shop(shop: Shop, post_id: int | None) -> Post | None:
    # Attribution only: a stale or foreign post id is dropped, never an error for the buyer.
    if not post_id:
        return None
    return Post.objects.filter(pk=post_id, shop=shop, is_published=True).select_related("community").first()


def _article_of_shop(shop: Shop, article_id: int | None) -> Article | None:
    # Attribution only, like the post: a stale or foreign article id is dropped.
    if not article_id:
        return None
    return (
        Article.objects.filter(pk=article_id, shop=shop, status=ArticleStatus.PUBLISHED)
        .select_related("community")
        .first()
    )


def add_to_cart(
    user: Any, sku_id: int, quantity: int = 1, *, post_id: int | None = None, article_id: int | None = None
) -> CartItem:
    _check_quantity(quantity)
    sku = check_available_sku(sku_id)
    if not is_goods(sku.product.kind):
        raise InvalidInput(
            _("「%(title)s」请直接购买，不能加入购物车") % {"title": sku.product.title},
            code="not_for_cart",
            details={"sku_id": sku_id},
        )
    post = _post_of_shop(sku.shop, post_id)
    article = _article_of_shop(sku.shop, article_id)
    source: dict[str, Any] = {"post": post} if post else {}
    if article:
        source["article"] = article
    with transaction.atomic():
        item = CartItem.objects.select_for_update().filter(user=user, sku=sku).first()
        if item is None:
            try:
                with transaction.atomic():
                    return CartItem.objects.create(user=user, shop=sku.shop, sku=sku, quantity=quantity, **source)
            except IntegrityError:  # a parallel add created the line first
                item = CartItem.objects.select_for_update().get(user=user, sku=sku)
        new_quantity = _check_quantity(item.quantity + quantity)
        CartItem.objects.filter(pk=item.pk).update(quantity=new_quantity, **source)
        item.refresh_from_db()
        return item


def update_cart_item(user: Any, item_id: int, quantity: int) -> CartItem:
    _check_quantity(quantity)
    item = access_cart_item(user, item_id)
    CartItem.objects.filter(pk=item.pk).update(quantity=quantity)
    item.quantity = quantity
    return item


def remove_cart_item(user: Any, item_id: int) -> None:
    item = access_cart_item(user, item_id)
    item.delete()


def priced_cart(user: Any) -> list[CartGroup]:
    """The member's cart by shop, each line at the price checkout will charge (``price_lines``),
    so the cart's subtotal is the checkout quote's items total."""
    groups = cart_groups(user)
    for group in groups:
        wanted = [(item.sku, item.quantity) for item in group.items]
        benefits = loyalty_pricing.benefits(user, group.shop, [sku.pk for sku, _count in wanted])
        group.prices = price_lines(user, group.shop, wanted, benefits=benefits)
    return groups


# --- checkout -------------------------------------------------------------------------


@dataclass
class PlannedLine:
    sku: Sku
    quantity: int
    unit_price_fen: int
    member_price: bool  # the member price applied
    discount_fen: int = 0  # this line's share of the coupon's discount

    @property
    def product(self) -> Product:
        return self.sku.product

    @property
    def total_fen(self) -> int:
        return self.unit_price_fen * self.quantity

    @property
    def paid_fen(self) -> int:
        return self.total_fen - self.discount_fen


@dataclass
class CheckoutPlan:
    """Everything an order will hold, computed and validated before any write."""

    user: Any
    shop: Shop
    lines: list[PlannedLine]
    fulfilment: str
    payment_method: str
    address: Address | None = None
    pickup_point: PickupPoint | None = None
    delivery_slot: DeliverySlot | None = None
    buyer_note: str = ""
    post: Post | None = None
    article: Article | None = None
    cart_item_ids: list[int] = field(default_factory=list)
    pay_by: datetime | None = None  # an earlier unpaid deadline than the shop's (trusted callers)
    hold: str = ""  # why the goods wait (trusted callers); see Order.hold_reason
    coupon: MemberCoupon | None = None  # applied: its discount is split over ``lines``
    # The member card's level benefits (loyalty), and points taken off the goods after the coupon
    # (their fen are in the lines' ``discount_fen`` too).
    benefits: loyalty_pricing.Benefits | None = None
    points_used: int = 0
    points_fen: int = 0

    @property
    def kind(self) -> str:
        return self.lines[0].product.kind

    @property
    def items_total_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)

    @property
    def discount_fen(self) -> int:
        return sum(line.discount_fen for line in self.lines)

    @property
    def free_shipping(self) -> bool:
        return self.benefits is not None and self.benefits.free_shipping

    @property
    def shipping_fee_fen(self) -> int:
        if self.payment_method == PaymentMethod.PREPAID:
            return 0  # a prepaid package's redemption: nothing to pay, shipping included
        return shipping_fee(self.shop, self.fulfilment, self.items_total_fen, free=self.free_shipping)

    @property
    def coupon_discount_fen(self) -> int:
        """What the coupon takes off (``discount_fen`` also holds what points take)."""
        return self.discount_fen - self.points_fen

    @property
    def total_fen(self) -> int:
        return self.items_total_fen - self.discount_fen + self.shipping_fee_fen

    @property
    def community(self) -> Community | None:
        if self.post:
            return self.post.community
        return self.article.community if self.article else None


def shipping_fee(shop: Shop, fulfilment: str, items_total_fen: int, *, free: bool = False) -> int:
    """Flat fee for delivery, free at or above the shop's threshold (0 = never free) or for a
    member level with free shipping (``free``); pickup is free."""
    if fulfilment != Fulfilment.DELIVERY or free:
        return 0
    threshold = shop.free_shipping_threshold_fen
    if threshold > 0 and items_total_fen >= threshold:
        return 0
    return shop.shipping_fee_fen


def unit_price(sku: Sku, is_member: bool, benefits: loyalty_pricing.Benefits | None = None) -> tuple[int, bool]:
    """The price a buyer pays for ``sku``: the lowest of the shelf price, the member price when it
    applies and the member card level's price (``benefits``)."""
    price = sku.price_fen
    if is_member and sku.member_price_fen is not None and sku.member_price_fen < price:
        price = sku.member_price_fen
    if benefits is not None and (level_price := benefits.price_of(sku.pk, sku.price_fen)) is not None:
        price = min(price, level_price)
    return price, price < sku.price_fen


def price_lines(
    user: Any,
    shop: Shop,
    wanted: Sequence[tuple[Sku, int]],
    unit_prices: Mapping[int, int] | None = None,
    *,
    is_member: bool | None = None,
    benefits: loyalty_pricing.Benefits | None = None,
) -> list[PlannedLine]:
    """``(sku, quantity)`` pairs of ``shop`` at the price the buyer pays: the one pricing of the
    cart, the checkout quote and the order (``unit_prices``: trusted callers' campaign prices;
    ``is_member``: the membership when the caller looked it up for many buyers at once;
    ``benefits``: the buyer's member card level, ``loyalty.pricing``)."""
    prices = unit_prices or {}
    # Ask about membership (one query) only when being a member would change a price.
    member = (
        is_member
        if is_member is not None
        else any(unit_price(sku, True)[1] for sku, _ in wanted if sku.pk not in prices) and is_shop_member(user, shop)
    )
    planned = []
    for sku, count in wanted:
        if unit_prices is not None and sku.pk in unit_prices:
            price, member_price = unit_prices[sku.pk], False
        else:
            price, member_price = unit_price(sku, member, benefits)
        planned.append(PlannedLine(sku=sku, quantity=count, unit_price_fen=price, member_price=member_price))
    return planned


def enabled_payment_methods() -> list[str]:
    """The payment methods this deployment takes: those whose gateway is in PAYMENT_GATEWAYS
    (production leaves the sandbox out, so its cashier cannot take pretend money)."""
    return [method for method in PaymentMethod.values if method in settings.PAYMENT_GATEWAYS]


@dataclass(frozen=True)
class CheckoutReads:
    """What ``check_checkout`` reads, read once for many checkouts (a group-committed batch): SKUs
    with product and shop, pickup points, addresses, and which (buyer, shop) pairs are members
    where a member price could apply. Carts, posts, articles and slots are still read per checkout."""

    skus: Mapping[int, Sku]
    pickup_points: Mapping[int, PickupPoint]
    addresses: Mapping[int, Address]
    members: set[tuple[int, int]]
    coupons: Mapping[int, MemberCoupon]
    benefits: Mapping[tuple[int, int], loyalty_pricing.Benefits]


def _skus_by_id(sku_ids: Iterable[int]) -> dict[int, Sku]:
    return {sku.pk: sku for sku in Sku.objects.select_related("product", "shop").filter(pk__in=set(sku_ids))}


def read_for_checkouts(checkouts: Sequence[tuple[Any, Mapping[str, Any]]]) -> CheckoutReads:
    """``CheckoutReads`` for ``(user, checkout)`` pairs as ``check_checkout`` takes them (at most
    five queries and the coupons' scopes, none for what no checkout names)."""
    skus = _skus_by_id(checkout["sku_id"] for _, checkout in checkouts if checkout.get("sku_id"))
    point_ids = {checkout["pickup_point_id"] for _, checkout in checkouts if checkout.get("pickup_point_id")}
    address_ids = {checkout["address_id"] for _, checkout in checkouts if checkout.get("address_id")}
    coupon_ids = {checkout["coupon_id"] for _, checkout in checkouts if checkout.get("coupon_id")}
    asking = [
        (user.pk, sku.shop_id)
        for user, checkout in checkouts
        if (sku := skus.get(checkout.get("sku_id") or 0)) is not None and unit_price(sku, True)[1]
    ]
    return CheckoutReads(
        skus=skus,
        pickup_points=PickupPoint.objects.in_bulk(point_ids) if point_ids else {},
        addresses=Address.objects.in_bulk(address_ids) if address_ids else {},
        members=shop_member_pairs(asking) if asking else set(),
        coupons=coupon_selectors.checkout_coupons(coupon_ids) if coupon_ids else {},
        benefits=loyalty_pricing.benefits_for(
            ((user.pk, sku.shop_id) for user, sku in _buyers_skus(checkouts, skus)), skus
        ),
    )


def _buyers_skus(checkouts: Sequence[tuple[Any, Mapping[str, Any]]], skus: Mapping[int, Sku]) -> list[tuple[Any, Sku]]:
    return [(user, sku) for user, checkout in checkouts if (sku := skus.get(checkout.get("sku_id") or 0)) is not None]


def check_checkout(
    user: Any,
    *,
    fulfilment: str,
    payment_method: str,
    cart_item_ids: Sequence[int] | None = None,
    sku_id: int | None = None,
    quantity: int = 1,
    address_id: int | None = None,
    pickup_point_id: int | None = None,
    delivery_slot_id: int | None = None,
    buyer_note: str = "",
    post_id: int | None = None,
    article_id: int | None = None,
    require_destination: bool = True,
    lines: Sequence[tuple[int, int]] | None = None,
    unit_prices: Mapping[int, int] | None = None,
    pay_by: datetime | None = None,
    hold: str = "",
    coupon_id: int | None = None,
    points: int = 0,
    reads: CheckoutReads | None = None,
    prepaid: bool = False,
) -> CheckoutPlan:
    """Validate a checkout (from cart lines, or one SKU for "buy now") into a plan.

    ``require_destination=False`` lets the checkout page quote totals before an address,
    pickup point or delivery slot is chosen.

    Trusted callers only (never from request data): ``lines`` are ``(sku_id, quantity)`` pairs
    bought together (a group-buy sign-up), ``unit_prices`` set a line's price by SKU id (a
    campaign price) instead of the shelf or member price, and ``pay_by`` ends the unpaid
    window earlier than the shop's timeout (a campaign's deadline), and ``hold`` keeps the
    goods from being handed over until the caller's ``release_hold`` (a team still forming).
    ``reads``: the rows read once for a batch of checkouts (``read_for_checkouts``), the same
    checks made on them. ``coupon_id``: one of the member's coupons, applied (``CouponNotApplicable``
    says why not); never with trusted callers' ``unit_prices``. ``prepaid`` (trusted callers): goods
    already paid for (a prepaid package's portions), at no price and no shipping fee. ``points``:
    member-card points taken off the goods after the coupon (``loyalty.pricing.points_offer``;
    ``PointsNotApplicable``).
    """
    if prepaid:
        payment_method, coupon_id = PaymentMethod.PREPAID, None
    if not getattr(user, "is_authenticated", False):
        raise NotFound(_("请先登录"), code="not_authenticated")
    wanted: list[tuple[Sku, int]] = []
    cart_ids: list[int] = []
    cart_post_id: int | None = None
    cart_article_id: int | None = None
    if lines is not None:
        if not lines:
            raise CartEmpty(_("请先选择要购买的商品"))
        wanted.extend((check_available_sku(pk), _check_quantity(count)) for pk, count in lines)
    elif sku_id is not None:
        sku = _available(sku_id, reads.skus.get(sku_id)) if reads else check_available_sku(sku_id)
        wanted.append((sku, _check_quantity(quantity)))
    else:
        items = CartItem.objects.filter(user=user).select_related("sku__product", "shop").order_by("added_at", "id")
        if cart_item_ids is not None:
            ids = list(dict.fromkeys(cart_item_ids))
            items = items.filter(pk__in=ids)
            if len(items) != len(ids):
                raise CartItemNotFound(_("购物车中没有这件商品"))
        if not items:
            raise CartEmpty(_("请先选择要购买的商品"))
        for item in items:
            wanted.append((check_available_sku(item.sku_id), _check_quantity(item.quantity)))
            cart_ids.append(item.pk)
            cart_post_id = cart_post_id or item.post_id
            cart_article_id = cart_article_id or item.article_id
    shop, fulfilment = _check_what_and_how(user, wanted, fulfilment, payment_method, prepaid=prepaid)
    if prepaid:
        unit_prices = {sku.pk: 0 for sku, _ in wanted}
    if fulfilment == Fulfilment.NONE:
        address_id, pickup_point_id = None, None
    buyer_note = (buyer_note or "").strip()
    if len(buyer_note) > MAX_NOTE_LENGTH:
        raise NoteTooLong(_("备注最多 %(max_note_length)s 个字") % {"max_note_length": MAX_NOTE_LENGTH})

    address = pickup_point = None
    if fulfilment == Fulfilment.NONE:
        pass
    elif fulfilment == Fulfilment.DELIVERY:
        if address_id:
            if reads is None:
                address = Address.objects.filter(pk=address_id, user=user).first()
            elif (address := reads.addresses.get(address_id)) is not None and address.user_id != user.pk:
                address = None
            if address is None:
                raise AddressRequired(_("收货地址不存在，请重新选择"))
        elif require_destination:
            raise AddressRequired(_("请选择收货地址"))
    else:
        if pickup_point_id:
            if reads is None:
                pickup_point = PickupPoint.objects.filter(pk=pickup_point_id, shop=shop, is_active=True).first()
            elif (pickup_point := reads.pickup_points.get(pickup_point_id)) is not None and (
                pickup_point.shop_id != shop.pk or not pickup_point.is_active
            ):
                pickup_point = None
            if pickup_point is None:
                raise PickupPointRequired(_("自提点不存在或已停用，请重新选择"))
        elif require_destination:
            raise PickupPointRequired(_("请选择自提点"))
    # A held order (a team or campaign still forming) is handed over when its campaign says.
    slot_required = require_destination and not hold and fulfilment == Fulfilment.DELIVERY
    delivery_slot = check_delivery_slot(shop, fulfilment, delivery_slot_id, required=slot_required)

    # A batch read the card levels of its "buy now" checkouts; a cart's SKUs are read per checkout.
    benefits = (
        reads.benefits.get((user.pk, shop.pk))
        if reads and sku_id is not None and lines is None
        else loyalty_pricing.benefits(user, shop, [sku.pk for sku, _count in wanted])
    )
    priced = price_lines(
        user,
        shop,
        wanted,
        unit_prices,
        is_member=(user.pk, shop.pk) in reads.members if reads else None,
        benefits=benefits,
    )
    free = benefits is not None and benefits.free_shipping
    coupon = None
    if coupon_id is not None and unit_prices is None:
        coupon = _apply_coupon(user, shop, fulfilment, priced, coupon_id, reads, free_shipping=free)
    points_offer = None
    if points > 0 and unit_prices is None:
        points_offer = _apply_points(user, shop, fulfilment, priced, points, free_shipping=free)
    return _checked_total(
        CheckoutPlan(
            user=user,
            shop=shop,
            lines=priced,
            coupon=coupon,
            benefits=benefits,
            points_used=points_offer.points if points_offer else 0,
            points_fen=points_offer.fen if points_offer else 0,
            pay_by=pay_by,
            hold=hold[:60],
            fulfilment=fulfilment,
            payment_method=payment_method,
            address=address,
            pickup_point=pickup_point,
            delivery_slot=delivery_slot,
            buyer_note=buyer_note,
            post=_post_of_shop(shop, post_id or cart_post_id),
            article=_article_of_shop(shop, article_id or cart_article_id),
            cart_item_ids=cart_ids,
        )
    )


def _apply_coupon(
    user: Any,
    shop: Shop,
    fulfilment: str,
    lines: list[PlannedLine],
    coupon_id: int,
    reads: CheckoutReads | None,
    *,
    free_shipping: bool,
) -> MemberCoupon:
    """Split the member's coupon ``coupon_id`` over ``lines`` (their ``discount_fen``), or raise why
    it does not apply (``coupons.rules.offer``: the same rules the checkout page shows)."""
    coupon = reads.coupons.get(coupon_id) if reads else None
    if coupon is None or coupon.user_id != user.pk:
        coupon = coupon_selectors.checkout_coupon(user, coupon_id)
    if coupon.shop_id != shop.pk:
        raise CouponNotApplicable(_("这张优惠券不能在本店使用"), details={"coupon_id": coupon_id})
    items = sum(line.total_fen for line in lines)
    offer = coupon_rules.offer(
        coupon,
        lines,
        payable_fen=items + shipping_fee(shop, fulfilment, items, free=free_shipping),
        is_audience=coupon.template.community is None or is_community_member(user, coupon.template.community),
    )
    if not offer.applies:
        raise CouponNotApplicable(offer.refusal, details={"coupon_id": coupon_id})
    _split_discount(lines, offer)
    return coupon


def _apply_points(
    user: Any, shop: Shop, fulfilment: str, lines: list[PlannedLine], points: int, *, free_shipping: bool
) -> loyalty_pricing.PointsOffer:
    """Take ``points`` off the goods after the coupon, split over ``lines`` (added to their
    ``discount_fen``), or raise why not (``loyalty.pricing.points_offer``)."""
    items = sum(line.total_fen for line in lines)
    paid = [line.paid_fen for line in lines]
    payable = sum(paid) + shipping_fee(shop, fulfilment, items, free=free_shipping)
    offer = loyalty_pricing.points_offer(user, shop, paid, payable, points)
    for line, fen in zip(lines, offer.line_discounts, strict=True):
        line.discount_fen += fen
    return offer


def _split_discount(lines: Sequence[PlannedLine], offer: coupon_rules.Offer) -> None:
    for line, discount in zip(lines, offer.line_discounts, strict=True):
        line.discount_fen = discount


def _check_what_and_how(
    user: Any, wanted: Sequence[tuple[Sku, int]], fulfilment: str, payment_method: str, *, prepaid: bool = False
) -> tuple[Shop, str]:
    """The rules on what one order may hold and how it is handed over and paid (checkout's and
    ``check_orders``'s): one shop, open for business, one kind, its purchase rules, a valid fulfilment (none for
    what is not goods) and a payment method this deployment and shop take. Returns the shop
    and the fulfilment."""
    shops = {sku.shop_id for sku, _ in wanted}
    if len(shops) != 1:
        raise CartMixedShops(_("一次只能结算同一家店铺的商品"))
    shop = wanted[0][0].shop
    check_shop_open(shop)  # a shop the platform suspended or closed takes no order, by any path
    kinds = {sku.product.kind for sku, _ in wanted}
    if len(kinds) != 1:
        raise InvalidInput(_("会员、课程和门票需要单独下单，不能与其他商品一起结算"), code="kinds_mixed")
    kind = kinds.pop()
    if not is_goods(kind):
        # Nothing to hand over: no address, no pickup, no cash on delivery.
        fulfilment = Fulfilment.NONE
        if payment_method == PaymentMethod.COD:
            raise PaymentMethodUnavailable(_("%(label)s只能在线支付") % {"label": ProductKind(kind).label})
    elif fulfilment == Fulfilment.NONE:
        raise InvalidInput(_("请选择配送方式"), code="fulfilment_invalid")
    if prepaid and not is_goods(kind):
        raise InvalidInput(_("套餐卡只能兑换实物商品"), code="prepaid_not_goods")
    for sku, count in wanted:
        rules_for(kind).check_purchase(user, sku, count)

    if fulfilment not in Fulfilment.values:
        raise InvalidInput(_("请选择配送方式"), code="fulfilment_invalid")
    if payment_method not in PaymentMethod.values:
        raise PaymentMethodUnavailable(_("请选择支付方式"))
    if payment_method not in enabled_payment_methods() and not prepaid:
        raise PaymentMethodUnavailable(_("本站暂不支持%(label)s") % {"label": PaymentMethod(payment_method).label})
    if payment_method == PaymentMethod.COD and not shop.cod_enabled:
        raise PaymentMethodUnavailable(_("该店铺不支持货到付款"))
    return shop, fulfilment


def _checked_total(plan: CheckoutPlan) -> CheckoutPlan:
    if plan.total_fen > MAX_FEN:
        # The order's amounts are PositiveIntegerFields (and WeChat Pay's total an int32).
        raise OrderTooLarge(_("订单金额不能超过 %(yuan)s，请分开下单") % {"yuan": _yuan(MAX_FEN)})
    return plan


def slot_refusal(slot: DeliverySlot, now: datetime) -> SlotClosed | SlotFull | None:
    """Why ``slot`` takes no new order now (None when it does)."""
    if slot.is_closed_at(now):
        return SlotClosed(
            _("「%(label)s」已截单，请选择其他时段") % {"label": slot.label}, details={"delivery_slot_id": slot.pk}
        )
    if slot.booked >= slot.capacity:
        return SlotFull(
            _("「%(label)s」已约满，请选择其他时段") % {"label": slot.label}, details={"delivery_slot_id": slot.pk}
        )
    return None


def check_delivery_slot(shop: Shop, fulfilment: str, slot_id: int | None, *, required: bool) -> DeliverySlot | None:
    """The chosen delivery slot of ``shop``, still bookable; ``slot_required`` when the shop
    asks for one and ``required`` (a delivery order being placed). Nothing to hand over, no slot."""
    if fulfilment == Fulfilment.NONE:
        return None
    if not slot_id:
        if required and shop.delivery_slots_required:
            raise SlotRequired(_("请选择配送时段"))
        return None
    slot = DeliverySlot.objects.filter(pk=slot_id, shop=shop).first()
    if slot is None:
        raise SlotNotFound(_("配送时段不存在，请重新选择"), details={"delivery_slot_id": slot_id})
    refusal = slot_refusal(slot, timezone.now())
    if refusal is not None:
        raise refusal
    return slot


def _reserve_slot(slot: DeliverySlot, now: datetime) -> None:
    """Take one place of ``slot`` or raise why not (the caller's transaction rolls back).

    One conditional UPDATE, like stock: the row's lock serialises buyers of the last places.
    """
    taken = DeliverySlot.objects.filter(pk=slot.pk, is_open=True, cutoff_at__gt=now, booked__lt=F("capacity")).update(
        booked=F("booked") + 1
    )
    if taken != 1:
        slot.refresh_from_db()
        raise slot_refusal(slot, now) or SlotFull(_("「%(label)s」已约满，请选择其他时段") % {"label": slot.label})


def _sold_out(sku: Sku) -> SoldOut:
    return SoldOut(
        _("「%(title)s %(spec)s」库存不足，已售罄或剩余不够") % {"title": sku.product.title, "spec": sku.spec},
        details={"sku_id": sku.pk, "product": sku.product.title},
    )


def _check_stock_left(lines: Sequence[tuple[Sku, int]]) -> None:
    """``SoldOut`` when a line is short by the stock read at checkout (a hint; reserving decides)."""
    for sku, quantity in lines:
        if sku.stock < quantity:
            raise _sold_out(sku)


def _reserve_stock(lines: Sequence[tuple[Sku, int]]) -> None:
    """Take stock for every line or raise ``SoldOut`` (the caller's transaction rolls back).

    Lock order everywhere: purchase counters first, then SKUs, each by primary key.
    """
    for sku, quantity in sorted(lines, key=lambda pair: pair[0].pk):
        taken = Sku.objects.filter(pk=sku.pk, is_active=True, stock__gte=quantity).update(stock=F("stock") - quantity)
        if taken != 1:
            raise _sold_out(sku)


def _hold_purchase_quantities(user: Any, lines: Sequence[tuple[Sku, int]], *, enforce_cap: bool = True) -> None:
    """Count units per product towards the member's per-person cap, across all live orders."""
    per_product: dict[int, int] = defaultdict(int)
    products: dict[int, Product] = {}
    for sku, quantity in lines:
        per_product[sku.product_id] += quantity
        products[sku.product_id] = sku.product
    for product_id in sorted(per_product):
        product, quantity = products[product_id], per_product[product_id]
        cap = product.per_person_cap
        if enforce_cap and cap is not None and quantity > cap:
            raise PurchaseCapExceeded(
                _("「%(title)s」每人限购 %(cap)s 件") % {"title": product.title, "cap": cap},
                details={"product_id": product_id, "cap": cap},
            )
        rows = PurchaseCounter.objects.filter(user=user, product_id=product_id)
        if enforce_cap and cap is not None:
            rows = rows.filter(quantity__lte=cap - quantity)
        # One conditional UPDATE in the usual case (the member's counter exists); the first
        # purchase of a product creates it instead (``quantity <= cap`` was checked above).
        if rows.update(quantity=F("quantity") + quantity) == 1:
            continue
        try:
            with transaction.atomic():
                PurchaseCounter.objects.create(
                    user=user, shop_id=product.shop_id, product_id=product_id, quantity=quantity
                )
            continue
        except IntegrityError:
            # The counter exists, so the update was refused by the cap, unless a parallel
            # checkout of the same member created it just now: try the update once more.
            if rows.update(quantity=F("quantity") + quantity) == 1:
                continue
        raise PurchaseCapExceeded(
            _("「%(title)s」每人限购 %(cap)s 件，你已购买过") % {"title": product.title, "cap": cap},
            details={"product_id": product_id, "cap": cap},
        )


def _release_purchase_quantities(user_id: int, lines: Sequence[OrderLine]) -> None:
    per_product: dict[int, int] = defaultdict(int)
    for line in lines:
        per_product[line.product_id] += line.quantity
    for product_id in sorted(per_product):
        quantity = per_product[product_id]
        PurchaseCounter.objects.filter(user_id=user_id, product_id=product_id, quantity__gte=quantity).update(
            quantity=F("quantity") - quantity
        )


def _order_row(plan: CheckoutPlan, expires_at: datetime | None) -> Order:
    """The order as ``plan`` describes it (no number yet): amounts, destination snapshot, deadline."""
    items_total = plan.items_total_fen
    shipping = plan.shipping_fee_fen
    community = plan.community
    # Attribution and slot by id: nothing reads them back from the new order (cheaper in bulk).
    order = Order(
        shop=plan.shop,
        user=plan.user,
        fulfilment=plan.fulfilment,
        payment_method=plan.payment_method,
        pickup_point=plan.pickup_point,
        buyer_note=plan.buyer_note,
        items_total_fen=items_total,
        shipping_fee_fen=shipping,
        coupon_id=plan.coupon.pk if plan.coupon else None,
        discount_fen=plan.discount_fen,
        points_used=plan.points_used,
        points_fen=plan.points_fen,
        total_fen=items_total - plan.discount_fen + shipping,
        kind=plan.kind,
        hold_reason=plan.hold,
        post_id=plan.post.pk if plan.post else None,
        article_id=plan.article.pk if plan.article else None,
        community_id=community.pk if community else None,
        delivery_slot_id=plan.delivery_slot.pk if plan.delivery_slot else None,
        expires_at=expires_at,
    )
    if plan.delivery_slot is not None:
        slot = plan.delivery_slot
        order.delivery_slot_date, order.delivery_slot_label = slot.date, slot.label
    if (address := plan.address) is not None:
        order.recipient, order.recipient_phone = address.recipient, address.phone
        order.province, order.city, order.district = address.province, address.city, address.district
        order.address_detail = address.detail
    return order


def _insert_order(plan: CheckoutPlan, expires_at: datetime | None, *, paid_at: datetime | None = None) -> Order:
    order = _order_row(plan, expires_at)
    if paid_at is not None:  # paid in advance (``do_create_prepaid_order``)
        order.status, order.paid_at = OrderStatus.PAID, paid_at
    for attempt in range(_NUMBER_ATTEMPTS):
        order.number = readable_number()
        try:
            with transaction.atomic():
                order.save(force_insert=True)
                return order
        except IntegrityError:
            # The number collided (same second, same 6 random digits): draw again.
            order.pk = None
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _line_values(line: PlannedLine) -> dict[str, Any]:
    """An order line's own columns (not its relations): what was bought, snapshot at checkout."""
    return {
        "title": line.product.title,
        "spec": line.sku.spec,
        "unit_price_fen": line.unit_price_fen,
        "quantity": line.quantity,
        "total_fen": line.total_fen,
        "discount_fen": line.discount_fen,
        "paid_fen": line.paid_fen,
        "returnable": line.product.returnable,
        **sku_line_fields(line.sku),
    }


def _line_rows(plan: CheckoutPlan, order: Order) -> list[OrderLine]:
    """The order's lines as checkout writes them: instances holding their product and SKU."""
    return [
        OrderLine(shop=plan.shop, order=order, product=line.product, sku=line.sku, **_line_values(line))
        for line in plan.lines
    ]


def _created_event(order: Order) -> dict[str, Any]:
    """The order's first event's own columns (not its order and actor)."""
    return {"from_status": "", "to_status": order.status, "note": _("买家提交订单")}


def _created_message(order: Order, expires_at: datetime | None, now: datetime) -> str:
    """The inbox message of a new order: what to pay and by when."""
    if order.payment_method == PaymentMethod.COD:
        return _("订单 %(number)s 已提交，货到付款 %(yuan)s。") % {
            "number": order.number,
            "yuan": _yuan(order.total_fen),
        }
    # The window actually given: a campaign's or flash sale's ``pay_by`` may shorten the shop's.
    minutes = max(1, round((expires_at - now).total_seconds() / 60)) if expires_at else 0
    return _("订单 %(number)s 待支付 %(yuan)s，请在 %(minutes)s 分钟内完成支付。") % {
        "number": order.number,
        "yuan": _yuan(order.total_fen),
        "minutes": minutes,
    }


def _expires_at(plan: CheckoutPlan, now: datetime) -> datetime | None:
    """The unpaid deadline: the shop's timeout, or the caller's earlier ``pay_by``; none for COD."""
    if plan.payment_method == PaymentMethod.COD:
        return None
    expires_at = now + timedelta(minutes=plan.shop.unpaid_timeout_minutes)
    return min(expires_at, plan.pay_by) if plan.pay_by is not None else expires_at


def _remember_related(order: Order, **related: list[Any]) -> None:
    """Make ``order.<name>.all()`` return rows this transaction just wrote, as ``prefetch_related``
    would, so the caller's response does not read them back."""
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(order, name).all()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset


def _lock_buyers(user_ids: Iterable[int]) -> set[int]:
    """Lock the buyers' account rows, first thing in an order's transaction (primary-key order), and
    return those still active. Account deletion (``privacy.actions.do_delete_account``) locks the
    same row first too, so one waits for the other: an order placed while the account is being
    deleted is refused (AccountInactive), and a deletion that waited sees the new order among its
    blockers. FOR NO KEY UPDATE, so orders of other tables referencing the account do not wait."""
    rows = User.objects.select_for_update(no_key=True).filter(pk__in=set(user_ids), is_active=True).order_by("pk")
    return set(rows.values_list("pk", flat=True))


def _take_coupons(plans: Sequence[CheckoutPlan], now: datetime) -> dict[int, DomainError]:
    """Mark the coupons of ``plans`` used (one statement, none without a coupon); returns, by plan
    index, the refusal of plans whose coupon was used meanwhile (another tab) or has expired."""
    wanted = {index: plan.coupon.pk for index, plan in enumerate(plans) if plan.coupon is not None}
    if not wanted:
        return {}
    taken = coupon_actions.take(sorted(set(wanted.values())), now=now)
    refused: dict[int, DomainError] = {}
    for index, coupon_id in wanted.items():
        if coupon_id not in taken:  # a coupon twice in one batch: the first plan took it
            refused[index] = CouponNotApplicable(
                _("这张优惠券已被使用或已过期，请重新选择"), code="coupon_unavailable", details={"coupon_id": coupon_id}
            )
        taken.discard(coupon_id)
    return refused


def do_create_order(plan: CheckoutPlan) -> Order:
    now = timezone.now()
    expires_at = _expires_at(plan, now)
    pairs = [(line.sku, line.quantity) for line in plan.lines]
    # Already short when checked out: refuse before writing anything (in a sold-out rush
    # most requests end here). The conditional UPDATE below stays the authority.
    _check_stock_left(pairs)
    with transaction.atomic():
        if not _lock_buyers([plan.user.pk]):
            raise AccountInactive(_("账号不可用"))
        for refusal in _take_coupons([plan], now).values():
            raise refusal
        _hold_purchase_quantities(plan.user, pairs)
        order = _insert_order(plan, expires_at)
        loyalty_actions.redeem(order)  # InsufficientPoints (spent meanwhile) undoes the order
        lines = OrderLine.objects.bulk_create(_line_rows(plan, order))
        event = OrderEvent(order=order, refund=None, actor=plan.user, **_created_event(order))
        event.save(force_insert=True)
        _remember_related(order, lines=lines, events=[event])
        if plan.cart_item_ids:
            CartItem.objects.filter(user=plan.user, pk__in=plan.cart_item_ids).delete()
        _notify_member(order, "order.created", lambda: (_("订单已提交"), _created_message(order, expires_at, now)))
        # The slot's place, then stock last: a popular slot's or SKU's row is the contended one,
        # and its lock (PostgreSQL) is held until commit, so take them once everything else is
        # written (lock order: counters, slot, SKUs). SlotFull or SoldOut rolls it all back.
        if plan.delivery_slot is not None:
            _reserve_slot(plan.delivery_slot, now)
        _reserve_stock(pairs)
        if expires_at is not None:
            on_commit(tasks.schedule_close, [order.pk], expires_at)
    return order


# --- orders paid in advance (a prepaid package's portions; the packages app) -----------


def do_create_prepaid_order(plan: CheckoutPlan, *, actor: Any, note: str) -> Order:
    """Create a goods order already paid for (``check_checkout(..., prepaid=True)``): created paid,
    with its stock taken as any order's, and nothing to pay. The caller draws what pays for it in
    the same transaction (a package's portions); ``actor`` is who asked (the member or staff at
    the counter). SoldOut or a slot full rolls the caller's transaction back."""
    if plan.payment_method != PaymentMethod.PREPAID:
        raise ValueError("do_create_prepaid_order takes a prepaid plan")
    now = timezone.now()
    pairs = [(line.sku, line.quantity) for line in plan.lines]
    _check_stock_left(pairs)
    with transaction.atomic():
        if not _lock_buyers([plan.user.pk]):
            raise AccountInactive(_("账号不可用"))
        order = _insert_order(plan, None, paid_at=now)
        lines = OrderLine.objects.bulk_create(_line_rows(plan, order))
        event = OrderEvent.objects.create(
            order=order,
            from_status="",
            to_status=order.status,
            actor=actor if getattr(actor, "pk", None) else None,
            note=note[:255],
        )
        _remember_related(order, lines=lines, events=[event])
        _notify_member(
            order,
            "order.paid",
            lambda: (_("兑换成功"), _("订单 %(number)s 已用套餐卡兑换，无需付款。") % {"number": order.number}),
        )
        if plan.delivery_slot is not None:
            _reserve_slot(plan.delivery_slot, now)
        _reserve_stock(pairs)
        signals.order_paid.send(sender=Order, order=order)
    return order


# --- many orders at once (a flash sale's consumer) --------------------------------------


@dataclass(frozen=True)
class OrderRequest:
    """One order of a batch for ``create_orders``, from a trusted caller (never request data)
    that has chosen the buyer and the destination: ``lines`` are ``(sku_id, quantity)`` pairs;
    ``unit_prices``, ``pay_by`` and ``hold`` as in ``check_checkout``. No cart, note or
    delivery slot: the shop arranges delivery as for its other orders without one."""

    user: Any
    lines: Sequence[tuple[int, int]]
    fulfilment: str
    payment_method: str
    address: Address | None = None
    pickup_point: PickupPoint | None = None
    unit_prices: Mapping[int, int] | None = None
    pay_by: datetime | None = None
    hold: str = ""


def check_orders(requests: Sequence[OrderRequest]) -> list[CheckoutPlan | DomainError]:
    """``check_checkout`` for many orders, set-based: one read of the SKUs and at most one of
    memberships for the whole batch. Each request becomes its plan or the error checkout raises."""
    skus = _skus_by_id(sku_id for request in requests for sku_id, _ in request.lines)
    members = _members_for_prices(requests, skus)
    levels = loyalty_pricing.benefits_for(
        {
            (request.user.pk, skus[sku_id].shop_id)
            for request in requests
            for sku_id, _ in request.lines
            if sku_id in skus
        },
        skus,
    )
    checked: list[CheckoutPlan | DomainError] = []
    for request in requests:
        try:
            checked.append(_check_request(request, skus, members, levels))
        except DomainError as error:
            checked.append(error)
    return checked


def _members_for_prices(requests: Sequence[OrderRequest], skus: Mapping[int, Sku]) -> set[tuple[int, int]]:
    """(user id, shop id) of buyers who are members, asked only where a member price could apply."""
    asking = [
        (request.user.pk, sku.shop_id)
        for request in requests
        for sku_id, _ in request.lines
        if (sku := skus.get(sku_id)) is not None
        and sku_id not in (request.unit_prices or {})
        and unit_price(sku, True)[1]
    ]
    return shop_member_pairs(asking) if asking else set()


def _check_request(
    request: OrderRequest,
    skus: Mapping[int, Sku],
    members: set[tuple[int, int]],
    levels: Mapping[tuple[int, int], loyalty_pricing.Benefits],
) -> CheckoutPlan:
    user = request.user
    if not getattr(user, "is_active", False):
        raise AccountInactive(_("账号不可用"))
    if not request.lines:
        raise CartEmpty(_("请先选择要购买的商品"))
    wanted = [(_available(sku_id, skus.get(sku_id)), _check_quantity(count)) for sku_id, count in request.lines]
    shop, fulfilment = _check_what_and_how(user, wanted, request.fulfilment, request.payment_method)
    address = request.address if fulfilment == Fulfilment.DELIVERY else None
    pickup_point = request.pickup_point if fulfilment == Fulfilment.PICKUP else None
    if fulfilment == Fulfilment.DELIVERY and (address is None or address.user_id != user.pk):
        raise AddressRequired(_("请选择收货地址"))
    if fulfilment == Fulfilment.PICKUP and (
        pickup_point is None or pickup_point.shop_id != shop.pk or not pickup_point.is_active
    ):
        raise PickupPointRequired(_("请选择自提点"))
    benefits = levels.get((user.pk, shop.pk))
    lines = price_lines(
        user, shop, wanted, request.unit_prices, is_member=(user.pk, shop.pk) in members, benefits=benefits
    )
    return _checked_total(
        CheckoutPlan(
            user=user,
            shop=shop,
            lines=lines,
            benefits=benefits,
            fulfilment=fulfilment,
            payment_method=request.payment_method,
            address=address,
            pickup_point=pickup_point,
            pay_by=request.pay_by,
            hold=request.hold[:60],
        )
    )


def create_orders(requests: Sequence[OrderRequest]) -> list[Order | DomainError]:
    """Check out many orders at once (``check_orders``, then ``do_create_orders``): each request
    becomes its order or the error its own checkout would have raised, in the caller's order."""
    return _create_checked(check_orders(requests))


def _create_checked(
    checked: Sequence[CheckoutPlan | DomainError], *, remember: bool = False
) -> list[Order | DomainError]:
    """``do_create_orders`` for the plans among ``checked``; each plan's order or error, in order."""
    created = iter(do_create_orders([plan for plan in checked if isinstance(plan, CheckoutPlan)], remember=remember))
    return [next(created) if isinstance(plan, CheckoutPlan) else plan for plan in checked]


class _Refused(Exception):
    """Some plans of a batch cannot be taken (cap or stock): which, and why."""

    def __init__(self, refused: dict[int, DomainError]) -> None:
        self.refused = refused


def do_create_orders(plans: Sequence[CheckoutPlan], *, remember: bool = False) -> list[Order | DomainError]:
    """Create many orders with the same rows, messages and tasks as ``do_create_order``, in a
    statement count that does not grow with the batch: purchase counters one upsert per product,
    stock one conditional ``F()`` update per SKU (the batch's units summed), orders, lines,
    events and inbox messages one bulk INSERT each. Never oversells: when a counter or a SKU
    cannot take the whole batch, exactly the plans beyond what it can take are refused (in
    batch order, the error checkout would raise) and the rest is taken again. Returns each
    plan's order or error, in order. Delivery slots are not taken here (one row per slot:
    checkout's path); cart lines bought are removed. ``remember``: each order holds its lines and
    first event as ``prefetch_related`` would (for a response built without reading them back)."""
    now = timezone.now()
    outcome: dict[int, Order | DomainError] = {}
    for index, plan in enumerate(plans):
        if plan.delivery_slot is not None:
            outcome[index] = InvalidInput(_("批量下单不支持配送时段"), code="slot_unsupported")
            continue
        if plan.points_used:
            outcome[index] = InvalidInput(_("批量下单不支持积分抵扣"), code="points_unsupported")
            continue
        try:
            _check_stock_left([(line.sku, line.quantity) for line in plan.lines])
        except SoldOut as error:
            outcome[index] = error
    # No savepoint of its own inside a caller's transaction (group commit's): an error fails the caller's.
    with transaction.atomic(savepoint=False):
        taking = [index for index in range(len(plans)) if index not in outcome]
        active = _lock_buyers(plans[index].user.pk for index in taking) if taking else set()
        for index in taking:
            if plans[index].user.pk not in active:
                outcome[index] = AccountInactive(_("账号不可用"))
        taking = [index for index in taking if index not in outcome]
        for _attempt in range(len(taking) + 1):
            try:
                with transaction.atomic():
                    _take_many([(index, plans[index]) for index in taking])
                break
            except _Refused as refusal:
                outcome.update(refusal.refused)
                taking = [index for index in taking if index not in refusal.refused]
        if taking:
            orders = _insert_orders([plans[index] for index in taking], now, remember=remember)
            outcome.update(zip(taking, orders, strict=True))
    return [outcome[index] for index in range(len(plans))]


def _take_many(indexed: Sequence[tuple[int, CheckoutPlan]]) -> None:
    """Coupons, purchase counters, then stock (checkout's lock order), for all ``indexed`` plans, or
    raise ``_Refused`` naming exactly the plans that do not fit (the caller's savepoint rolls back)."""
    if coupon_refusals := _take_coupons([plan for _index, plan in indexed], timezone.now()):
        raise _Refused({indexed[position][0]: error for position, error in coupon_refusals.items()})
    per_counter: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (user, product) → (index, units)
    products: dict[int, Product] = {}
    per_sku: dict[int, list[tuple[int, int]]] = defaultdict(list)  # sku → (index, units)
    skus: dict[int, Sku] = {}
    for index, plan in indexed:
        units_of: dict[int, int] = defaultdict(int)
        for line in plan.lines:
            units_of[line.product.pk] += line.quantity
            products[line.product.pk] = line.product
            per_sku[line.sku.pk].append((index, line.quantity))
            skus[line.sku.pk] = line.sku
        for product_id, units in units_of.items():
            per_counter[(plan.user.pk, product_id)].append((index, units))
    refused: dict[int, DomainError] = {}
    for (_user_id, product_id), taking in per_counter.items():
        cap = products[product_id].per_person_cap
        if cap is not None and sum(units for _index, units in taking) > cap:
            # More than the cap in this batch alone (checkout's first refusal, before any counter).
            title = products[product_id].title
            details = {"product_id": product_id, "cap": cap}
            refused.update(
                (
                    index,
                    PurchaseCapExceeded(
                        _("「%(title)s」每人限购 %(cap)s 件") % {"title": title, "cap": cap}, details=details
                    ),
                )
                for index in _beyond(taking, cap)
            )
    if refused:
        raise _Refused(refused)
    for product_id in sorted(products):
        product = products[product_id]
        wanted = {user_id: taking for (user_id, pk), taking in per_counter.items() if pk == product_id}
        for user_id, left in _add_to_counters(product, wanted).items():
            for index in _beyond(wanted[user_id], left):
                cap = product.per_person_cap
                refused[index] = PurchaseCapExceeded(
                    _("「%(title)s」每人限购 %(cap)s 件，你已购买过") % {"title": product.title, "cap": cap},
                    details={"product_id": product_id, "cap": cap},
                )
    if refused:
        raise _Refused(refused)
    for sku_id in sorted(per_sku):
        total = sum(units for _index, units in per_sku[sku_id])
        if Sku.objects.filter(pk=sku_id, is_active=True, stock__gte=total).update(stock=F("stock") - total) != 1:
            stock = Sku.objects.filter(pk=sku_id, is_active=True).values_list("stock", flat=True).first() or 0
            refused.update((index, _sold_out(skus[sku_id])) for index in _beyond(per_sku[sku_id], stock))
    if refused:
        raise _Refused(refused)


def _beyond(wanted: Sequence[tuple[int, int]], left: int) -> list[int]:
    """The indexes of ``(index, units)`` that do not fit in ``left`` units, taken in order (at
    least one: ``left`` was read after the batch as a whole did not fit)."""
    beyond = []
    for index, units in wanted:
        if units <= left:
            left -= units
        else:
            beyond.append(index)
    return beyond or [wanted[-1][0]]


def _add_to_counters(product: Product, wanted: Mapping[int, Sequence[tuple[int, int]]]) -> dict[int, int]:
    """Add each member's units of ``product`` to their purchase counter in one upsert, within the
    per-person cap. Returns, for the members the cap refused, the units they may still take."""
    cap = product.per_person_cap
    table = PurchaseCounter._meta.db_table
    within_cap = f" WHERE {table}.quantity + excluded.quantity <= %s" if cap is not None else ""
    returned = insert_rows(
        PurchaseCounter,
        ("shop", "user", "product", "quantity"),
        [
            (product.shop_id, user_id, product.pk, sum(units for _, units in taking))
            for user_id, taking in sorted(wanted.items())
        ],
        conflict=f"ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = {table}.quantity + excluded.quantity"
        + within_cap,
        conflict_params=[cap] if cap is not None else [],
        returning=("user_id",),
    )
    taken = {user_id for (user_id,) in returned}
    refused = [user_id for user_id in wanted if user_id not in taken]
    if cap is None or not refused:
        return {}
    # A first purchase above the cap was inserted as is: the caller's savepoint undoes it.
    held = dict(PurchaseCounter.objects.filter(user_id__in=refused, product=product).values_list("user_id", "quantity"))
    # ``held`` is before this statement for rows the cap refused (they were not updated).
    return {user_id: max(0, cap - held.get(user_id, 0)) for user_id in refused}


def _insert_orders(plans: Sequence[CheckoutPlan], now: datetime, *, remember: bool) -> list[Order]:
    """Orders, lines, first events and inbox messages of ``plans`` (stock already taken), one
    bulk INSERT each; their cart lines deleted (one DELETE); their unpaid-close tasks after
    commit, one per deadline. Lines and events are built as instances only to be ``remember``ed."""
    deadlines = [_expires_at(plan, now) for plan in plans]
    orders = [_order_row(plan, expires_at) for plan, expires_at in zip(plans, deadlines, strict=True)]
    for attempt in range(_NUMBER_ATTEMPTS):
        for order, number in zip(orders, _unused_numbers(len(orders)), strict=True):
            order.number = number
        try:
            with transaction.atomic():
                insert_objects(orders)
            break
        except IntegrityError:
            # A parallel checkout took one of the numbers after we looked: draw again.
            for order in orders:
                order.pk = None
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
    if remember:
        lines = [_line_rows(plan, order) for plan, order in zip(plans, orders, strict=True)]
        events = [
            OrderEvent(order=order, refund=None, actor=plan.user, **_created_event(order))
            for plan, order in zip(plans, orders, strict=True)
        ]
        insert_objects([line for its_lines in lines for line in its_lines])
        insert_objects(events)
        for order, its_lines, event in zip(orders, lines, events, strict=True):
            _remember_related(order, lines=its_lines, events=[event])
    else:
        insert_values(
            OrderLine,
            [
                {"shop_id": plan.shop.pk, "order_id": order.pk, "product_id": line.product.pk, "sku_id": line.sku.pk}
                | _line_values(line)
                for plan, order in zip(plans, orders, strict=True)
                for line in plan.lines
            ],
        )
        insert_values(
            OrderEvent,
            [
                {"order_id": order.pk, "actor_id": plan.user.pk} | _created_event(order)
                for plan, order in zip(plans, orders, strict=True)
            ],
        )
    if carts := [(plan.user.pk, pk) for plan in plans for pk in plan.cart_item_ids]:
        CartItem.objects.filter(user_id__in={user for user, _ in carts}, pk__in={pk for _, pk in carts}).delete()
    by_shop: dict[Shop, list[tuple[int, str, str, str]]] = defaultdict(list)
    closing: dict[datetime, list[int]] = defaultdict(list)
    for plan, order, expires_at, link in zip(plans, orders, deadlines, _order_links(orders), strict=True):
        with in_language_of(plan.user):
            title, body = _("订单已提交"), _created_message(order, expires_at, now)
        by_shop[plan.shop].append((order.user_id, title, body, link))
        if expires_at is not None:
            closing[expires_at].append(order.pk)
    for shop, messages in by_shop.items():
        notify_many(shop, "order.created", messages)
    for expires_at, order_ids in closing.items():
        on_commit(tasks.schedule_close, order_ids, expires_at)
    return orders


def _unused_numbers(count: int) -> list[str]:
    """``count`` distinct order numbers no order holds yet (one read for the batch)."""
    numbers = readable_numbers(count)
    while taken := set(Order.objects.filter(number__any_of=numbers).order_by().values_list("number", flat=True)):
        kept = [number for number in numbers if number not in taken]
        numbers = kept + readable_numbers(len(taken), avoid=set(numbers))
    return numbers


@dataclass
class CheckoutQuote:
    """What checkout charges for a choice before the order exists. Its figures are the plan's,
    and the order is written from the same plan, so a quote, the checkout page and the order
    never disagree."""

    plan: CheckoutPlan

    @property
    def delivery_fee_fen(self) -> int:
        """The fee were these goods delivered (whatever fulfilment is chosen now)."""
        if not is_goods(self.plan.kind):
            return 0
        return shipping_fee(
            self.plan.shop, Fulfilment.DELIVERY, self.plan.items_total_fen, free=self.plan.free_shipping
        )

    @property
    def free_shipping_threshold_fen(self) -> int:
        return self.plan.shop.free_shipping_threshold_fen

    @property
    def free_shipping_gap_fen(self) -> int | None:
        """How much more to buy for free delivery: 0 when delivery is free already, None when never free."""
        if self.delivery_fee_fen == 0:
            return 0
        threshold = self.free_shipping_threshold_fen
        return threshold - self.plan.items_total_fen if threshold > 0 else None

    @property
    def cod_available(self) -> bool:
        return PaymentMethod.COD in self.payment_methods

    @cached_property
    def payment_methods(self) -> list[str]:
        """What the member may pay with here: the deployment's methods, cash only for goods of a shop taking it."""
        cod_possible = self.plan.shop.cod_enabled and is_goods(self.plan.kind)
        return [method for method in enabled_payment_methods() if method != PaymentMethod.COD or cod_possible]

    @cached_property
    def delivery_slots(self) -> list[DeliverySlot]:
        """The slots the member may choose now (none for what is not handed over)."""
        if not is_goods(self.plan.kind):
            return []
        return list(bookable_delivery_slots(self.plan.shop, timezone.now()))

    @property
    def delivery_slot_required(self) -> bool:
        """Whether a delivery order of this shop must choose a slot."""
        return is_goods(self.plan.kind) and self.plan.shop.delivery_slots_required

    @cached_property
    def coupon_offers(self) -> list[coupon_rules.Offer]:
        """The member's coupons of this shop on these lines, each with its discount or why it does
        not apply (the one applied included), expiring first first."""
        plan = self.plan
        coupons = coupon_selectors.usable_coupons(plan.user, plan.shop)
        if not coupons:
            return []
        audience = coupon_selectors.audience_of(plan.user, [coupon.template for coupon in coupons])
        payable = plan.items_total_fen + plan.shipping_fee_fen
        return [
            coupon_rules.offer(coupon, plan.lines, payable_fen=payable, is_audience=coupon.template_id in audience)
            for coupon in coupons
        ]

    @cached_property
    def points(self) -> loyalty_pricing.PointsQuote | None:
        """The member's points and the most this order may take (None: no card or no points)."""
        plan = self.plan
        if not is_goods(plan.kind):
            return None
        goods = sum(line.paid_fen for line in plan.lines) + plan.points_fen
        return loyalty_pricing.quote(plan.user, plan.shop, goods, goods + plan.shipping_fee_fen)

    @property
    def suggested_coupon(self) -> coupon_rules.Offer | None:
        """The coupon checkout suggests: the largest discount (``coupons.rules.best``)."""
        return coupon_rules.best(self.coupon_offers)

    def apply_suggested(self) -> None:
        """Apply the suggested coupon to this quote's plan (a page's default choice), as
        ``coupon_id`` would have: the same offer, split over the same lines."""
        if self.plan.coupon is None and (offer := self.suggested_coupon) is not None:
            _split_discount(self.plan.lines, offer)
            self.plan.coupon = offer.coupon


def quote_checkout(user: Any, *, check_stock: bool = True, **checkout: Any) -> CheckoutQuote:
    """The checkout quote: ``check_checkout``'s plan for the same input as ``create_order``, except
    that a destination not chosen yet is no error. Raises what creating the order would raise for
    this input (``check_stock=False``: except a short stock, for a page that still shows the form)."""
    plan = check_checkout(user, **checkout, require_destination=False)
    if check_stock:
        _check_stock_left([(line.sku, line.quantity) for line in plan.lines])
    return CheckoutQuote(plan=plan)


def create_order(user: Any, **checkout: Any) -> Order:
    """Check out (see ``check_checkout`` for the arguments) and create the order, reserving stock.

    A checkout outside any transaction (a member's request) is checked and written by group commit
    with the checkouts other threads of this process make at the same moment (``_write_checkouts``:
    reads and writes whose statements do not grow with the batch; ADR 0013); inside a caller's
    transaction, or with a delivery slot (one contended row per slot) or points (the member's
    points account), it is written alone."""
    if checkout.get("delivery_slot_id") or checkout.get("points") or transaction.get_connection().in_atomic_block:
        return do_create_order(check_checkout(user, **checkout))
    order = _checkouts.submit((user, checkout, None))
    assert isinstance(order, Order)
    return order


def create_order_once(user: Any, request: Once, **checkout: Any) -> Answer:
    """``create_order`` for a request sent with an ``Idempotency-Key``: its answer (``request.answer``
    of the order, or the refusal), given again to a retry with the same key. By group commit the
    key is claimed and answered in the batch's own transaction, one statement each for the whole
    batch (``claim_many``, ``answer_many``); written alone, by ``run_once``."""
    if checkout.get("delivery_slot_id") or transaction.get_connection().in_atomic_block:
        return run_once(request, lambda: request.answer(do_create_order(check_checkout(user, **checkout))))
    answer = _checkouts.submit((user, checkout, request))
    assert isinstance(answer, tuple)
    return answer


type _Checkout = tuple[Any, Mapping[str, Any], Once | None]  # buyer, checkout, its idempotency key if any


def _write_checkouts(checkouts: Sequence[_Checkout]) -> list[Order | Answer | DomainError]:
    """A group-committed batch: checked on rows read once for all (``read_for_checkouts``), then,
    in one transaction, the keys claimed, the orders written by ``do_create_orders`` and the keys'
    answers stored. Each checkout's order or its own refusal, in order; for a checkout with a key,
    its answer (or the 409 or 422 its key gets)."""
    reads = read_for_checkouts([(user, checkout) for user, checkout, _request in checkouts])
    checked: list[CheckoutPlan | DomainError] = []
    for user, checkout, _request in checkouts:
        try:
            checked.append(check_checkout(user, **checkout, reads=reads))
        except DomainError as error:
            checked.append(error)
    keyed = [(index, request) for index, (_user, _checkout, request) in enumerate(checkouts) if request is not None]
    outcomes: dict[int, Order | Answer | DomainError] = {}
    claimed: dict[int, Claimed] = {}
    with transaction.atomic():
        for (index, _request), claim in zip(keyed, claim_many([request for _index, request in keyed]), strict=True):
            if isinstance(claim, Claimed):
                claimed[index] = claim
            else:  # a retry: the stored answer, or the 409 or 422 its key gets
                outcomes[index] = claim
        writing = [index for index in range(len(checkouts)) if index not in outcomes]
        outcomes.update(
            zip(writing, _create_checked([checked[index] for index in writing], remember=True), strict=True)
        )
        answers = {index: answer_of(claim.request, outcomes[index]) for index, claim in claimed.items()}
        answer_many([(claimed[index], answer) for index, answer in answers.items()])
    outcomes.update(answers)
    return [outcomes[index] for index in range(len(checkouts))]


_checkouts: GroupCommit[_Checkout, Order | Answer] = GroupCommit(_write_checkouts)


# --- release: close and cancel -------------------------------------------------------


def _release_stock(order: Order) -> bool:
    """Give the order's stock, purchase quantities and delivery-slot place back, exactly once per order."""
    claimed = Order.objects.filter(pk=order.pk, stock_released=False).update(stock_released=True)
    if claimed != 1:
        return False
    order.stock_released = True
    lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("sku_id"))
    _release_purchase_quantities(order.user_id, lines)
    if order.delivery_slot_id:
        DeliverySlot.objects.filter(pk=order.delivery_slot_id, booked__gt=0).update(booked=F("booked") - 1)
    for line in lines:
        Sku.objects.filter(pk=line.sku_id).update(stock=F("stock") + line.quantity)
    if not is_goods(order.kind):
        for line in lines:
            rules_for(order.kind).released(order, line)
    if order.coupon_id is not None:
        coupon_actions.give_back(order.coupon_id, note=f"订单 {order.number} 未支付已关闭，优惠券退回")
    loyalty_actions.give_back_redeemed(order)
    signals.order_released.send(sender=Order, order=order)
    return True


def close_unpaid_order(order_id: int, *, now: datetime | None = None) -> bool:
    """Close an unpaid order past its deadline and release its stock. Safe to call any number of times."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if (
            order is None
            or order.status != OrderStatus.PENDING_PAYMENT
            or order.payment_method == PaymentMethod.COD
            or order.expires_at is None
            or order.expires_at > now
        ):
            return False
        try:
            transition(order, OrderStatus.CLOSED, note=_("超时未支付，订单已关闭"), at=now)
        except InvalidTransition:
            return False
        _release_stock(order)
        _notify_member(
            order,
            "order.closed",
            lambda: (_("订单已关闭"), _("订单 %(number)s 超时未支付，已自动关闭。") % {"number": order.number}),
        )
    return True


def close_expired_orders(*, now: datetime | None = None, limit: int = 500) -> int:
    """The sweeper: close every unpaid order past its deadline. Returns how many it closed."""
    now = now or timezone.now()
    closed = 0
    for order_id in list(expired_unpaid_orders(now).values_list("pk", flat=True)[:limit]):
        if close_unpaid_order(order_id, now=now):
            closed += 1
    return closed


def _cancel(order: Order, actor: Any, note: str) -> Order:
    transition(order, OrderStatus.CANCELLED, actor=actor, note=note)
    _release_stock(order)
    _notify_member(
        order,
        "order.cancelled",
        lambda: (_("订单已取消"), _("订单 %(number)s 已取消。%(note)s") % {"number": order.number, "note": note}),
    )
    return order


def cancel_order_by_member(user: Any, number: str) -> Order:
    """The member cancels their own order before paying."""
    with transaction.atomic():
        order = access_member_order(user, number, lock=True)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise InvalidTransition(_("只有待付款的订单可以取消"))
        return _cancel(order, user, _("买家取消订单"))


def cancel_unpaid_order(shop: Shop, order_id: int, actor: Any, *, reason: str = "", ip: str | None = None) -> Order:
    """Staff cancel an order that has not been paid (e.g. the buyer asked by phone)."""
    require_permission(actor, shop, permissions.FULFIL_ORDERS)
    with transaction.atomic():
        order = access_order(shop, order_id, lock=True)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise InvalidTransition(_("只有待付款的订单可以取消"))
        _cancel(
            order,
            actor,
            _("商家取消订单：%(reason)s") % {"reason": reason.strip()} if reason.strip() else _("商家取消订单"),
        )
        audit.record(actor=actor, shop=shop, action="order.cancel", obj=order, ip=ip, reason=reason.strip())
        return order


def release_hold(order: Order, note: str) -> bool:
    """The reason to wait is gone (the team or campaign succeeded): the goods may be handed over.

    Returns False when the order was not on hold. Written in the order's timeline.
    """
    if Order.objects.filter(pk=order.pk).exclude(hold_reason="").update(hold_reason="") != 1:
        return False
    order.hold_reason = ""
    OrderEvent.objects.create(order=order, from_status=order.status, to_status=order.status, note=note[:255])
    return True


def restock_line(line: OrderLine, units: int) -> None:
    """``units`` of a paid line will not be handed over (refunded before fulfilment, e.g. a
    group-buy sign-up reduced or a campaign that failed): they go back on the shelf and stop
    counting towards the member's per-person cap. The caller holds the order's row lock and
    calls this once per given-back unit (its own bookkeeping makes that exact)."""
    if units <= 0:
        return
    Sku.objects.filter(pk=line.sku_id).update(stock=F("stock") + units)
    PurchaseCounter.objects.filter(
        user_id=Order.objects.values_list("user_id", flat=True).get(pk=line.order_id),
        product_id=line.product_id,
        quantity__gte=units,
    ).update(quantity=F("quantity") - units)


def cancel_automatically(order_id: int, reason: str) -> bool:
    """Cancel an unpaid order for a reason of the system (its campaign closed). Returns False when
    it is no longer unpaid (paid, closed or cancelled already)."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("user", "shop").filter(pk=order_id).first()
        if order is None or order.status != OrderStatus.PENDING_PAYMENT:
            return False
        _cancel(order, None, reason)
    return True


def move_for_pickup(order: Order, to_status: str, *, actor: Any, note: str) -> Order:
    """Ready-for-pickup or picked-up on behalf of a pickup point's keeper (a group-buy leader).

    The caller has authorised ``actor`` for this order's pickup point; the caller holds the
    order's row lock. The member is told, as when staff move it.
    """
    if to_status not in (OrderStatus.READY_FOR_PICKUP, OrderStatus.PICKED_UP):
        raise InvalidTransition(_("只能标记待自提或已自提"))
    transition(order, to_status, actor=actor, note=note)
    if to_status == OrderStatus.READY_FOR_PICKUP:
        where = order.pickup_point.name if order.pickup_point else _("自提点")
        _notify_member(
            order,
            "order.ready_for_pickup",
            lambda: (_("商品可以自提了"), _("你的订单已到「%(where)s」，请凭取货码自提。") % {"where": where}),
        )
    else:
        _notify_member(order, "order.picked_up", lambda: (_("已自提"), _("你已取走订单商品，祝用餐愉快。")))
    return order


# --- payment (called by the payments app) ---------------------------------------------


def mark_paid(order: Order, *, paid_at: datetime | None = None, actor: Any = None, note: str = "") -> bool:
    """Record that ``order`` has been paid. Returns False when it already was (idempotent).

    A COD order already in fulfilment keeps its status: only ``paid_at`` and an event are written.
    """
    paid_at = paid_at or timezone.now()
    with transaction.atomic():
        locked = _lock_order(order)
        if locked.paid_at is not None:
            _copy_state(order, locked)
            return False
        if locked.status == OrderStatus.PENDING_PAYMENT:
            transition(locked, OrderStatus.PAID, actor=actor, note=note or _("支付成功"), at=paid_at)
        elif locked.payment_method == PaymentMethod.COD and locked.status in IN_FULFILMENT:
            if Order.objects.filter(pk=locked.pk, paid_at__isnull=True).update(paid_at=paid_at) != 1:
                return False
            locked.paid_at = paid_at
            OrderEvent.objects.create(
                order=locked,
                from_status=locked.status,
                to_status=locked.status,
                actor=actor if getattr(actor, "pk", None) else None,
                note=note or _("货到付款已确认收款"),
            )
        else:
            raise InvalidTransition(
                _("订单状态为「%(label)s」，不能记为已付款") % {"label": OrderStatus(locked.status).label},
                details={"from": locked.status, "to": OrderStatus.PAID},
            )
        _notify_member(
            locked,
            "order.paid",
            lambda: (
                _("支付成功"),
                _("订单 %(number)s 已付款 %(yuan)s。") % {"number": locked.number, "yuan": _yuan(locked.total_fen)},
            ),
        )
        _grant(locked)
        _earn_points(locked)
        signals.order_paid.send(sender=Order, order=locked)
        _copy_state(order, locked)
    return True


def _earn_points(order: Order) -> None:
    """A paid goods order earns member-card points, pending until its after-sales window closes."""
    if is_goods(order.kind):
        rows = OrderLine.objects.filter(order=order).values_list("pk", "paid_fen", "product__category_id")
        loyalty_actions.earn(order, [loyalty_actions.PaidLine(pk, paid, category) for pk, paid, category in rows])


def _grant(order: Order) -> None:
    """A non-goods order was paid: its kind's rules grant what it bought, and it completes.

    A line the rules can no longer grant (the last seat went while the member paid) is
    refunded in full at once, with the rules' reason.
    """
    if is_goods(order.kind):
        return
    rules = rules_for(order.kind)
    for line in OrderLine.objects.filter(order=order).order_by("pk"):
        reason = rules.paid(order, line)
        if reason:
            refund_automatically(order, line, reason)
    transition(order, OrderStatus.COMPLETED, note=_("%(label)s已开通") % {"label": ProductKind(order.kind).label})


def reinstate_closed_order(order: Order, *, paid_at: datetime | None = None) -> bool:
    """A payment arrived after the order closed: take the stock again and mark it paid.

    Returns False (and changes nothing) when the order is not closed or the stock is gone;
    the payments app then refunds the money.
    """
    paid_at = paid_at or timezone.now()
    with transaction.atomic():
        locked = _lock_order(order)
        if locked.status != OrderStatus.CLOSED or locked.paid_at is not None:
            return False  # not closed, or closed because it was refunded in full: never reopened
        signals.order_reinstating.send(sender=Order, order=locked)  # their rows before the SKUs
        lines = list(OrderLine.objects.filter(order=locked).select_related("sku__product"))
        pairs = [(line.sku, line.quantity) for line in lines]
        try:
            with transaction.atomic():
                # The member has paid: count the units, but the cap does not undo a payment.
                _hold_purchase_quantities(locked.user, pairs, enforce_cap=False)
                # The member paid in their window: the place is theirs again, past the cut-off too.
                if locked.delivery_slot_id and not DeliverySlot.objects.filter(
                    pk=locked.delivery_slot_id, booked__lt=F("capacity")
                ).update(booked=F("booked") + 1):
                    raise SlotFull(_("配送时段已约满"))
                _reserve_stock(pairs)
                # The price paid included the coupon: without it back (used again, expired) no reinstating.
                if locked.coupon_id is not None and not coupon_actions.retake(locked.coupon_id):
                    raise CouponNotApplicable(_("优惠券已不可用"), code="coupon_unavailable")
                loyalty_actions.retake_redeemed(locked)  # the points it took, or InsufficientPoints
        except (SoldOut, SlotFull, CouponNotApplicable, InsufficientPoints):
            return False
        transition(
            locked,
            OrderStatus.PAID,
            note=_("迟到的付款已到账，订单已恢复"),
            at=paid_at,
            reinstate=True,
            stock_released=False,
            closed_at=None,
        )
        _notify_member(
            locked,
            "order.paid",
            lambda: (
                _("支付成功"),
                _("订单 %(number)s 的付款已到账，订单已恢复") % {"number": locked.number}
                + (_("，我们会尽快为你发货。") if is_goods(locked.kind) else _("。")),
            ),
        )
        _grant(locked)
        _earn_points(locked)
        signals.order_paid.send(sender=Order, order=locked)
        _copy_state(order, locked)
    return True


# --- fulfilment (staff) ---------------------------------------------------------------


def _staff_move(
    shop: Shop,
    order_id: int,
    actor: Any,
    to_status: str,
    *,
    action: str,
    note: str,
    ip: str | None,
    notice: tuple[str, Callable[[], tuple[str, str]]] | None,
    permission: str = permissions.FULFIL_ORDERS,
    **fields: Any,
) -> Order:
    require_permission(actor, shop, permission)
    with transaction.atomic():
        order = access_order(shop, order_id, lock=True)
        transition(order, to_status, actor=actor, note=note, **fields)
        audit.record(actor=actor, shop=shop, action=action, obj=order, ip=ip, **{k: str(v) for k, v in fields.items()})
        if notice:
            _notify_member(order, *notice)
    return order


def ship_order(
    shop: Shop, order_id: int, actor: Any, *, tracking_company: str, tracking_number: str, ip: str | None = None
) -> Order:
    company, number = (tracking_company or "").strip(), (tracking_number or "").strip()
    if not company or not number:
        raise TrackingRequired(_("请填写快递公司和运单号"))
    if len(company) > 32 or len(number) > 64:
        raise TrackingRequired(_("快递公司或运单号太长"))
    return _staff_move(
        shop,
        order_id,
        actor,
        OrderStatus.SHIPPED,
        action="order.ship",
        note=_("已发货：%(company)s %(number)s") % {"company": company, "number": number},
        ip=ip,
        notice=(
            "order.shipped",
            lambda: (
                _("订单已发货"),
                _("你的订单已由%(company)s发出，运单号 %(number)s。") % {"company": company, "number": number},
            ),
        ),
        tracking_company=company,
        tracking_number=number,
    )


def mark_delivered(shop: Shop, order_id: int, actor: Any, *, ip: str | None = None) -> Order:
    return _staff_move(
        shop,
        order_id,
        actor,
        OrderStatus.DELIVERED,
        action="order.deliver",
        note=_("已送达"),
        ip=ip,
        notice=("order.delivered", lambda: (_("订单已送达"), _("你的订单已送达，如有问题可在订单页申请售后。"))),
    )


def mark_ready_for_pickup(shop: Shop, order_id: int, actor: Any, *, ip: str | None = None) -> Order:
    order = access_order(shop, order_id)
    where = order.pickup_point.name if order.pickup_point else _("自提点")
    return _staff_move(
        shop,
        order_id,
        actor,
        OrderStatus.READY_FOR_PICKUP,
        action="order.ready_for_pickup",
        note=_("已到%(where)s，待自提") % {"where": where},
        ip=ip,
        notice=(
            "order.ready_for_pickup",
            lambda: (
                _("商品可以自提了"),
                _("你的订单已到「%(where)s」，请凭订单号 %(number)s 自提。") % {"where": where, "number": order.number},
            ),
        ),
    )


def mark_picked_up(shop: Shop, order_id: int, actor: Any, *, ip: str | None = None) -> Order:
    return _staff_move(
        shop,
        order_id,
        actor,
        OrderStatus.PICKED_UP,
        action="order.picked_up",
        note=_("买家已自提"),
        ip=ip,
        notice=("order.picked_up", lambda: (_("已自提"), _("你已取走订单商品，祝用餐愉快。"))),
    )


def complete_order(shop: Shop, order_id: int, actor: Any, *, ip: str | None = None) -> Order:
    with transaction.atomic():
        order = _staff_move(
            shop,
            order_id,
            actor,
            OrderStatus.COMPLETED,
            action="order.complete",
            note=_("订单已完成"),
            ip=ip,
            notice=None,
        )
        loyalty_actions.settle(order)  # points become available, growth counts
    return order


def auto_complete_orders(*, now: datetime | None = None, limit: int = 500) -> int:
    """Complete paid orders whose after-sales window ended with no open refund. Safe to run twice."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AFTER_SALES_WINDOW_DAYS)
    candidates = (
        Order.objects.filter(
            status__in=(OrderStatus.DELIVERED, OrderStatus.PICKED_UP), paid_at__isnull=False, delivered_at__lte=cutoff
        )
        .exclude(refunds__status__in=OPEN_REFUND_STATUSES)
        .order_by("delivered_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    completed = 0
    for order_id in list(candidates):
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=order_id).first()
            if order is None or order.status not in (OrderStatus.DELIVERED, OrderStatus.PICKED_UP):
                continue
            if RefundRequest.objects.filter(order=order, status__in=OPEN_REFUND_STATUSES).exists():
                continue
            try:
                transition(order, OrderStatus.COMPLETED, note=_("售后期已过，订单自动完成"), at=now)
            except InvalidTransition:
                continue
            loyalty_actions.settle(order)
            completed += 1
    return completed


# --- after-sales ----------------------------------------------------------------------


def refund_refusal(order: Order, line: OrderLine) -> DomainError | None:
    """Why ``line`` may not be refunded now (None when it may; the amount is checked separately)."""
    if order.status == OrderStatus.CLOSED and order.paid_at is not None:
        return RefundAmountInvalid(_("订单已全额退款，没有可退金额"), details={"max_fen": 0})
    if order.paid_at is None or order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED):
        return OrderNotPaid(_("订单尚未付款，无需退款"))
    if not is_goods(order.kind):
        return rules_for(order.kind).refund_refusal(order, line)
    if order.status in HANDED_OVER and not line.returnable:
        return NotReturnable(_("「%(title)s」是生鲜商品，发货后不支持退款") % {"title": line.title})
    if order.delivered_at is not None:
        deadline = order.delivered_at + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS)
        if timezone.now() > deadline:
            return NotReturnable(
                _("已超过 %(days)s 天售后期") % {"days": settings.AFTER_SALES_WINDOW_DAYS},
                code="after_sales_window_closed",
            )
    return None


def request_refund(user: Any, number: str, line_id: int, *, amount_fen: int, reason: str) -> RefundRequest:
    """The member asks for all or part of a line back."""
    reason = (reason or "").strip()
    if not reason:
        raise RefundReasonRequired(_("请填写退款原因"))
    if len(reason) > MAX_REASON_LENGTH:
        raise RefundReasonRequired(
            _("退款原因最多 %(max_reason_length)s 个字") % {"max_reason_length": MAX_REASON_LENGTH}
        )
    with transaction.atomic():
        # The order row lock serialises requests on one order, so two cannot both take the last fen.
        order = access_member_order(user, number, lock=True)
        line = OrderLine.objects.filter(order=order, pk=line_id).first()
        if line is None:
            raise NotFound(_("订单中没有这件商品"), code="order_line_not_found")
        refusal = refund_refusal(order, line)
        if refusal is not None:
            raise refusal
        left = refundable_left_fen(line)
        if not isinstance(amount_fen, int) or amount_fen < 1 or amount_fen > left:
            raise RefundAmountInvalid(
                _("退款金额应在 ¥0.01 到 %(yuan)s 之间") % {"yuan": _yuan(left)}
                if left
                else _("这件商品已没有可退金额"),
                details={"max_fen": left},
            )
        refund = _new_refund(order, line, amount_fen, reason, requested_by=user)
        if rules_for(order.kind).auto_approves_refund(order, line):
            _approve(order, refund, None, _("符合退款规则，自动同意退款 %(yuan)s") % {"yuan": _yuan(amount_fen)})
    return refund


def _new_refund(order: Order, line: OrderLine, amount_fen: int, reason: str, *, requested_by: Any) -> RefundRequest:
    for attempt in range(_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                refund = RefundRequest.objects.create(
                    shop_id=order.shop_id,
                    order=order,
                    line=line,
                    number=readable_number("R"),
                    amount_fen=amount_fen,
                    reason=reason[:MAX_REASON_LENGTH],
                    requested_by=requested_by,
                )
            break
        except IntegrityError:
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
    OrderEvent.objects.create(
        order=order,
        refund=refund,
        from_status="",
        to_status=RefundStatus.REQUESTED,
        actor=requested_by if requested_by.pk == order.user_id else None,
        note=(_("申请退款 %(yuan)s：%(reason)s") % {"yuan": _yuan(amount_fen), "reason": reason})[:255],
    )
    return refund


def _approve(order: Order, refund: RefundRequest, actor: Any, note: str) -> None:
    """Approve ``refund`` (the caller holds its order's row lock) and have the money paid back.

    The payments app receives ``refund_approved`` in this transaction and starts the gateway refund.
    """
    transition_refund(
        refund,
        RefundStatus.APPROVED,
        actor=actor,
        note=note,
        decided_by=actor if getattr(actor, "pk", None) else None,
        decided_at=timezone.now(),
    )
    signals.refund_approved.send(sender=RefundRequest, refund=refund, order=order)
    _notify_member(
        order,
        "refund.approved",
        lambda: (
            _("退款申请已同意"),
            _("「%(title)s」退款 %(yuan)s 处理中。") % {"title": refund.line.title, "yuan": _yuan(refund.amount_fen)},
        ),
    )


def refund_automatically(
    order: Order, line: OrderLine, reason: str, *, amount_fen: int | None = None
) -> RefundRequest | None:
    """Refund ``amount_fen`` of ``line`` (default: all that is left) without anyone asking.

    The caller holds the order's row lock. Used when what was paid for cannot be granted (a
    seat went, a campaign failed), or part of it (goods short at the pickup point, a lower
    tier price reached). Returns None when nothing is left to refund; never more than is left.
    """
    line = OrderLine.objects.get(pk=line.pk)  # fresh: an earlier refund may have moved it
    left = refundable_left_fen(line)
    amount = left if amount_fen is None else min(amount_fen, left)
    if amount <= 0:
        return None
    refund = _new_refund(order, line, amount, reason, requested_by=order.user)
    _approve(order, refund, None, _("自动退款 %(yuan)s：%(reason)s") % {"yuan": _yuan(amount), "reason": reason})
    return refund


def approve_refund(refund: RefundRequest, actor: Any) -> RefundRequest:
    """Staff approved (authorised and audited by payments.actions.approve_refund, which then pays)."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("user", "shop").get(pk=refund.order_id)
        locked = _lock_refund(refund)
        _approve(order, locked, actor, _("商家同意退款 %(yuan)s") % {"yuan": _yuan(locked.amount_fen)})
        _copy_state(refund, locked)
    return refund


def refund_cancelled_event(sender: Any, event: Any, paid_order_ids: Sequence[int], **kwargs: Any) -> None:
    """Receiver of ``events.signals.event_cancelled``: refund every paid ticket of the event in full."""
    for order_id in sorted(paid_order_ids):
        order = Order.objects.select_for_update(of=("self",)).select_related("user", "shop").get(pk=order_id)
        for line in OrderLine.objects.filter(order=order).order_by("pk"):
            refund_automatically(order, line, _("活动「%(title)s」已取消，门票全额退款") % {"title": event.title})


def reject_refund(shop: Shop, refund: RefundRequest, actor: Any, reason: str, ip: str | None = None) -> RefundRequest:
    require_permission(actor, shop, permissions.DECIDE_REFUNDS)
    reason = (reason or "").strip()
    if not reason:
        raise RejectReasonRequired(_("请填写拒绝原因"))
    if len(reason) > MAX_REASON_LENGTH:
        raise RejectReasonRequired(
            _("拒绝原因最多 %(max_reason_length)s 个字") % {"max_reason_length": MAX_REASON_LENGTH}
        )
    if refund.shop_id != shop.pk:
        raise RefundNotFound(_("售后申请不存在"))
    with transaction.atomic():
        locked = _lock_refund(refund)
        transition_refund(
            locked,
            RefundStatus.REJECTED,
            actor=actor,
            note=_("商家拒绝退款：%(reason)s") % {"reason": reason},
            reject_reason=reason,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        audit.record(actor=actor, shop=shop, action="refund.reject", obj=locked, ip=ip, reason=reason)
        order = Order.objects.select_related("user", "shop").get(pk=locked.order_id)
        _notify_member(
            order,
            "refund.rejected",
            lambda: (
                _("退款申请被拒绝"),
                _("「%(title)s」退款申请被拒绝：%(reason)s") % {"title": locked.line.title, "reason": reason},
            ),
        )
        _copy_state(refund, locked)
    return refund


def complete_refund(refund: RefundRequest, *, refunded_at: datetime | None = None) -> bool:
    """The gateway confirmed the money went back. Returns False when already applied (idempotent)."""
    refunded_at = refunded_at or timezone.now()
    with transaction.atomic():
        locked = _lock_refund(refund)
        if locked.status == RefundStatus.REFUNDED:
            _copy_state(refund, locked)
            return False
        transition_refund(
            locked,
            RefundStatus.REFUNDED,
            note=_("已退款 %(yuan)s") % {"yuan": _yuan(locked.amount_fen)},
            refunded_at=refunded_at,
        )
        amount = locked.amount_fen
        line_rows = OrderLine.objects.filter(pk=locked.line_id, refunded_fen__lte=F("paid_fen") - amount)
        order_rows = Order.objects.filter(pk=locked.order_id, refunded_fen__lte=F("total_fen") - amount)
        if (
            line_rows.update(refunded_fen=F("refunded_fen") + amount) != 1
            or order_rows.update(refunded_fen=F("refunded_fen") + amount) != 1
        ):
            raise Conflict(_("退款金额将超过订单金额"), code="refund_exceeds_total")
        order = Order.objects.select_related("user", "shop").get(pk=locked.order_id)
        _notify_member(
            order,
            "refund.refunded",
            lambda: (
                _("退款成功"),
                _("「%(title)s」已退款 %(yuan)s，原路退回。") % {"title": locked.line.title, "yuan": _yuan(amount)},
            ),
        )
        _close_if_refunded_in_full(order)
        goods_paid = order.total_fen - order.shipping_fee_fen
        if order.coupon_id is not None and order.refunded_fen - amount < goods_paid <= order.refunded_fen:
            # This refund took the goods' last fen (that happens once): the coupon comes back if still valid.
            coupon_actions.give_back(order.coupon_id, note=f"订单 {order.number} 已全额退款，优惠券退回")
        line = OrderLine.objects.get(pk=locked.line_id)
        if not is_goods(order.kind):
            rules_for(order.kind).refunded(order, line, amount)
        loyalty_actions.refunded(
            order, refund_number=locked.number, line_id=line.pk, amount_fen=amount, line_refunded_fen=line.refunded_fen
        )
        signals.line_refunded.send(sender=Order, order=order, line=line, amount_fen=amount)
        _copy_state(refund, locked)
    return True


def _close_if_refunded_in_full(order: Order) -> None:
    """A paid order nothing was handed over for, now refunded to the last fen, is over: it
    closes (交易关闭) and leaves the member's 待发货 list, whoever asked for the money back (a
    failed campaign or team, a cancelled sign-up, the member). Any hold goes with it. The
    caller's refunded_fen UPDATE holds the order row, so no one else moves it meanwhile."""
    if order.status == OrderStatus.PAID and order.refunded_fen >= order.total_fen:
        transition(order, OrderStatus.CLOSED, note=_("已全额退款，订单关闭"), hold_reason="")


def fail_refund(refund: RefundRequest, reason: str) -> bool:
    """The gateway reported the refund abnormal or closed. Returns False when already failed."""
    with transaction.atomic():
        locked = _lock_refund(refund)
        if locked.status == RefundStatus.FAILED:
            return False
        transition_refund(locked, RefundStatus.FAILED, note=(_("退款异常：%(reason)s") % {"reason": reason})[:255])
        order = Order.objects.select_related("user", "shop").get(pk=locked.order_id)
        _notify_member(
            order,
            "refund.failed",
            lambda: (
                _("退款遇到问题"),
                _("「%(title)s」退款未能完成，商家会尽快联系你处理。") % {"title": locked.line.title},
            ),
        )
        _copy_state(refund, locked)
    return True
