"""Reads of the payments app."""

from typing import Any

from django.db.models import QuerySet

from shequn.core.errors import NotFound
from shequn.orders.models import Order
from shequn.shops.models import Shop
from shequn.shops.selectors import require_permission

from .models import GatewayNotification, GatewayRefund, Payment


def payment_of(order: Order) -> Payment | None:
    return Payment.objects.filter(order=order).first()


def payment_for_prepay(prepay_id: str) -> Payment | None:
    return Payment.objects.filter(prepay_id=prepay_id).select_related("shop", "order").first()


def refunds_of(payment: Payment) -> QuerySet[GatewayRefund]:
    return payment.refunds.order_by("created_at", "id")


def notifications_of(out_trade_no: str) -> QuerySet[GatewayNotification]:
    return GatewayNotification.objects.filter(resource__out_trade_no=out_trade_no)


def access_console_shop(user: Any, shop_id: int, permission: str) -> Shop:
    """The shop of an operator API call: 404 for outsiders (foreign ids look missing), 403 for a weak role."""
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise NotFound("店铺不存在", code="shop_not_found")
    require_permission(user, shop, permission)
    return shop
