from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeambuyConfig(AppConfig):
    name = "shequn.teambuy"
    label = "teambuy"
    verbose_name = _("拼团")

    def ready(self) -> None:
        from shequn.orders.models import Order
        from shequn.orders.signals import line_refunded, order_paid, order_reinstating, order_released

        from . import actions

        order_reinstating.connect(actions.on_order_reinstating, sender=Order, dispatch_uid="teambuy.order_reinstating")
        order_paid.connect(actions.on_order_paid, sender=Order, dispatch_uid="teambuy.order_paid")
        order_released.connect(actions.on_order_released, sender=Order, dispatch_uid="teambuy.order_released")
        line_refunded.connect(actions.on_line_refunded, sender=Order, dispatch_uid="teambuy.line_refunded")
