from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "shequn.catalog"
    label = "catalog"
