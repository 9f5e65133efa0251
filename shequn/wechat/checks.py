"""System checks of the WeChat official account settings."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from shequn.core.checks import PRODUCTION_TAG

INCOMPLETE_CREDENTIALS = "shequn.wechat.W001"
FAKE_IN_USE = "shequn.wechat.W002"


@register(PRODUCTION_TAG, deploy=True)
def check_wechat_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if settings.WECHAT_APP_ID and not settings.WECHAT_APP_SECRET:
        found.append(
            Warning(
                "WECHAT_APP_ID is set but WECHAT_APP_SECRET is empty: WeChat sign-in and share cards will fail.",
                hint="Set WECHAT_APP_SECRET to the official account's AppSecret, or unset WECHAT_APP_ID.",
                id=INCOMPLETE_CREDENTIALS,
            )
        )
    if settings.WECHAT_APP_ID and settings.WECHAT_FAKE:
        found.append(
            Warning(
                "WECHAT_FAKE is on: sign-in and share cards talk to the local fake, not to WeChat.",
                hint="Unset WECHAT_FAKE in production.",
                id=FAKE_IN_USE,
            )
        )
    return found
