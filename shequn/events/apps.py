from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "shequn.events"
    label = "events"
    verbose_name = "活动"

    def ready(self) -> None:
        from shequn.catalog.kinds import ProductKind, register

        from .tickets import TicketRules

        register(ProductKind.TICKET, TicketRules())
