"""In Chromium with WeChat's user agent: the order page's "订阅通知" button (WeChat's wx-open-subscribe
open tag) reports the subscribe dialog's answer, and the consent is recorded. WeChat's JS-SDK cannot be
loaded here, so its script is answered with a stand-in that records wx.config, and the dialog's
``success`` event is dispatched with the detail WeChat gives (subscribeDetails: JSON of JSON)."""

import json

import pytest

from shequn.notifications.models import SubscribeConsent
from shequn.testing.orders import make_member, make_shop, make_sku, place_order
from shequn.testing.wechat import TEMPLATES, WECHAT_USER_AGENT, bind_wechat, wechat, wechat_subscribe

__all__ = ["wechat", "wechat_subscribe"]

pytestmark = pytest.mark.django_db(transaction=True)

JSSDK_STAND_IN = (
    "window.wx = {config: function (options) { window.wxConfigs = (window.wxConfigs || []).concat([options]); }};"
)


def test_the_dialogs_answer_is_recorded_as_consent(signed_in_page, wechat_subscribe):
    member = make_member()
    bind_wechat(member, "小林")
    order = place_order(member, make_sku(make_shop()))
    page = signed_in_page(member, user_agent=WECHAT_USER_AGENT)
    page.route(
        "https://res.wx.qq.com/**", lambda route: route.fulfill(body=JSSDK_STAND_IN, content_type="text/javascript")
    )

    page.goto(f"/orders/{order.number}/")
    page.get_by_test_id("subscribe-button").wait_for(state="attached")
    page.wait_for_function("window.wxConfigs && window.wxConfigs.length === 1")
    assert page.evaluate("window.wxConfigs[0].openTagList") == ["wx-open-subscribe"]
    details = {
        TEMPLATES["order_paid"]: json.dumps({"status": "accept"}),
        TEMPLATES["order_shipped"]: json.dumps({"status": "accept"}),
        TEMPLATES["refund_done"]: json.dumps({"status": "reject"}),
    }
    page.evaluate(
        """details => document.querySelector("wx-open-subscribe").dispatchEvent(new CustomEvent("success", {
            detail: {errMsg: "subscribe:ok", subscribeDetails: JSON.stringify(details)}}))""",
        details,
    )

    page.get_by_text("已订阅，届时会在微信里提醒你").wait_for()
    accepted = SubscribeConsent.objects.filter(user=member, withdrawn_at__isnull=True)
    assert set(accepted.values_list("template", flat=True)) == {"order_paid", "order_shipped"}
