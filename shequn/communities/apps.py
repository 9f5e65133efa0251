from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "shequn.communities"
    label = "communities"
