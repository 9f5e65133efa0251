"""The naive reference for bench/order_create.py: order creation with the stock taken the usual wrong way.

Everything around the stock is what the real ``POST /api/v1/orders`` does — the same
Idempotency-Key handling, the same checkout validation (``orders.actions.check_checkout``),
the order, lines and event rows, the inbox message, the scheduled unpaid-close task and the
same response body — so the benchmark compares only the stock pattern: here the SKU row is
locked with ``select_for_update()`` at the start of the transaction, the stock is read into
Python, decremented and ``save()``d, and the lock is held until commit. (Per-person purchase
counters are left out: the benchmark's product has no cap.) On SQLite ``select_for_update``
is a no-op and the IMMEDIATE transaction serialises writers instead.

Routed only when SHEQUN_BENCH_ENDPOINTS=1 (shequn/demo/bench_urls.py).
"""

import json
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shequn.accounts.auth import BearerTokenAuth
from shequn.catalog.models import Sku
from shequn.core.errors import DomainError
from shequn.core.events import on_commit
from shequn.core.idempotency import run_idempotent
from shequn.core.ids import readable_number
from shequn.notifications.actions import notify
from shequn.orders import tasks
from shequn.orders.actions import check_checkout, order_link
from shequn.orders.enums import PaymentMethod
from shequn.orders.errors import SoldOut
from shequn.orders.models import Order, OrderEvent, OrderLine
from shequn.orders.schemas import OrderDetailOut, order_out

FIELDS = ("sku_id", "quantity", "fulfilment", "payment_method", "address_id", "pickup_point_id", "buyer_note")


@csrf_exempt
@require_POST
def naive_create_order(request: HttpRequest) -> HttpResponse:
    header = request.headers.get("Authorization", "")
    user = BearerTokenAuth().authenticate(request, header.removeprefix("Bearer ").strip())
    if user is None:
        return JsonResponse({"code": "not_authenticated"}, status=401)
    try:
        payload = json.loads(request.body)
        body = {field: payload[field] for field in FIELDS if field in payload}
    except (ValueError, TypeError):
        return JsonResponse({"code": "invalid_input"}, status=422)

    def handler() -> tuple[int, Any]:
        order = _create_order_naively(user, body)
        return 201, OrderDetailOut.model_validate(order_out(order, timeline=True)).model_dump(mode="json")

    try:
        status, response = run_idempotent(
            user=user,
            scope="bench.naive_order",
            key=request.headers.get("Idempotency-Key"),
            payload=body,
            handler=handler,
        )
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    return JsonResponse(response, status=status)


def _create_order_naively(user: Any, body: dict[str, Any]) -> Order:
    plan = check_checkout(user, **body)
    now = timezone.now()
    expires_at = (
        now + timedelta(minutes=plan.shop.unpaid_timeout_minutes) if plan.payment_method != PaymentMethod.COD else None
    )
    with transaction.atomic():
        for line in sorted(plan.lines, key=lambda line: line.sku.pk):
            sku = Sku.objects.select_for_update().get(pk=line.sku.pk)
            if sku.stock < line.quantity:
                raise SoldOut("库存不足")
            sku.stock -= line.quantity  # read-modify-save: the pattern the real endpoint avoids
            sku.save()
        order = Order.objects.create(
            number=readable_number(),
            shop=plan.shop,
            user=user,
            fulfilment=plan.fulfilment,
            payment_method=plan.payment_method,
            pickup_point=plan.pickup_point,
            buyer_note=plan.buyer_note,
            items_total_fen=plan.items_total_fen,
            shipping_fee_fen=plan.shipping_fee_fen,
            total_fen=plan.total_fen,
            post=plan.post,
            community=plan.community,
            expires_at=expires_at,
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                shop=plan.shop,
                order=order,
                product=line.product,
                sku=line.sku,
                title=line.product.title,
                spec=line.sku.spec,
                unit_price_fen=line.unit_price_fen,
                quantity=line.quantity,
                total_fen=line.total_fen,
                paid_fen=line.total_fen,  # the naive reference takes no coupon
                returnable=line.product.returnable,
            )
            for line in plan.lines
        )
        OrderEvent.objects.create(order=order, from_status="", to_status=order.status, actor=user, note="买家提交订单")
        notify(
            user, shop=plan.shop, kind="order.created", title="订单已提交", body=order.number, link=order_link(order)
        )
        if expires_at is not None:
            on_commit(tasks.schedule_close, [order.pk], expires_at)
    return order


@csrf_exempt
@require_POST
def direct_sign_up(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """bench/groupbuy_signup.py's reference: a 接龙 sign-up that waits in the request for its order
    (the gate's admission, then the consumer writing it, as ``groupbuy.actions.sign_up`` does),
    the way every sign-up was answered before the gate answered at once."""
    from shequn.groupbuy import actions as groupbuy

    header = request.headers.get("Authorization", "")
    user = BearerTokenAuth().authenticate(request, header.removeprefix("Bearer ").strip())
    if user is None:
        return JsonResponse({"code": "not_authenticated"}, status=401)
    try:
        rows = json.loads(request.body)["quantities"]
        quantities = {int(row["item_id"]): int(row["quantity"]) for row in rows}
    except (ValueError, TypeError, KeyError):
        return JsonResponse({"code": "invalid_input"}, status=422)
    try:
        entry = groupbuy.sign_up(user, campaign_id, quantities)
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    return JsonResponse({"id": entry.pk, "order_id": entry.order_id}, status=201)
