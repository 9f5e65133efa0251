from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class AnalyticsConfig(AppConfig):
    name = "shequn.analytics"
    label = "analytics"
    verbose_name = gettext_lazy("数据")
