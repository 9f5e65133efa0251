from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "shequn.content"
    label = "content"
    verbose_name = "内容"
