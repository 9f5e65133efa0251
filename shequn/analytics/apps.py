from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "shequn.analytics"
    label = "analytics"
    verbose_name = "数据"
