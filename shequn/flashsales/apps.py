from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlashsalesConfig(AppConfig):
    name = "shequn.flashsales"
    label = "flashsales"
    verbose_name = _("秒杀")

    def ready(self) -> None:
        from shequn.orders import signals
        from shequn.orders.models import Order

        from . import actions

        signals.order_paid.connect(actions.on_order_paid, sender=Order, dispatch_uid="flashsales.order_paid")
        signals.order_released.connect(
            actions.on_order_released, sender=Order, dispatch_uid="flashsales.order_released"
        )
