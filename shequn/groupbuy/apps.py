from django.apps import AppConfig


class GroupbuyConfig(AppConfig):
    name = "shequn.groupbuy"
    label = "groupbuy"
    verbose_name = "社区团购"
