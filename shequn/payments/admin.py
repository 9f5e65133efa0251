"""Platform staff read payment records in the Django admin; money only moves through payments.actions."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import GatewayNotification, GatewayRefund, Payment, SandboxRefund, SandboxTransaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("out_trade_no", "shop", "gateway", "status", "amount_fen", "refunded_fen", "created_at")
    list_filter = ("gateway", "status")
    search_fields = ("out_trade_no", "transaction_id")


@admin.register(GatewayRefund)
class GatewayRefundAdmin(ReadOnlyAdmin):
    list_display = ("out_refund_no", "shop", "status", "amount_fen", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("out_refund_no", "refund_id")


@admin.register(GatewayNotification)
class GatewayNotificationAdmin(ReadOnlyAdmin):
    list_display = ("notification_id", "gateway", "event_type", "outcome", "deliveries", "received_at")
    list_filter = ("gateway", "event_type", "outcome")
    search_fields = ("notification_id",)


@admin.register(SandboxTransaction)
class SandboxTransactionAdmin(ReadOnlyAdmin):
    list_display = ("out_trade_no", "trade_state", "amount_fen", "prepay_id", "created_at")
    list_filter = ("trade_state",)


@admin.register(SandboxRefund)
class SandboxRefundAdmin(ReadOnlyAdmin):
    list_display = ("out_refund_no", "status", "amount_fen", "created_at")
