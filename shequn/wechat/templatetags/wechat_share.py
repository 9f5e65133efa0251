"""``{% share_card title description image %}`` in a page's head: Open Graph meta for every browser
and, inside WeChat's browser, the signed JS-SDK config that gives the shared link its card.

Sharing earns nothing (RULES.md): the card only describes the page.
"""

import logging
from typing import Any

from django import template
from django.db.models.fields.files import FieldFile
from django.utils.html import strip_tags
from django.utils.text import Truncator

from .. import client
from ..selectors import is_wechat_browser

register = template.Library()
logger = logging.getLogger("shequn.wechat")

DESCRIPTION_LENGTH = 120


@register.inclusion_tag("wechat/share_card.html", takes_context=True)
def share_card(context: dict[str, Any], title: str, description: str = "", image: Any = "") -> dict[str, Any]:
    """``image`` is a URL or an image field (an empty field means no image)."""
    request = context["request"]
    if isinstance(image, FieldFile):
        image = image.url if image else ""
    link = request.build_absolute_uri()
    card = {
        "title": str(title),
        "desc": Truncator(" ".join(strip_tags(str(description or "")).split())).chars(DESCRIPTION_LENGTH),
        "link": link,
        "imgUrl": request.build_absolute_uri(str(image)) if image else "",
    }
    wechat: dict[str, Any] | None = None
    if client.enabled() and is_wechat_browser(request.headers.get("User-Agent", "")):
        try:
            wechat = {"config": page_jssdk_config(request), "share": card}
        except client.WechatError:
            logger.warning("No JS-SDK config for a shared page: the card falls back to WeChat's default")
    return {"card": card, "wechat": wechat}


def page_jssdk_config(request: Any) -> dict[str, Any]:
    """The page's ``wx.config`` (WeChat takes one per page): signed for the URL, and remembered on the
    request so another tag on the same page (the subscribe button) configures nothing twice."""
    config: dict[str, Any] = client.jssdk_config(request.build_absolute_uri())
    request.wechat_jssdk_configured = True
    return config
