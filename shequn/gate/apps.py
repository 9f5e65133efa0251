from django.apps import AppConfig


class GateConfig(AppConfig):
    name = "shequn.gate"
    label = "gate"
    verbose_name = "admission gate"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy check)
