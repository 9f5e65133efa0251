from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shequn.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject, fields
        from django.utils.translation import gettext_lazy

        from . import checks  # noqa: F401  (registers the system checks)
        from .sql import AnyOf, RelatedAnyOf

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(RelatedAnyOf)
        # The empty choice of every select (Django 6.1's "- Select an option -" has no Chinese in
        # Django's catalog yet): the source language's own words, English in our catalog.
        fields.BLANK_CHOICE_LABEL = gettext_lazy("- 请选择 -")
