"""The naive reference for bench/order_create.py: what order creation looks like done the usual wrong way.

It locks the SKU row with select_for_update, reads the stock into Python, subtracts and
save()s the whole row, then writes the order. On PostgreSQL the lock makes it correct but
serialises every buyer of the SKU; on SQLite select_for_update is a no-op. It exists only to
be measured against the real endpoint and is routed only when SHEQUN_BENCH_ENDPOINTS=1.
"""

import json

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shequn.accounts.auth import BearerTokenAuth
from shequn.catalog.models import Sku
from shequn.core.ids import readable_number
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderEvent, OrderLine
from shequn.shops.models import PickupPoint


@csrf_exempt
@require_POST
def naive_create_order(request: HttpRequest) -> HttpResponse:
    header = request.headers.get("Authorization", "")
    user = BearerTokenAuth().authenticate(request, header.removeprefix("Bearer ").strip())
    if user is None:
        return JsonResponse({"code": "not_authenticated"}, status=401)
    try:
        # The same body as POST /api/v1/orders ("buy now" of one SKU); only these fields are read.
        payload = json.loads(request.body)
        sku_id = int(payload["sku_id"])
        quantity = int(payload["quantity"])
    except (ValueError, KeyError, IndexError, TypeError):
        return JsonResponse({"code": "invalid_input"}, status=422)
    with transaction.atomic():
        sku = Sku.objects.select_for_update().select_related("product").filter(pk=sku_id).first()
        if sku is None:
            return JsonResponse({"code": "not_found"}, status=404)
        if sku.stock < quantity:
            return JsonResponse({"code": "sold_out"}, status=409)
        sku.stock -= quantity  # read-modify-save: the pattern the real endpoint avoids
        sku.save()
        pickup_point = PickupPoint.objects.filter(shop_id=sku.shop_id, is_active=True).first()
        total = sku.price_fen * quantity
        order = Order.objects.create(
            shop_id=sku.shop_id,
            user=user,
            number=readable_number("N"),
            status=OrderStatus.PENDING_PAYMENT,
            fulfilment=Fulfilment.PICKUP,
            payment_method=PaymentMethod.SANDBOX,
            pickup_point=pickup_point,
            items_total_fen=total,
            shipping_fee_fen=0,
            total_fen=total,
        )
        OrderLine.objects.create(
            shop_id=sku.shop_id,
            order=order,
            product=sku.product,
            sku=sku,
            title=sku.product.title,
            spec=sku.spec,
            unit_price_fen=sku.price_fen,
            quantity=quantity,
            total_fen=total,
            returnable=sku.product.returnable,
        )
        OrderEvent.objects.create(order=order, to_status=OrderStatus.PENDING_PAYMENT, actor=user)
    return JsonResponse({"number": order.number, "total_fen": order.total_fen}, status=201)
