from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (``manage.py seed_demo``) and the benchmark's reference endpoint.

    It sits above every domain app (import-linter) because it drives all of them.
    """

    name = "shequn.demo"
    label = "demo"
    verbose_name = "Demo"
