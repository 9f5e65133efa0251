from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LotteriesConfig(AppConfig):
    name = "shequn.lotteries"
    label = "lotteries"
    verbose_name = _("抽奖")
