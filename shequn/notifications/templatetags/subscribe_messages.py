"""``{% subscribe_button "order_shipped" "refund_done" %}``: inside WeChat's browser, for a member bound
to the official account, a "订阅通知" button — WeChat's ``wx-open-subscribe`` open tag asking for those
templates' consent. Its ``success`` event reports each template's status, which the page posts to the
consent API (``wechat-subscribe.js``). Anywhere else it renders nothing: the open tag is WeChat's.
"""

import logging
from typing import Any

from django import template
from django.urls import reverse

from shequn.wechat import client
from shequn.wechat.selectors import binding_for, is_wechat_browser
from shequn.wechat.templatetags.wechat_share import page_jssdk_config

from ..selectors import template_ids

register = template.Library()
logger = logging.getLogger("shequn.notifications")


@register.inclusion_tag("notifications/_subscribe_button.html", takes_context=True)
def subscribe_button(context: dict[str, Any], *template_keys: str) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return {}
    if not is_wechat_browser(request.headers.get("User-Agent", "")):
        return {}
    configured = template_ids()
    wanted = [configured[key] for key in template_keys if key in configured]
    if not wanted or binding_for(user) is None:
        return {}
    config = None
    if not getattr(request, "wechat_jssdk_configured", False):  # no share card configured this page
        try:
            config = page_jssdk_config(request)
        except client.WechatError:
            logger.warning("No JS-SDK config: the subscribe button is left out of the page")
            return {}
    return {
        "subscribe": {
            "templates": ",".join(wanted),
            "config": config,
            "report_url": reverse("api:record_subscriptions"),
        }
    }
