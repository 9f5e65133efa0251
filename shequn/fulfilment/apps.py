from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class FulfilmentConfig(AppConfig):
    name = "shequn.fulfilment"
    label = "fulfilment"
    verbose_name = gettext_lazy("团购履约与团长结算")

    def ready(self) -> None:
        from shequn.orders.models import Order
        from shequn.orders.signals import order_paid

        from . import actions

        # A COD order weighed before the cash was collected: the weight difference is
        # refunded (in cash, at once) when the payment is confirmed.
        order_paid.connect(actions.settle_weights_on_paid, sender=Order, dispatch_uid="fulfilment.weights_on_paid")
