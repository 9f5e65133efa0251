from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ContentConfig(AppConfig):
    name = "shequn.content"
    label = "content"
    verbose_name = gettext_lazy("内容")
