from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupbuyConfig(AppConfig):
    name = "shequn.groupbuy"
    label = "groupbuy"
    verbose_name = _("社区团购")

    def ready(self) -> None:
        from shequn.communities import cards
        from shequn.orders import signals
        from shequn.orders.models import Order

        from . import actions, selectors

        cards.register("groupbuy.campaign", selectors.campaign_cards)

        signals.order_reinstating.connect(
            actions.on_order_reinstating, sender=Order, dispatch_uid="groupbuy.order_reinstating"
        )
        signals.order_paid.connect(actions.on_order_paid, sender=Order, dispatch_uid="groupbuy.order_paid")
        signals.order_released.connect(actions.on_order_released, sender=Order, dispatch_uid="groupbuy.order_released")
        signals.line_refunded.connect(actions.on_line_refunded, sender=Order, dispatch_uid="groupbuy.line_refunded")
