from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shequn.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from . import checks  # noqa: F401  (registers the system checks)
        from .sql import AnyOf, RelatedAnyOf

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(RelatedAnyOf)
