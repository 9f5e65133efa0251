from django.apps import AppConfig


class LeadersConfig(AppConfig):
    name = "shequn.leaders"
    label = "leaders"
    verbose_name = "团长"
