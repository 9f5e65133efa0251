from django.apps import AppConfig


class GateConfig(AppConfig):
    name = "shequn.gate"
    label = "gate"
    verbose_name = "admission gate"
