from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shequn.core"
    label = "core"
