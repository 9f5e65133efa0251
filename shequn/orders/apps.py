from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "shequn.orders"
    label = "orders"
