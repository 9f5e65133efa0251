from django.apps import AppConfig


class WechatConfig(AppConfig):
    name = "shequn.wechat"
    label = "wechat"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
