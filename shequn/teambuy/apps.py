from django.apps import AppConfig


class TeambuyConfig(AppConfig):
    name = "shequn.teambuy"
    label = "teambuy"
    verbose_name = "拼团"
