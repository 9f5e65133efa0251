"""Reads of WeChat bindings."""

from typing import Any

from django.conf import settings

from .models import WechatBinding


def binding_for(user: Any) -> WechatBinding | None:
    """The member's binding under the configured official account, if any."""
    if not settings.WECHAT_APP_ID or getattr(user, "pk", None) is None:
        return None
    return WechatBinding.objects.filter(user=user, app_id=settings.WECHAT_APP_ID).first()


def payer_openid(user: Any) -> str:
    """The openid a JSAPI payment names as payer ("" when the member never signed in through WeChat)."""
    binding = binding_for(user)
    return binding.openid if binding else ""


def is_wechat_browser(user_agent: str) -> bool:
    return "MicroMessenger" in (user_agent or "")
