from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class EventsConfig(AppConfig):
    name = "shequn.events"
    label = "events"
    verbose_name = gettext_lazy("活动")

    def ready(self) -> None:
        from shequn.catalog.kinds import ProductKind, register

        from .tickets import TicketRules

        register(ProductKind.TICKET, TicketRules())
