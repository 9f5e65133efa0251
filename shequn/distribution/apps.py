from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionConfig(AppConfig):
    name = "shequn.distribution"
    label = "distribution"
    verbose_name = _("分销")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from shequn.orders import signals
        from shequn.orders.models import Order

        from . import commissions, tasks, views  # noqa: F401  (tasks registers the periodic sweep)

        user_logged_in.connect(views.bind_on_login, dispatch_uid="distribution.bind_on_login")

        signals.order_paid.connect(commissions.on_order_paid, sender=Order, dispatch_uid="distribution.order_paid")
        signals.line_refunded.connect(
            commissions.on_line_refunded, sender=Order, dispatch_uid="distribution.line_refunded"
        )
