from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "shequn.payments"
    label = "payments"
