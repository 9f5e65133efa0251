"""Test helpers for WeChat: the fake official account, and a person's WeChat app opening its pages."""

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.cache import cache

from shequn.wechat.fake import FAKE, FakeApp, FakeWechat

APP_ID = "wx5b7c682cca621df2"
APP_SECRET = "fake-app-secret-3f9a1c7e5b2d4a6c"  # the fake's, never a real one
# What WeChat's in-app browser on Android sends.
WECHAT_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) "
    "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)


@pytest.fixture
def wechat(settings: Any) -> Iterator[FakeWechat]:
    """Turn WeChat on against the fake, with one official account whose OAuth domain is SITE_URL's host."""
    settings.WECHAT_APP_ID = APP_ID
    settings.WECHAT_APP_SECRET = APP_SECRET
    settings.WECHAT_FAKE = True
    settings.WECHAT_API_BASE = "https://api.weixin.qq.com"
    settings.WECHAT_OPEN_BASE = "https://open.weixin.qq.com"
    FAKE.reset()
    FAKE.apps[APP_ID] = FakeApp(secret=APP_SECRET, oauth_domain=urlsplit(settings.SITE_URL).hostname or "")
    cache.clear()
    yield FAKE
    FAKE.reset()
    cache.clear()


def wechat_authorize(authorize_url: str, person: str) -> httpx.Response:
    """``person``'s WeChat app opens the authorize URL (WeChat's browser, signed in as them)."""
    with httpx.Client(transport=httpx.WSGITransport(app=FAKE), cookies={"wechat_user": person}) as client:
        return client.get(authorize_url.split("#", 1)[0])


def callback_path(authorize_url: str, person: str) -> str:
    """Where WeChat sends ``person`` back to (path and query of our callback), after they authorise."""
    response = wechat_authorize(authorize_url, person)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    return f"{location.path}?{location.query}"


# Subscribe message templates the fake account has picked, by our template key.
TEMPLATES = {
    "order_paid": "TPL_ORDER_PAID_e3Xq9k2VdLw7Rb1Nc5Hs0aYfGu",
    "order_shipped": "TPL_ORDER_SHIPPED_p4Wn8j1TcKv6Qa0Mb3Gr9z",
    "pickup_ready": "TPL_PICKUP_READY_s7Yh2m5XeJq9Ub4Ld8Ft1w",
    "flashsale_started": "TPL_FLASHSALE_STARTED_k2Ra6c0PgNx3Vd7Hj",
    "refund_done": "TPL_REFUND_DONE_b9Tc3v6ZfMy1Se5Kq0Wn4h",
}


@pytest.fixture
def wechat_subscribe(wechat: FakeWechat, settings: Any) -> Iterator[FakeWechat]:
    """``wechat``, with the account's subscribe message templates configured and the subscribe channel on."""
    from shequn.notifications import actions

    wechat.subscribe_templates.update({template_id: {"thing1", "thing2"} for template_id in TEMPLATES.values()})
    settings.WECHAT_SUBSCRIBE_TEMPLATES = dict(TEMPLATES)
    settings.NOTIFICATION_CHANNELS = [
        "shequn.notifications.channels.InboxChannel",
        "shequn.notifications.channels.WechatSubscribeChannel",
    ]
    actions._outside_channels.cache_clear()
    yield wechat
    actions._outside_channels.cache_clear()


def bind_wechat(user: Any, person: str) -> str:
    """Bind ``user`` to ``person``'s WeChat as the OAuth sign-in does; returns the openid."""
    from shequn.wechat.actions import do_bind
    from shequn.wechat.client import WechatIdentity

    identity = WechatIdentity(APP_ID, FAKE.openid(APP_ID, person), FAKE.unionid(person), "snsapi_base")
    return do_bind(user, identity).openid


def share_card(html: str) -> dict[str, Any] | None:
    """The JS-SDK data a page hands ``wx.config`` and the share calls (``config`` and ``share``:
    title, desc, link, imgUrl), or None when the page carries none."""
    found = re.search(r'<script id="wechat-share" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None
