from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "shequn.privacy"
    label = "privacy"
