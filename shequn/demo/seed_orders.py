"""Past orders for the demo, made through the real actions so every state is one the state
machine reaches, with its events, payments, refunds, audit rows and inbox messages.

Online payments go the whole sandbox way (prepay, the payer confirms, a signed and encrypted
notification to our callback), delivered inline and with Huey running tasks at once, so the
seed needs no running server. The actions stamp everything "now"; afterwards each order's
history is spread back over the last weeks (order, events, refunds, payments, messages).
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.test import override_settings
from django.utils import timezone

from shequn.accounts.models import Address, User
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities.models import Post
from shequn.core.errors import DomainError
from shequn.notifications.models import Notification
from shequn.orders import actions as orders
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.models import CartItem, Order, OrderEvent, RefundRequest
from shequn.payments import actions as payments
from shequn.payments.models import Payment
from shequn.payments.sandbox import server as sandbox
from shequn.shops.models import PickupPoint, Shop

from . import data

# How many orders end in each state (sums to data.ORDER_COUNT). "refund_*" are delivered or
# completed orders with an after-sales request in that state.
PLAN = {
    "pending_payment": 12,
    "closed": 35,
    "cancelled": 25,
    "paid": 40,
    "shipped": 35,
    "delivered": 30,
    "ready_for_pickup": 30,
    "picked_up": 25,
    "completed": 218,
    "refund_requested": 18,
    "refund_rejected": 12,
    "refund_refunded": 20,
}
COD_SHARE = 0.2
DAYS_BACK = 45


@contextmanager
def inline_payments() -> Iterator[None]:
    """Tasks run at once and sandbox notifications go through Django in-process."""
    from huey.contrib.djhuey import HUEY

    immediate = HUEY.immediate
    HUEY.immediate = True
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    try:
        with override_settings(SANDBOX_PAY_DELIVERY="inline", ALLOWED_HOSTS=hosts):
            yield
    finally:
        HUEY.immediate = immediate


def seed_orders(
    shop: Shop,
    staff: dict[str, User],
    members: list[User],
    rng: random.Random,
    report: Any,
    order_count: int = data.ORDER_COUNT,
) -> None:
    # A seed interrupted half-way (Ctrl-C during `make run`) tops up on the next run.
    existing = Order.objects.filter(shop=shop).count()
    if existing >= order_count * 0.9:
        return
    order_count -= existing
    skus = list(
        Sku.objects.filter(shop=shop, is_active=True, product__on_shelf=True, product__kind=ProductKind.GOODS)
        .select_related("product")
        .order_by("id")
    )
    pickup_points = list(PickupPoint.objects.filter(shop=shop, is_active=True))
    addresses = {address.user_id: address for address in Address.objects.filter(user__in=members, is_default=True)}
    posts = list(Post.objects.filter(shop=shop).prefetch_related("products"))
    scale = order_count / sum(PLAN.values())
    targets = [state for state, count in PLAN.items() for _ in range(max(1, round(count * scale)))]
    rng.shuffle(targets)
    made: dict[str, int] = {}
    failures = 0
    report.progress(f"  {len(targets)} past orders through the real order and payment actions (takes a minute)")
    with inline_payments():
        for index, target in enumerate(targets, start=1):
            if index % 100 == 0:
                report.progress(f"    {index}/{len(targets)}")
            member = rng.choice(members)
            try:
                order = _make_order(shop, staff, member, target, rng, skus, pickup_points, addresses, posts)
            except DomainError:
                # A per-person cap reached, say: this member simply does not buy that this time.
                failures += 1
                continue
            made[target] = made.get(target, 0) + 1
            _backdate(order, target, rng)
    summary = ", ".join(f"{count} {state}" for state, count in sorted(made.items()))
    report.add(f"{sum(made.values())} orders through the order and payment actions ({summary})")
    if failures:
        report.add(f"{failures} demo orders refused by the rules (caps) and skipped")


def _make_order(
    shop: Shop,
    staff: dict[str, User],
    member: User,
    target: str,
    rng: random.Random,
    skus: list[Sku],
    pickup_points: list[PickupPoint],
    addresses: dict[int, Address],
    posts: list[Post],
) -> Order:
    needs_refund = target.startswith("refund_")
    pickup_states = {"ready_for_pickup", "picked_up"}
    address = addresses.get(member.pk)
    if target in pickup_states or address is None:
        fulfilment = Fulfilment.PICKUP
    elif target in {"shipped", "delivered"} or needs_refund:
        fulfilment = Fulfilment.DELIVERY
    else:
        fulfilment = rng.choice([Fulfilment.DELIVERY, Fulfilment.PICKUP])
    if target in {"shipped", "delivered"} and address is None:
        target = "picked_up"  # a member without an address collects in person
    # COD orders never close unpaid, and a "paid" COD order would still be pending payment.
    online_only = target in {"closed", "pending_payment", "paid"} or needs_refund
    cod = not online_only and rng.random() < COD_SHARE
    method = PaymentMethod.COD if cod else PaymentMethod.SANDBOX

    # Refunds are asked for on returnable goods; most other baskets are fresh fish.
    choices = [sku for sku in skus if sku.product.returnable] if needs_refund else skus
    post = rng.choice(posts) if posts and rng.random() < 0.4 else None
    lines = rng.sample(choices, k=1 if rng.random() < 0.6 else rng.randint(2, 3))
    for sku in lines:
        orders.add_to_cart(member, sku.pk, rng.choice([1, 1, 1, 2, 3]), post_id=post.pk if post else None)
    destination: dict[str, Any] = (
        {"address_id": address.pk}
        if fulfilment == Fulfilment.DELIVERY and address is not None
        else {"pickup_point_id": rng.choice(pickup_points).pk}
    )
    try:
        order = orders.create_order(
            member,
            fulfilment=fulfilment,
            payment_method=method,
            buyer_note=rng.choice(["", "", "", "请挑大一点的", "放门卫室就行", "下午三点后送"]),
            **destination,
        )
    finally:
        CartItem.objects.filter(user=member).delete()

    operator, finance = staff["operator"], staff["finance"]
    if target == "pending_payment":
        return order
    if target == "closed":
        assert order.expires_at is not None
        orders.close_unpaid_order(order.pk, now=order.expires_at + timedelta(seconds=1))
        return order
    if target == "cancelled":
        orders.cancel_order_by_member(member, order.number)
        return order

    if method == PaymentMethod.SANDBOX:
        _pay_online(order, member)
    if target == "paid":
        return order

    if order.fulfilment == Fulfilment.DELIVERY:
        orders.ship_order(
            shop,
            order.pk,
            operator,
            tracking_company=rng.choice(["顺丰速运", "京东物流", "中通快递"]),
            tracking_number=f"SF{rng.randint(10**11, 10**12 - 1)}",
        )
        if target == "shipped":
            return order
        orders.mark_delivered(shop, order.pk, operator)
    else:
        orders.mark_ready_for_pickup(shop, order.pk, operator)
        if target == "ready_for_pickup":
            return order
        orders.mark_picked_up(shop, order.pk, operator)
    if method == PaymentMethod.COD:
        order.refresh_from_db()
        payments.confirm_cod_payment(shop, order, finance)
    if target in {"delivered", "picked_up"}:
        return order

    if needs_refund:
        order.refresh_from_db()
        line = next((line for line in order.lines.all() if line.returnable), None)
        if line is None:
            return order
        amount = line.total_fen if rng.random() < 0.6 else max(1, line.total_fen // 2)
        refund = orders.request_refund(
            member,
            order.number,
            line.pk,
            amount_fen=amount,
            reason=rng.choice(["不想要了", "买多了", "包装破损", "与描述不符"]),
        )
        if target == "refund_rejected":
            orders.reject_refund(shop, refund, finance, "商品已拆封影响二次销售")
        elif target == "refund_refunded":
            payments.approve_refund(shop, refund, finance)
        return order
    orders.complete_order(shop, order.pk, operator)
    return order


def _pay_online(order: Order, member: User) -> None:
    payments.start_payment(order, member)
    prepay_id = Payment.objects.values_list("prepay_id", flat=True).get(order=order)
    sandbox.confirm(prepay_id)
    order.refresh_from_db()
    if order.paid_at is None:
        raise RuntimeError(f"demo order {order.number}: the sandbox payment did not arrive")


# Typical time from one status to the next, in minutes (low, high).
_GAPS: dict[str, tuple[int, int]] = {
    OrderStatus.PAID: (1, 15),
    OrderStatus.SHIPPED: (120, 1440),
    OrderStatus.DELIVERED: (1440, 3 * 1440),
    OrderStatus.READY_FOR_PICKUP: (240, 1440),
    OrderStatus.PICKED_UP: (60, 2 * 1440),
    OrderStatus.COMPLETED: (3 * 1440, 7 * 1440),
    OrderStatus.CANCELLED: (2, 25),
    OrderStatus.CLOSED: (30, 31),
    RefundStatus.REQUESTED: (60, 2 * 1440),
    RefundStatus.APPROVED: (30, 600),
    RefundStatus.REJECTED: (30, 600),
    RefundStatus.REFUNDED: (1, 10),
}
_STAMPS: dict[str, str] = {
    OrderStatus.PAID: "paid_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.PICKED_UP: "delivered_at",
    OrderStatus.COMPLETED: "completed_at",
    OrderStatus.CLOSED: "closed_at",
    OrderStatus.CANCELLED: "closed_at",
}


_IN_PROGRESS = {"paid", "shipped", "delivered", "ready_for_pickup", "picked_up"}


def _backdate(order: Order, target: str, rng: random.Random) -> None:
    """Spread the order's history back in time so the demo has weeks of orders, not one minute.

    Gaps between events are drawn first; the last event is then anchored recently for orders
    still in progress or in after-sales (refunds need a delivery inside the after-sales window)
    and anywhere in the last weeks for finished ones.
    """
    if target == "pending_payment":
        return  # still inside the payment window: these close while the demo runs
    now = timezone.now()
    events = list(OrderEvent.objects.filter(order=order).order_by("created_at", "id"))
    offsets = [0.0]
    for event in events[1:]:
        low, high = _GAPS.get(event.to_status, (1, 60))
        offsets.append(offsets[-1] + rng.uniform(low, high))
    if target in _IN_PROGRESS or target.startswith("refund_"):
        end = now - timedelta(minutes=rng.uniform(10, 2 * 1440))
    else:
        end = now - timedelta(days=rng.uniform(0.2, DAYS_BACK))
    created = end - timedelta(minutes=offsets[-1])
    stamps: dict[str, datetime] = {}
    refund_times: dict[str, datetime] = {}
    for event, offset in zip(events, offsets, strict=True):
        event.created_at = created + timedelta(minutes=offset)
        if event.refund_id is not None:
            refund_times[event.to_status] = event.created_at
        elif event.from_status and event.from_status == event.to_status:
            stamps["paid_at"] = event.created_at  # cash on delivery confirmed after the hand-over
        elif event.to_status in _STAMPS:
            stamps[_STAMPS[event.to_status]] = event.created_at
    OrderEvent.objects.bulk_update(events, ["created_at"])
    shift = created - order.created_at
    expires = {"expires_at": order.expires_at + shift} if order.expires_at else {}
    Order.objects.filter(pk=order.pk).update(created_at=created, **expires, **stamps)
    Payment.objects.filter(order=order).update(
        created_at=created, **({"succeeded_at": stamps["paid_at"]} if "paid_at" in stamps else {})
    )
    if refund_times:
        RefundRequest.objects.filter(order=order).update(
            created_at=refund_times.get(RefundStatus.REQUESTED, end),
            decided_at=refund_times.get(RefundStatus.APPROVED) or refund_times.get(RefundStatus.REJECTED),
            refunded_at=refund_times.get(RefundStatus.REFUNDED),
        )
    # The member's inbox messages about this order move with it, each to the time of its step
    # ("order.paid" to the paid event, "refund.refunded" to the refund's last event...).
    step_times = {event.to_status: event.created_at for event in events}
    step_times["created"] = created
    messages = list(Notification.objects.filter(Q(link__contains=order.number), user_id=order.user_id))
    for message in messages:
        message.created_at = step_times.get(message.kind.partition(".")[2], end)
    Notification.objects.bulk_update(messages, ["created_at"])
