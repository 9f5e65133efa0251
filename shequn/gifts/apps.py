from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class GiftsConfig(AppConfig):
    name = "shequn.gifts"
    label = "gifts"
    verbose_name = gettext_lazy("送礼")
