from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "shequn.orders"
    label = "orders"

    def ready(self) -> None:
        from shequn.events.models import Event
        from shequn.events.signals import event_cancelled

        from .actions import refund_cancelled_event

        event_cancelled.connect(refund_cancelled_event, sender=Event, dispatch_uid="orders.refund_cancelled_event")
