"""Order events as WeChat subscribe messages: shipped, ready for pickup and refund done each go out
once, with their own template, to a member who accepted them (WeChat played by shequn.wechat's fake)."""

import pytest
from django.test import Client

from shequn.orders import actions
from shequn.orders.enums import Fulfilment
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff, paid_order
from shequn.testing.wechat import TEMPLATES, bind_wechat, wechat, wechat_subscribe

__all__ = ["wechat", "wechat_subscribe"]

pytestmark = pytest.mark.django_db


def test_shipped_pickup_ready_and_refund_done_each_send_their_template(
    wechat_subscribe, django_capture_on_commit_callbacks
):
    member = make_member()
    openid = bind_wechat(member, "小林")
    keys = ("order_shipped", "pickup_ready", "refund_done")
    for key in keys:
        wechat_subscribe.accept_subscription(openid, TEMPLATES[key])
    client = Client()
    client.force_login(member)
    answer = {"results": {TEMPLATES[key]: "accept" for key in keys}}  # what the wx-open-subscribe tag reported
    response = client.post("/api/v1/notifications/subscriptions", answer, content_type="application/json")
    assert response.status_code == 200
    shipped = paid_order(member, make_sku(make_shop()))
    picked = paid_order(member, make_sku(make_shop()), fulfilment=Fulfilment.PICKUP)

    with django_capture_on_commit_callbacks(execute=True):
        staff = make_staff(shipped.shop)
        actions.ship_order(shipped.shop, shipped.pk, staff, tracking_company="顺丰速运", tracking_number="SF123456789")
        actions.mark_ready_for_pickup(picked.shop, picked.pk, make_staff(picked.shop))
        line = shipped.lines.get()
        refund = actions.request_refund(member, shipped.number, line.pk, amount_fen=1000, reason="少了一条")
        actions.approve_refund(refund, None)
        actions.complete_refund(refund)
        actions.complete_refund(refund)  # the gateway's duplicate REFUND.SUCCESS

    by_template = {sent["template_id"]: sent for sent in wechat_subscribe.sent}
    assert len(wechat_subscribe.sent) == 3
    assert by_template[TEMPLATES["order_shipped"]]["data"]["thing1"]["value"] == "订单已发货"
    # "你的订单已由顺丰速运发出，运单号 SF123456789。" is longer than a thing field's 20 characters.
    note = by_template[TEMPLATES["order_shipped"]]["data"]["thing2"]["value"]
    assert note == "你的订单已由顺丰速运发出，运单号 SF…"
    assert by_template[TEMPLATES["pickup_ready"]]["page"].endswith(f"/orders/{picked.number}/")
    assert by_template[TEMPLATES["refund_done"]]["data"]["thing1"]["value"] == "退款成功"
