"""Share cards: the JS-SDK signature, the cached jsapi_ticket, and the card on shared pages."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client

from shequn.testing.community import make_member
from shequn.testing.factories import CommunityFactory
from shequn.testing.orders import make_shop, make_sku
from shequn.testing.wechat import APP_ID, WECHAT_USER_AGENT, share_card, wechat
from shequn.wechat import client as wechat_client
from shequn.wechat.models import WechatCredential

__all__ = ["wechat"]

# The published example of WeChat's JS-SDK documentation (附录1 JS-SDK使用权限签名算法).
DOC_TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
DOC_NONCESTR = "Wm3WZYTPz0wzccnW"
DOC_TIMESTAMP = 1414587457


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        ("http://mp.weixin.qq.com?params=value", "0f9de62fce790f9a083d5c99e95740ceb90c27ed"),
        ("http://mp.weixin.qq.com", "f4d90daf4b3bca3078ab155816175ba34c443a7b"),
        # The #fragment is not part of the signed URL.
        ("http://mp.weixin.qq.com?params=value#share", "0f9de62fce790f9a083d5c99e95740ceb90c27ed"),
    ],
)
def test_signature_matches_wechats_published_example(url, signature):
    assert (
        wechat_client.jssdk_signature(ticket=DOC_TICKET, noncestr=DOC_NONCESTR, timestamp=DOC_TIMESTAMP, url=url)
        == signature
    )


@pytest.mark.django_db
def test_ticket_is_cached_until_expiry_then_fetched_once_more(wechat):
    with time_machine.travel("2026-11-01 10:00:00+08:00", tick=False) as traveller:
        first = wechat_client.jsapi_ticket()
        assert wechat_client.jsapi_ticket() == first
        traveller.shift(timedelta(minutes=100))
        assert wechat_client.jsapi_ticket() == first
        assert wechat.calls == ["/cgi-bin/token", "/cgi-bin/ticket/getticket"]
        traveller.shift(timedelta(hours=2))
        second = wechat_client.jsapi_ticket()
        assert second != first
        assert wechat_client.jsapi_ticket() == second
    assert wechat.calls == ["/cgi-bin/token", "/cgi-bin/ticket/getticket"] * 2


@pytest.mark.django_db
def test_a_revoked_access_token_is_renewed_once(wechat, settings):
    wechat_client.jsapi_ticket()
    # The ticket is gone (cache and shared row); the shared token is not.
    cache.delete(f"wechat:jsapi_ticket:{settings.WECHAT_APP_ID}")
    WechatCredential.objects.filter(name="jsapi_ticket").delete()
    wechat.revoke_tokens()  # e.g. the AppSecret was reset: WeChat no longer takes our cached token
    assert wechat_client.jsapi_ticket()
    assert wechat.calls[2:] == ["/cgi-bin/ticket/getticket", "/cgi-bin/token", "/cgi-bin/ticket/getticket"]


@pytest.mark.django_db
def test_a_refusal_after_renewal_is_raised_not_retried_forever(wechat, monkeypatch):
    monkeypatch.setattr(wechat, "_ticket", lambda query: {"errcode": 40001, "errmsg": "invalid credential"})
    with pytest.raises(wechat_client.WechatError) as refused:
        wechat_client.jsapi_ticket()
    assert refused.value.errcode == 40001
    assert wechat.calls == ["/cgi-bin/token", "/cgi-bin/ticket/getticket"] * 2  # renewed once, then raised


def _meta(html: str, name: str) -> str:
    found = re.search(rf'<meta property="{name}" content="([^"]*)">', html)
    return found.group(1) if found else ""


def _product_url() -> str:
    shop = make_shop()
    sku = make_sku(shop, title="赣南脐橙 5 斤", subtitle="当季现摘，次日达")
    return f"/s/{shop.slug}/p/{sku.product_id}/"


@pytest.mark.django_db
def test_product_page_in_wechat_carries_a_signed_shareshare_card(wechat):
    url = _product_url()
    html = Client(HTTP_USER_AGENT=WECHAT_USER_AGENT).get(f"{url}?from=share").content.decode()
    card = share_card(html)
    assert card is not None
    assert card["share"]["title"] == "赣南脐橙 5 斤"
    assert card["share"]["desc"] == "当季现摘，次日达"
    assert card["share"]["link"] == f"http://testserver{url}?from=share"
    config = card["config"]
    assert config["appId"] == APP_ID
    # What WeChat checks on wx.config: the signature over the cached ticket and this very page URL.
    expected = wechat_client.jssdk_signature(
        ticket=wechat_client.jsapi_ticket(),
        noncestr=config["nonceStr"],
        timestamp=config["timestamp"],
        url=f"http://testserver{url}?from=share",
    )
    assert config["signature"] == expected
    assert "jweixin-1.6.0.js" in html
    script = finders.find("shequn/wechat-share.js")
    assert script is not None
    assert "wx.updateAppMessageShareData" in Path(str(script)).read_text()
    assert _meta(html, "og:title") == "赣南脐橙 5 斤"


@pytest.mark.django_db
def test_other_browsers_get_open_graph_only(wechat):
    url = _product_url()
    html = Client().get(url).content.decode()
    assert _meta(html, "og:title") == "赣南脐橙 5 斤"
    assert _meta(html, "og:description") == "当季现摘，次日达"
    assert share_card(html) is None
    assert wechat.calls == []  # no ticket fetched for a page WeChat will not configure


@pytest.mark.django_db
def test_with_wechat_off_or_down_the_page_still_renders_its_open_graph(wechat, settings, monkeypatch):
    url = _product_url()
    monkeypatch.setattr(wechat, "_token", lambda query: {"errcode": -1, "errmsg": "system error"})
    html = Client(HTTP_USER_AGENT=WECHAT_USER_AGENT).get(url).content.decode()
    assert share_card(html) is None
    assert _meta(html, "og:title") == "赣南脐橙 5 斤"
    settings.WECHAT_APP_ID = ""
    html = Client(HTTP_USER_AGENT=WECHAT_USER_AGENT).get(url).content.decode()
    assert share_card(html) is None
    assert _meta(html, "og:title") == "赣南脐橙 5 斤"


@pytest.mark.django_db
def test_community_page_shares_its_name_and_description(wechat):
    community = CommunityFactory.create(shop=make_shop(), description="<p>每周三团<b>新鲜蔬菜</b></p>")
    member = make_member(community, "小王")
    browser = Client(HTTP_USER_AGENT=WECHAT_USER_AGENT)
    browser.force_login(member)
    card = share_card(browser.get(f"/c/{community.pk}/").content.decode())
    assert card is not None
    assert card["share"]["title"] == community.name
    assert card["share"]["desc"] == "每周三团新鲜蔬菜"


# What sharing-for-reward campaigns are called; none may appear on any page or in any message.
REWARD_PHRASES = ("分享有礼", "转发有礼", "分享领", "分享得", "分享赚", "分享返", "分享送", "转发送", "集赞")


def test_sharing_earns_nothing_anywhere():
    """RULES.md: no reward of any kind for sharing. Sharing is the JS-SDK describing the page; the
    script reports nothing back, no route or table records a share, and no text offers a reward."""
    from django.apps import apps
    from django.conf import settings
    from django.urls import get_resolver

    script = Path(str(finders.find("shequn/wechat-share.js"))).read_text()
    calls = set(re.findall(r"wx\.(\w+)\(", script))
    assert calls == {"config", "ready", "updateAppMessageShareData", "updateTimelineShareData"}
    # The old onMenuShare* APIs report a share through success callbacks; these are not asked for,
    # and nothing in the script calls back or reaches the server.
    assert re.findall(r'"(\w+)"', script.split("jsApiList", 1)[1].split("]", 1)[0]) == [
        "updateAppMessageShareData",
        "updateTimelineShareData",
    ]
    for word in ("success", "complete", "fetch", "XMLHttpRequest", "htmx", "sendBeacon", "location"):
        assert word not in script, word

    def patterns(resolver, prefix=""):
        for entry in resolver.url_patterns:
            if hasattr(entry, "url_patterns"):
                yield from patterns(entry, prefix + str(entry.pattern))
            else:
                yield prefix + str(entry.pattern), entry.name or ""

    assert [route for route, name in patterns(get_resolver()) if "share" in route or "share" in name] == []
    ours = [model for model in apps.get_models() if model.__module__.startswith("shequn.")]
    names = [model._meta.label for model in ours]
    names += [f"{model._meta.label}.{field.name}" for model in ours for field in model._meta.get_fields()]
    assert [name for name in names if "share" in name.lower()] == []
    # What members read: templates, and the catalogs that hold every UI string of the Python code
    # (msgids are the Chinese text). Code itself may name the phrases, to refuse them (coupons'
    # guardrail against inducement words).
    sources = Path(settings.BASE_DIR, "shequn")
    offending = [
        f"{path.relative_to(sources)}: {phrase}"
        for path in [*sources.rglob("*.html"), *sources.rglob("*.po")]
        if "tests" not in path.parts
        for phrase in REWARD_PHRASES
        if phrase in path.read_text(encoding="utf-8")
    ]
    assert offending == []
