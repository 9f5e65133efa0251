from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "shequn.wallets"
    label = "wallets"
    verbose_name = "钱包与账本"
