"""The "订阅通知" button and the notification settings page: the wx-open-subscribe open tag shows only
inside WeChat's browser, for a member bound to the official account; its answer reaches the consent
API; the member turns a template off on 我的 → 通知设置."""

import json
import re

import pytest
from django.test import Client

from shequn.notifications.models import SubscribeConsent
from shequn.testing.orders import make_member, make_shop, make_sku, place_order
from shequn.testing.wechat import APP_ID, TEMPLATES, WECHAT_USER_AGENT, bind_wechat, wechat, wechat_subscribe
from shequn.wechat.client import jsapi_ticket, jssdk_signature

__all__ = ["wechat", "wechat_subscribe"]

pytestmark = pytest.mark.django_db

TAG = re.compile(r'<wx-open-subscribe template="([^"]*)" data-report-url="([^"]*)"')


def member_client(user, user_agent=WECHAT_USER_AGENT):
    client = Client(HTTP_USER_AGENT=user_agent)
    client.force_login(user)
    return client


def test_the_order_page_in_wechat_asks_for_the_order_templates(wechat_subscribe):
    member = make_member()
    bind_wechat(member, "小林")
    order = place_order(member, make_sku(make_shop()))

    html = member_client(member).get(f"/orders/{order.number}/").content.decode()

    (found,) = TAG.findall(html)
    templates, report_url = found
    assert templates.split(",") == [TEMPLATES["order_paid"], TEMPLATES["order_shipped"], TEMPLATES["refund_done"]]
    assert report_url == "/api/v1/notifications/subscriptions"
    # No share card on this page: the button brings the page's one wx.config, with the open tag.
    config_json = re.search(r'id="wechat-subscribe-config" type="application/json">(.*?)</script>', html)
    assert config_json is not None
    config = json.loads(config_json.group(1))
    assert config["appId"] == APP_ID
    signed = {"noncestr": config["nonceStr"], "timestamp": config["timestamp"]}
    page_url = f"http://testserver/orders/{order.number}/"
    assert config["signature"] == jssdk_signature(ticket=jsapi_ticket(), url=page_url, **signed)
    assert "订阅通知" in html


def test_outside_wechat_or_without_a_binding_there_is_no_button(wechat_subscribe):
    bound, phone_only = make_member(), make_member()
    bind_wechat(bound, "小林")
    sku = make_sku(make_shop())
    bound_order, phone_order = place_order(bound, sku), place_order(phone_only, sku)

    desktop = member_client(bound, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0")
    assert "wx-open-subscribe" not in desktop.get(f"/orders/{bound_order.number}/").content.decode()
    assert "wx-open-subscribe" not in member_client(phone_only).get(f"/orders/{phone_order.number}/").content.decode()
    assert wechat_subscribe.calls == []  # no ticket fetched for a page without the button


def test_a_member_turns_a_template_off_on_the_settings_page(wechat_subscribe):
    member = make_member()
    bind_wechat(member, "小林")
    client = member_client(member)
    answer = {"results": {TEMPLATES["order_shipped"]: "accept", TEMPLATES["refund_done"]: "accept"}}
    client.post("/api/v1/notifications/subscriptions", answer, content_type="application/json")

    page = client.get("/me/notifications/").content.decode()
    assert re.findall(r'data-template="(\w+)" data-accepted="1"', page) == ["order_shipped", "refund_done"]
    response = client.post("/me/notifications/", {"template": "order_shipped"}, follow=True)

    assert "已关闭“订单发货提醒”" in response.content.decode()
    assert re.findall(r'data-template="(\w+)" data-accepted="1"', response.content.decode()) == ["refund_done"]
    assert SubscribeConsent.objects.get(user=member, template="order_shipped").withdrawn_reason == "opt_out"
    assert "/me/notifications/" in client.get("/me/").content.decode()


def test_without_an_official_account_the_settings_page_says_so(settings):
    settings.WECHAT_APP_ID = ""
    html = member_client(make_member()).get("/me/notifications/").content.decode()
    assert 'data-testid="subscribe-off"' in html
