"""API shapes for orders. Money is integer fen; times are ISO 8601 with offset."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from shequn.core.phone import mask_phone
from shequn.core.schemas import Day, Fen, Id, MultilineText, PageQuery, Quantity, SearchText, Text

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


class CartGroupOut(Schema):
    shop_slug: str
    shop_name: str
    items: list[CartItemOut]
    subtotal_fen: int


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
    buyer_note: MultilineText = Field("", max_length=200)
    post_id: Id | None = None
    article_id: Id | None = None


class OrderLineOut(Schema):
    id: int
    product_id: int
    sku_id: int
    title: str
    spec: str
    unit_price_fen: int
    quantity: int
    total_fen: int
    returnable: bool
    refunded_fen: int


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
    shipping_fee_fen: int
    total_fen: int
    refunded_fen: int
    recipient: str
    recipient_phone: str  # masked in the console
    address: str
    pickup_point: OrderPickupPointOut | None
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
        "items": [cart_item_out(item) for item in group.items],
        "subtotal_fen": group.subtotal_fen,
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
            "returnable",
            "refunded_fen",
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
