"""In Chromium with WeChat's user agent, end to end against the fakes: a member opens an order link,
signs in through WeChat's web authorisation (the fake official account; the phone once, to bind),
and pays on WeChat's pay sheet (``WeixinJSBridge``) for a shop with its own WeChat Pay merchant
account. WeChat's app cannot run here, so two of its parts are stand-ins that speak its protocol:
WeChat's authorize page is the fake official account served over HTTP on 127.0.0.1 (the browser
is redirected there and back with a code, as in WeChat; the person signed in to "WeChat" is a
cookie the fake reads), and the pay sheet is a ``WeixinJSBridge`` whose ``getBrandWCPayRequest``
checks the paySign with the merchant's public key, pays in the fake WeChat Pay (which notifies our
callback, signed and encrypted) and answers ``get_brand_wcpay_request:ok``."""

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from playwright.sync_api import expect
from wechatpayv3.utils import rsa_verify

from shequn.orders.enums import OrderStatus
from shequn.payments.enums import PaymentStatus
from shequn.payments.models import Payment, SandboxTransaction
from shequn.payments.sandbox import keys as sandbox_keys
from shequn.payments.sandbox import server as sandbox_server
from shequn.testing.accounts import sms_outbox
from shequn.testing.orders import make_member
from shequn.testing.payments import make_order
from shequn.testing.wechat import APP_ID, wechat
from shequn.wechat.models import WechatBinding

__all__ = ["sms_outbox", "wechat"]

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "13812345670"

PAY_SHEET = """
window.WeixinJSBridge = {
  invoke: function (name, params, done) {
    var amount = document.querySelector("[data-testid=pay-amount]").textContent;  // what the cashier page shows
    window.payInWechat(name, params, amount).then(function (answer) { done({err_msg: answer}); });
  }
};
"""


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def wechat_over_http(wechat, live_server, settings) -> Iterator[str]:
    """The fake official account served on 127.0.0.1, as WeChat's open platform for this live server."""
    server = make_server("127.0.0.1", 0, wechat, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    settings.WECHAT_OPEN_BASE = base
    settings.SITE_URL = live_server.url
    wechat.apps[APP_ID].oauth_domain = urlsplit(live_server.url).hostname or ""
    yield base
    server.shutdown()
    server.server_close()


def test_a_member_signs_in_with_wechat_and_pays_on_the_pay_sheet(
    new_page, wechat, wechat_over_http, live_wechat, sms_outbox
):
    member = make_member(phone=PHONE)
    order = make_order(shop=live_wechat.shop, user=member, price_fen=2990)
    merchant_public_key = sandbox_keys.load_keys().merchant_public_key

    sheet: list[tuple[str, dict[str, str], str]] = []

    def pay_in_wechat(name: str, params: dict[str, str], amount: str) -> str:
        sheet.append((name, params, amount))
        signed = rsa_verify(
            f"{params['appId']}\n{params['timeStamp']}",
            params["nonceStr"],
            params["package"],
            params["paySign"],
            merchant_public_key,
        )
        if not signed:
            return "get_brand_wcpay_request:fail"
        sandbox_server.confirm(params["package"].removeprefix("prepay_id="))  # she pays; WeChat notifies the shop
        return "get_brand_wcpay_request:ok"

    page = new_page()
    page.context.add_cookies([{"name": "wechat_user", "value": "xiaolin", "url": wechat_over_http}])  # 小林's WeChat
    page.expose_function("payInWechat", pay_in_wechat)
    page.add_init_script(PAY_SHEET)

    page.goto(f"/orders/{order.number}/")
    # WeChat knows her, shequn does not yet: the phone, once, binds her WeChat to her account.
    expect(page.get_by_text("验证手机号后，微信将绑定到该账号")).to_be_visible()
    page.locator("#phone").fill(PHONE)
    page.get_by_test_id("send-code").click()
    page.locator("#code").fill(sms_outbox.last_code(PHONE))
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(f"**/orders/{order.number}/")
    binding = WechatBinding.objects.get(user=member, app_id=APP_ID)
    assert binding.openid == wechat.openid(APP_ID, "xiaolin")

    page.get_by_test_id("pay-button").click()
    # The cashier page opens the sheet, then polls until the payment is recorded and goes back to the order.
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", OrderStatus.PAID, timeout=30_000)

    assert [(name, amount) for name, _params, amount in sheet] == [("getBrandWCPayRequest", "¥29.90")]
    payment = Payment.objects.get(order=order)
    assert (payment.gateway, payment.status) == ("wechat", PaymentStatus.SUCCEEDED)
    assert sheet[0][1]["package"] == f"prepay_id={payment.prepay_id}"
    # The JSAPI order WeChat received named her as the payer, by the openid of her authorisation.
    assert SandboxTransaction.objects.get(prepay_id=payment.prepay_id).payer_openid == binding.openid
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
