"""API shapes for orders. Money is integer fen; times are ISO 8601 with offset."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from shequn.core.phone import mask_phone
from shequn.core.schemas import Count, Day, Fen, Id, MultilineText, PageQuery, Quantity, SearchText, Text
from shequn.coupons.rules import Offer, coupon_face, rule_notes
from shequn.shops.models import DeliverySlot

from .actions import CheckoutQuote
from .models import CartItem, Order, OrderEvent, OrderLine, RefundRequest
from .selectors import CartGroup


class CartItemIn(Schema):
    sku_id: Id
    quantity: Quantity = 1
    post_id: Id | None = None
    article_id: Id | None = None  # the article whose product card it came from


class CartQuantityIn(Schema):
    quantity: Quantity


class CartItemOut(Schema):
    id: int
    sku_id: int
    product_id: int
    title: str
    spec: str
    price_fen: int
    member_price_fen: int | None
    quantity: int
    on_shelf: bool


class CartPricedItemOut(CartItemOut):
    unit_price_fen: int  # what checkout charges per unit: the member price when it applies
    member_price: bool  # the member price applied
    total_fen: int


class CartGroupOut(Schema):
    shop_slug: str
    shop_name: str
    items: list[CartPricedItemOut]
    subtotal_fen: int  # at the prices checkout charges: the quote's items_total_fen for these lines


class OrderCreateIn(Schema):
    """Either ``sku_id`` (+ ``quantity``) for "buy now", or cart lines (all of one shop when omitted)."""

    cart_item_ids: list[Id] | None = None
    sku_id: Id | None = None
    quantity: Quantity = 1
    # "none" for a community fee, a course or a ticket (any value is taken as "none" for those).
    fulfilment: Literal["delivery", "pickup", "none"]
    payment_method: Literal["sandbox", "cod"]
    address_id: Id | None = None
    pickup_point_id: Id | None = None
    # One of the quote's delivery_slots; required for delivery when the quote says so.
    delivery_slot_id: Id | None = None
    buyer_note: MultilineText = Field("", max_length=200)
    post_id: Id | None = None
    article_id: Id | None = None
    # One of the member's coupons (the quote's ``coupons``); none is applied unless given.
    coupon_id: Id | None = None
    # Member-card points taken off the goods after the coupon (at most the quote's ``points_max``).
    points: Count = 0


class CheckoutQuoteLineOut(Schema):
    sku_id: int
    product_id: int
    title: str
    spec: str
    price_fen: int  # the shelf price
    unit_price_fen: int  # what the member pays per unit
    member_price: bool  # the member price applied
    quantity: int
    total_fen: int
    discount_fen: int  # this line's share of the coupon's discount
    paid_fen: int  # total less discount: what a refund of the whole line returns
    returnable: bool


class CheckoutCouponOut(Schema):
    """One of the member's usable coupons of this shop, on this checkout."""

    id: int  # send as coupon_id
    name: str
    face: str  # 满¥100.00减¥20.00, 8.5折，最多减¥30.00 …
    rules: list[str]  # scope, audience, combining with member prices, one per order
    valid_until: datetime
    discount_fen: int  # what it would take off here (0 when it does not apply)
    applies: bool
    reason: str  # why it does not apply ("" when it does)


class CheckoutDeliverySlotOut(Schema):
    """A delivery slot the member may choose now."""

    id: int
    date: date
    starts_at: str  # "09:00", local time
    ends_at: str
    label: str  # 「12月8日（周二）09:00–12:00」
    cutoff_at: datetime  # orders close at this moment
    places_left: int


class CheckoutQuoteOut(Schema):
    """What ``POST /orders`` with the same body would charge; computed by the same checkout."""

    shop_slug: str
    kind: str
    fulfilment: str
    payment_method: str
    lines: list[CheckoutQuoteLineOut]
    items_total_fen: int
    discount_fen: int  # the applied coupon's discount and what points take (0 without either)
    points_used: int  # member-card points taken off the goods
    points_fen: int  # what they take off (part of discount_fen)
    points_available: int | None  # the member's points in this shop (null: no card)
    points_max: int | None  # the most points this order may take (null: no card)
    coupon_id: int | None  # the coupon applied
    coupons: list[CheckoutCouponOut]  # the member's usable coupons of this shop, applying or not
    suggested_coupon_id: int | None  # the largest discount among them
    shipping_fee_fen: int  # for the chosen fulfilment
    total_fen: int  # items - discount + shipping: the order's total_fen
    delivery_fee_fen: int  # the fee were these goods delivered
    free_shipping_threshold_fen: int  # 0 = delivery is never free
    free_shipping_gap_fen: int | None = Field(description="more to buy for free delivery; 0 = free; null = never")
    cod_available: bool  # cash on delivery may be chosen
    payment_methods: list[str]  # what may be chosen as payment_method here ("sandbox", "cod")
    delivery_slots: list[CheckoutDeliverySlotOut]  # the slots open for orders now, soonest first
    delivery_slot_required: bool  # a delivery order must choose one of them (pickup may)
    delivery_slot: CheckoutDeliverySlotOut | None  # the one chosen, still bookable


class OrderLineOut(Schema):
    id: int
    product_id: int
    sku_id: int
    title: str
    spec: str
    unit_price_fen: int
    quantity: int
    total_fen: int
    discount_fen: int  # this line's share of the coupon's discount
    paid_fen: int  # total less discount: refunds and commission go by it
    returnable: bool
    refunded_fen: int
    # Sold by weight (catalog.weights); None for a line priced per piece. unit_price_fen is
    # then the estimated price per piece; a lighter actual weight is refunded (weight_refund_fen).
    weight_unit_grams: int | None = None  # 500 (斤) or 1000 (公斤)
    weight_price_fen: int | None = None  # per weight unit
    estimated_grams: int | None = None  # per piece
    actual_grams: int | None = None  # the whole line, once weighed at packing
    weight_refund_fen: int = 0


class OrderEventOut(Schema):
    from_status: str
    to_status: str
    label: str  # what the timeline shows, zh-hans
    note: str
    refund_number: str | None
    created_at: datetime


class OrderPickupPointOut(Schema):
    id: int
    name: str
    address: str
    opening_hours: str


class OrderDeliverySlotOut(Schema):
    """The delivery slot as chosen at checkout (copied: later changes of the slot do not show)."""

    id: int
    date: date
    label: str


class OrderOut(Schema):
    number: str
    shop_slug: str
    status: str
    status_label: str
    kind: str  # goods, membership, course or ticket
    fulfilment: str
    payment_method: str
    hold_reason: str  # why the goods wait (a team or campaign still forming); "" = free to fulfil
    community_id: int | None
    post_id: int | None
    article_id: int | None  # bought from this article's product card
    items_total_fen: int
    discount_fen: int  # the coupon's discount and what points took
    points_used: int  # member-card points spent on this order
    points_fen: int  # what they took off (part of discount_fen)
    shipping_fee_fen: int
    total_fen: int
    refunded_fen: int
    recipient: str
    recipient_phone: str  # masked in the console
    address: str
    pickup_point: OrderPickupPointOut | None
    delivery_slot: OrderDeliverySlotOut | None
    buyer_note: str
    tracking_company: str
    tracking_number: str
    expires_at: datetime | None
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    lines: list[OrderLineOut]


class OrderDetailOut(OrderOut):
    timeline: list[OrderEventOut]


class ConsoleOrderOut(OrderOut):
    id: int
    member_name: str
    member_phone: str  # always masked


class ConsoleOrderDetailOut(ConsoleOrderOut):
    timeline: list[OrderEventOut]


class RefundIn(Schema):
    line_id: Id
    amount_fen: Fen
    reason: MultilineText = Field(..., max_length=200)


class RefundOut(Schema):
    id: int
    number: str
    order_number: str
    line_id: int
    title: str
    status: str
    status_label: str
    amount_fen: int
    reason: str
    reject_reason: str
    created_at: datetime
    decided_at: datetime | None
    refunded_at: datetime | None


class ShipIn(Schema):
    tracking_company: Text = Field(..., max_length=32)
    tracking_number: Text = Field(..., max_length=64)


class OrderReasonIn(Schema):
    reason: MultilineText = Field("", max_length=200)


class ConsoleOrderFilters(PageQuery):
    status: Text | None = Field(None, max_length=20)
    fulfilment: Text | None = Field(None, max_length=10)
    payment_method: Text | None = Field(None, max_length=10)
    search: SearchText | None = Field(None, description="order number or phone digits")
    date_from: Day | None = None
    date_to: Day | None = None
    delivery_slot_id: Id | None = None


class RefundQuery(PageQuery):
    status: Text | None = Field(None, max_length=20)


class OrderTabQuery(PageQuery):
    tab: Text | None = Field(None, max_length=20)  # pending, to_ship, to_receive, done or closed


# --- builders: plain dicts so idempotent responses can be stored as JSON ----------------


def cart_item_out(item: CartItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "sku_id": item.sku_id,
        "product_id": item.sku.product_id,
        "title": item.sku.product.title,
        "spec": item.sku.spec,
        "price_fen": item.sku.price_fen,
        "member_price_fen": item.sku.member_price_fen,
        "quantity": item.quantity,
        "on_shelf": item.sku.product.on_shelf and item.sku.is_active,
    }


def cart_group_out(group: CartGroup) -> dict[str, Any]:
    return {
        "shop_slug": group.shop.slug,
        "shop_name": group.shop.name,
        "items": [
            {
                **cart_item_out(item),
                "unit_price_fen": line.unit_price_fen,
                "member_price": line.member_price,
                "total_fen": line.total_fen,
            }
            for item, line in group.rows
        ],
        "subtotal_fen": group.subtotal_fen,
    }


def checkout_quote_out(quote: CheckoutQuote) -> dict[str, Any]:
    plan = quote.plan
    return {
        "shop_slug": plan.shop.slug,
        "kind": plan.kind,
        "fulfilment": plan.fulfilment,
        "payment_method": plan.payment_method,
        "lines": [
            {
                "sku_id": line.sku.pk,
                "product_id": line.product.pk,
                "title": line.product.title,
                "spec": line.sku.spec,
                "price_fen": line.sku.price_fen,
                "unit_price_fen": line.unit_price_fen,
                "member_price": line.member_price,
                "quantity": line.quantity,
                "total_fen": line.total_fen,
                "discount_fen": line.discount_fen,
                "paid_fen": line.paid_fen,
                "returnable": line.product.returnable,
            }
            for line in plan.lines
        ],
        "items_total_fen": plan.items_total_fen,
        "discount_fen": plan.discount_fen,
        "points_used": plan.points_used,
        "points_fen": plan.points_fen,
        "points_available": points.available if (points := quote.points) else None,
        "points_max": points.max_points if points else None,
        "coupon_id": plan.coupon.pk if plan.coupon else None,
        "coupons": [checkout_coupon_out(offer) for offer in quote.coupon_offers],
        "suggested_coupon_id": suggested.coupon.pk if (suggested := quote.suggested_coupon) else None,
        "shipping_fee_fen": plan.shipping_fee_fen,
        "total_fen": plan.total_fen,
        "delivery_fee_fen": quote.delivery_fee_fen,
        "free_shipping_threshold_fen": quote.free_shipping_threshold_fen,
        "free_shipping_gap_fen": quote.free_shipping_gap_fen,
        "cod_available": quote.cod_available,
        "payment_methods": quote.payment_methods,
        "delivery_slots": [delivery_slot_choice_out(slot) for slot in quote.delivery_slots],
        "delivery_slot_required": quote.delivery_slot_required,
        "delivery_slot": delivery_slot_choice_out(plan.delivery_slot) if plan.delivery_slot else None,
    }


def checkout_coupon_out(offer: Offer) -> dict[str, Any]:
    template = offer.coupon.template
    return {
        "id": offer.coupon.pk,
        "name": template.name,
        "face": coupon_face(offer.coupon),
        "rules": rule_notes(template),
        "valid_until": offer.coupon.valid_until,
        "discount_fen": offer.discount_fen,
        "applies": offer.applies,
        "reason": offer.refusal,
    }


def delivery_slot_choice_out(slot: DeliverySlot) -> dict[str, Any]:
    return {
        "id": slot.pk,
        "date": slot.date,
        "starts_at": f"{slot.starts_at:%H:%M}",
        "ends_at": f"{slot.ends_at:%H:%M}",
        "label": slot.label,
        "cutoff_at": slot.cutoff_at,
        "places_left": slot.places_left,
    }


def line_out(line: OrderLine) -> dict[str, Any]:
    return {
        name: getattr(line, name)
        for name in (
            "id",
            "product_id",
            "sku_id",
            "title",
            "spec",
            "unit_price_fen",
            "quantity",
            "total_fen",
            "discount_fen",
            "paid_fen",
            "returnable",
            "refunded_fen",
            "weight_unit_grams",
            "weight_price_fen",
            "estimated_grams",
            "actual_grams",
            "weight_refund_fen",
        )
    }


def event_out(event: OrderEvent) -> dict[str, Any]:
    return {
        "from_status": event.from_status,
        "to_status": event.to_status,
        "label": event.label,
        "note": event.note,
        "refund_number": event.refund.number if event.refund_id and event.refund else None,
        "created_at": event.created_at,
    }


def order_out(order: Order, *, console: bool = False, timeline: bool = False) -> dict[str, Any]:
    point = order.pickup_point
    body: dict[str, Any] = {
        "number": order.number,
        "shop_slug": order.shop.slug,
        "status": order.status,
        "status_label": order.get_status_display(),
        "kind": order.kind,
        "fulfilment": order.fulfilment,
        "hold_reason": order.hold_reason,
        "community_id": order.community_id,
        "post_id": order.post_id,
        "article_id": order.article_id,
        "payment_method": order.payment_method,
        "items_total_fen": order.items_total_fen,
        "discount_fen": order.discount_fen,
        "points_used": order.points_used,
        "points_fen": order.points_fen,
        "shipping_fee_fen": order.shipping_fee_fen,
        "total_fen": order.total_fen,
        "refunded_fen": order.refunded_fen,
        "recipient": order.recipient,
        # Phone numbers are shown in full only to their owner, the member.
        "recipient_phone": mask_phone(order.recipient_phone) if console else order.recipient_phone,
        "address": order.address_text,
        "pickup_point": (
            {"id": point.pk, "name": point.name, "address": point.address, "opening_hours": point.opening_hours}
            if point
            else None
        ),
        "delivery_slot": (
            {"id": order.delivery_slot_id, "date": order.delivery_slot_date, "label": order.delivery_slot_label}
            if order.delivery_slot_id
            else None
        ),
        "buyer_note": order.buyer_note,
        "tracking_company": order.tracking_company,
        "tracking_number": order.tracking_number,
        "expires_at": order.expires_at,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "completed_at": order.completed_at,
        "closed_at": order.closed_at,
        "lines": [line_out(line) for line in order.lines.all()],
    }
    if console:
        body.update(id=order.pk, member_name=order.user.display_name, member_phone=mask_phone(order.user.phone or ""))
    if timeline:
        body["timeline"] = [event_out(event) for event in _timeline(order)]
    return body


def _timeline(order: Order) -> Any:
    # Events already loaded (prefetched, or just written by create_order) are used as they are.
    if "events" in getattr(order, "_prefetched_objects_cache", {}):
        return order.events.all()
    return order.events.select_related("refund").order_by("id")


def refund_out(refund: RefundRequest) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "number": refund.number,
        "order_number": refund.order.number,
        "line_id": refund.line_id,
        "title": refund.line.title,
        "status": refund.status,
        "status_label": refund.get_status_display(),
        "amount_fen": refund.amount_fen,
        "reason": refund.reason,
        "reject_reason": refund.reject_reason,
        "created_at": refund.created_at,
        "decided_at": refund.decided_at,
        "refunded_at": refund.refunded_at,
    }
