from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "shequn.notifications"
    label = "notifications"
