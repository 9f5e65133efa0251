from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "shequn.events"
    label = "events"
    verbose_name = "活动"
