from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shequn.accounts"
    label = "accounts"
