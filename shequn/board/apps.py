from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "shequn.board"
    label = "board"
    verbose_name = "互动区"
