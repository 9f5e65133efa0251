"""Reads of the payments app."""

from django.db.models import QuerySet

from shequn.orders.models import Order

from .models import GatewayNotification, GatewayRefund, Payment


def payment_of(order: Order) -> Payment | None:
    return Payment.objects.filter(order=order).first()


def payment_for_prepay(prepay_id: str) -> Payment | None:
    return Payment.objects.filter(prepay_id=prepay_id).select_related("shop", "order").first()


def refunds_of(payment: Payment) -> QuerySet[GatewayRefund]:
    return payment.refunds.order_by("created_at", "id")


def notifications_of(out_trade_no: str) -> QuerySet[GatewayNotification]:
    return GatewayNotification.objects.filter(resource__out_trade_no=out_trade_no)
