"""Payment edges of issue 15: an order placed before its shop was suspended, a payment already in
flight when the suspension came, and a payment retried from elsewhere keeping its gateway."""

import pytest
from django.test import Client

from shequn.orders.enums import OrderStatus
from shequn.payments import actions
from shequn.payments.enums import PaymentStatus
from shequn.payments.models import GatewayNotification, Payment, SandboxTransaction
from shequn.payments.sandbox import server
from shequn.payments.sandbox.notify import sign_headers
from shequn.shops.enums import ShopStatus
from shequn.shops.errors import ShopUnavailable
from shequn.shops.models import Shop
from shequn.testing.orders import auth_headers
from shequn.testing.payments import make_order, post_notification

pytestmark = pytest.mark.django_db

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def _suspend(shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(status=ShopStatus.SUSPENDED)
    shop.refresh_from_db()


def _member(order) -> Client:
    client = Client()
    client.force_login(order.user)
    return client


def test_an_unpaid_order_of_a_suspended_shop_cannot_be_paid_but_stays_and_can_be_cancelled(sandbox):
    order = make_order(price_fen=2500)
    _suspend(order.shop)

    with pytest.raises(ShopUnavailable) as refused:
        actions.start_payment(order, order.user)
    assert refused.value.code == "shop_suspended"
    api = Client().post(f"/api/v1/payments/orders/{order.number}/pay", headers=auth_headers(order.user))
    assert (api.status_code, api.json()["code"]) == (403, "shop_suspended")
    member = _member(order)
    page = member.post(f"/orders/{order.number}/pay/")
    assert page.status_code == 403
    assert "暂停营业" in page.content.decode()
    assert not Payment.objects.filter(order=order).exists()

    # The order page says why there is no pay button, and cancelling still works.
    detail = member.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="payment-paused"' in detail
    assert 'data-testid="pay-button"' not in detail
    assert member.post(f"/orders/{order.number}/cancel/").status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_payment_made_before_the_suspension_is_recorded_when_its_notification_arrives(
    sandbox, django_capture_on_commit_callbacks
):
    order = make_order(price_fen=2500)
    sandbox.hold = True
    prepay_id = actions.start_payment(order, order.user).rstrip("/").rsplit("/", 1)[-1]
    with django_capture_on_commit_callbacks(execute=True):
        server.confirm(prepay_id)  # the payer paid at WeChat; the notification is on its way
    ((_, body),) = sandbox.held
    _suspend(order.shop)

    assert post_notification(body, sign_headers(body)).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(order=order).status == PaymentStatus.SUCCEEDED
    assert GatewayNotification.objects.get().outcome == "applied"


def test_a_payment_started_in_the_sandbox_keeps_its_gateway_when_retried_inside_wechat(live_wechat, settings):
    from shequn.wechat.models import WechatBinding

    order = make_order(shop=live_wechat.shop, price_fen=2990)
    first = actions.start_payment(order, order.user)  # outside WeChat: no openid, the sandbox
    payment = Payment.objects.get(order=order)
    assert payment.gateway == "sandbox"

    # The member opens the same order inside WeChat: the shop's live WeChat Pay would now be chosen
    # for a new payment, but this one goes on where it started.
    settings.WECHAT_APP_ID = "wx2421b1c4370ec43b"
    WechatBinding.objects.create(user=order.user, app_id=settings.WECHAT_APP_ID, openid=OPENID)
    assert actions.start_payment(order, order.user) == first
    assert Payment.objects.get(order=order).gateway == "sandbox"
    assert not any(url == "/v3/pay/transactions/jsapi" for _, url, _, _ in live_wechat.requests)
    assert SandboxTransaction.objects.filter(out_trade_no=order.number).count() == 1


def test_a_payment_started_inside_wechat_keeps_its_gateway_when_retried_elsewhere(live_wechat, settings):
    from shequn.wechat.models import WechatBinding

    settings.WECHAT_APP_ID = "wx2421b1c4370ec43b"
    order = make_order(shop=live_wechat.shop, price_fen=2990)
    binding = WechatBinding.objects.create(user=order.user, app_id=settings.WECHAT_APP_ID, openid=OPENID)
    first = actions.start_payment(order, order.user)
    assert first == f"/orders/{order.number}/wechat-pay/"

    binding.delete()  # no openid any more: a new payment would go to the sandbox
    assert actions.start_payment(order, order.user) == first
    payment = Payment.objects.get(order=order)
    assert payment.gateway == "wechat"
    jsapi_prepays = [url for _, url, _, _ in live_wechat.requests if url == "/v3/pay/transactions/jsapi"]
    assert len(jsapi_prepays) == 1
