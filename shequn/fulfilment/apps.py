from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "shequn.fulfilment"
    label = "fulfilment"
    verbose_name = "团购履约与团长结算"
