from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class MerchantsConfig(AppConfig):
    name = "shequn.merchants"
    label = "merchants"
    verbose_name = gettext_lazy("商家入驻与平台")
