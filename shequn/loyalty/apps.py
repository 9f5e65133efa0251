from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "shequn.loyalty"
    label = "loyalty"
    verbose_name = _("会员卡与积分")
