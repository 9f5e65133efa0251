from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "shequn.merchants"
    label = "merchants"
    verbose_name = "商家入驻与平台"
