from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BoardConfig(AppConfig):
    name = "shequn.board"
    label = "board"
    verbose_name = gettext_lazy("互动区")
