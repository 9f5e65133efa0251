from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RedpacketsConfig(AppConfig):
    name = "shequn.redpackets"
    label = "redpackets"
    verbose_name = _("红包")
