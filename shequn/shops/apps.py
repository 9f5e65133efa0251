from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "shequn.shops"
    label = "shops"
