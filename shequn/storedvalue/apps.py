from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class StoredValueConfig(AppConfig):
    name = "shequn.storedvalue"
    label = "storedvalue"
    verbose_name = gettext_lazy("储值")

    def ready(self) -> None:
        from shequn.catalog.kinds import ProductKind, register
        from shequn.orders import signals

        from . import actions
        from .rules import TopUpRules

        register(ProductKind.STORED_VALUE, TopUpRules())
        signals.order_released.connect(actions.release_charge, dispatch_uid="storedvalue.release_charge")
