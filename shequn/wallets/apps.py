from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class WalletsConfig(AppConfig):
    name = "shequn.wallets"
    label = "wallets"
    verbose_name = gettext_lazy("钱包与账本")
