from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "shequn.payments"
    label = "payments"

    def ready(self) -> None:
        from shequn.orders.models import RefundRequest
        from shequn.orders.signals import refund_approved

        from . import checks  # noqa: F401  (registers the system checks)
        from .actions import pay_approved_refund

        refund_approved.connect(pay_approved_refund, sender=RefundRequest, dispatch_uid="payments.pay_approved_refund")
