"""A shop's own WeChat Pay: JSAPI prepay, the pay sheet's paySign and notifications, each checked
by the independent wechatpayv3 SDK against what shequn sends and what the fake WeChat (the
sandbox server, which checks every signature) returns."""

import json
import time

import pytest
from django.conf import settings
from django.test import Client
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import rsa_verify

from shequn.payments.actions import start_payment
from shequn.payments.enums import PaymentStatus
from shequn.payments.models import Payment, SandboxTransaction
from shequn.payments.sandbox import keys as sandbox_keys
from shequn.payments.sandbox import server as sandbox_server
from shequn.payments.sandbox.notify import build_body, sign_headers
from shequn.payments.sandbox.protocol import parse_authorization
from shequn.payments.sandbox.server import transaction_resource
from shequn.testing.payments import certificate_pem, make_order, private_key_pem, row_counts

pytestmark = pytest.mark.django_db

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture
def member_in_wechat(live_wechat, settings):
    from shequn.wechat.models import WechatBinding

    settings.WECHAT_APP_ID = "wx2421b1c4370ec43b"
    order = make_order(shop=live_wechat.shop, price_fen=2990)
    WechatBinding.objects.create(user=order.user, app_id=settings.WECHAT_APP_ID, openid=OPENID)  # the OAuth binding
    return order


@pytest.fixture
def sdk(tmp_path):
    """wechatpayv3's client for the same merchant, trusting the platform certificates written to a
    directory (so it never goes to the network)."""
    keys = sandbox_keys.load_keys()
    for serial, platform_key in keys.platform_keys.items():
        (tmp_path / f"{serial}.pem").write_text(certificate_pem(platform_key.certificate))
    return WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI,
        mchid=settings.SANDBOX_PAY_MCHID,
        private_key=private_key_pem(keys.merchant_private_key),
        cert_serial_no=keys.merchant_serial,
        appid=settings.SANDBOX_PAY_APPID,
        apiv3_key=keys.api_v3_key.decode(),
        cert_dir=str(tmp_path),
    )


def test_jsapi_prepay_carries_the_openid_and_its_signature_verifies_with_wechatpayv3(live_wechat, member_in_wechat):
    order = member_in_wechat
    pay_url = start_payment(order, order.user)

    payment = Payment.objects.get(order=order)
    assert payment.gateway == "wechat"
    assert pay_url == f"/orders/{order.number}/wechat-pay/"
    method, url, headers, body = next(r for r in live_wechat.requests if r[1] == "/v3/pay/transactions/jsapi")
    sent = json.loads(body)
    assert sent["payer"] == {"openid": OPENID}
    assert sent["amount"] == {"total": 2990, "currency": "CNY"}
    assert sent["mchid"] == settings.SANDBOX_PAY_MCHID
    assert sent["notify_url"].endswith(live_wechat.notify_path())
    # The independent SDK verifies our Authorization over METHOD\nURL\ntimestamp\nnonce\nbody\n
    # with the merchant's public key (its rsa_verify joins the first fields with newlines too).
    auth = parse_authorization(headers["Authorization"])
    assert auth.mchid == settings.SANDBOX_PAY_MCHID
    merchant_public_key = sandbox_keys.load_keys().merchant_public_key
    assert rsa_verify(f"{method}\n{url}\n{auth.timestamp}", auth.nonce_str, body, auth.signature, merchant_public_key)
    assert not rsa_verify(
        f"{method}\n{url}\n{auth.timestamp}", auth.nonce_str, body + " ", auth.signature, merchant_public_key
    )
    # The fake WeChat accepted it (it checks the same signature) and recorded the payer.
    assert SandboxTransaction.objects.get(prepay_id=payment.prepay_id).payer_openid == OPENID


def test_the_cashier_page_hands_weixinjsbridge_a_paysign_the_merchant_public_key_verifies(
    live_wechat, member_in_wechat
):
    order = member_in_wechat
    start_payment(order, order.user)
    client = Client()
    client.force_login(order.user)

    page = client.get(f"/orders/{order.number}/wechat-pay/")

    assert page.status_code == 200
    assert "getBrandWCPayRequest" in page.content.decode()
    params = json.loads(
        page.content.decode().split('id="pay-params" type="application/json">')[1].split("</script>")[0]
    )
    prepay_id = Payment.objects.get(order=order).prepay_id
    assert params["appId"] == settings.SANDBOX_PAY_APPID
    assert params["package"] == f"prepay_id={prepay_id}"
    assert params["signType"] == "RSA"
    assert abs(int(params["timeStamp"]) - time.time()) < 60
    merchant_public_key = sandbox_keys.load_keys().merchant_public_key
    # paySign = SHA256-RSA over appId\ntimeStamp\nnonceStr\npackage\n, checked by the SDK.
    assert rsa_verify(
        f"{params['appId']}\n{params['timeStamp']}",
        params["nonceStr"],
        params["package"],
        params["paySign"],
        merchant_public_key,
    )


def test_payment_notification_signed_and_encrypted_as_wechat_does_is_accepted(live_wechat, member_in_wechat, sdk):
    order = member_in_wechat
    start_payment(order, order.user)
    payment = Payment.objects.get(order=order)
    txn = SandboxTransaction.objects.get(prepay_id=payment.prepay_id)
    txn.trade_state, txn.transaction_id = "SUCCESS", "4200000000202612070000000001"
    txn.success_time = txn.created_at
    txn.save()
    body = build_body(event_type="TRANSACTION.SUCCESS", original_type="transaction", resource=transaction_resource(txn))
    headers = sign_headers(body)

    # The independent SDK accepts the fake's notification: signature verified, resource decrypted.
    decoded = sdk.callback(headers, body)
    assert decoded["resource"]["out_trade_no"] == order.number
    assert decoded["resource"]["payer"]["openid"] == OPENID

    response = Client().post(
        live_wechat.notify_path(), data=body.encode(), content_type="application/json", headers=_without_type(headers)
    )
    assert response.status_code == 204
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert order.paid_at is not None


def test_the_payer_confirming_in_the_fake_wechat_pays_the_order_end_to_end(
    live_wechat, member_in_wechat, django_capture_on_commit_callbacks
):
    order = member_in_wechat
    start_payment(order, order.user)
    payment = Payment.objects.get(order=order)

    with django_capture_on_commit_callbacks(execute=True):
        sandbox_server.confirm(payment.prepay_id)  # the payer pays on WeChat's sheet; WeChat notifies our shop URL

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    client = Client()
    client.force_login(order.user)
    answer = client.get(f"/api/v1/payments/orders/{order.number}").json()  # what the cashier page polls
    assert answer["status"] == "succeeded"
    assert answer["gateway"] == "wechat"


def _without_type(headers):
    return {key: value for key, value in headers.items() if key.lower() != "content-type"}


def _signed_payment_notification(order, **sign):
    payment = Payment.objects.get(order=order)
    txn = SandboxTransaction.objects.get(prepay_id=payment.prepay_id)
    txn.trade_state, txn.transaction_id, txn.success_time = "SUCCESS", "4200000000202612070000000002", txn.created_at
    resource = transaction_resource(txn)
    body = build_body(event_type="TRANSACTION.SUCCESS", original_type="transaction", resource=resource)
    return body, sign_headers(body, **sign)


def _refused(live_wechat, body, headers, before):
    response = Client().post(
        live_wechat.notify_path(), data=body.encode(), content_type="application/json", headers=_without_type(headers)
    )
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] == "FAIL"
    assert row_counts() == before


def test_wrong_signature_is_refused(live_wechat, member_in_wechat, sdk):
    start_payment(member_in_wechat, member_in_wechat.user)
    body, headers = _signed_payment_notification(member_in_wechat)
    tampered = body.replace('"summary":"支付成功"', '"summary":"支付成功!"')
    assert sdk.callback(headers, tampered) is None  # the SDK refuses it too
    _refused(live_wechat, tampered, headers, row_counts())


def test_old_timestamp_is_refused(live_wechat, member_in_wechat):
    start_payment(member_in_wechat, member_in_wechat.user)
    body, headers = _signed_payment_notification(member_in_wechat, timestamp=str(int(time.time()) - 301))
    _refused(live_wechat, body, headers, row_counts())


def test_unknown_serial_is_refused(live_wechat, member_in_wechat):
    start_payment(member_in_wechat, member_in_wechat.user)
    body, headers = _signed_payment_notification(member_in_wechat)
    headers["Wechatpay-Serial"] = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    _refused(live_wechat, body, headers, row_counts())


def test_a_new_platform_key_is_accepted_alongside_the_old_until_the_old_is_retired(live_wechat, member_in_wechat):
    from shequn.payments import actions
    from shequn.payments.models import PlatformKey

    start_payment(member_in_wechat, member_in_wechat.user)
    old_serial = sandbox_keys.load_keys().active_platform_serial
    new_serial = sandbox_keys.rotate_platform_key()
    body, headers = _signed_payment_notification(member_in_wechat, serial=new_serial)
    _refused(live_wechat, body, headers, row_counts())  # WeChat rotated; the owner has not added it yet
    new_certificate = sandbox_keys.load_keys().platform_keys[new_serial].certificate
    actions.do_add_platform_key(live_wechat.shop, live_wechat.owner, pem=certificate_pem(new_certificate))
    old_body, old_headers = _signed_payment_notification(member_in_wechat, serial=old_serial)
    old_key = PlatformKey.objects.get(account__shop=live_wechat.shop, serial=old_serial)
    actions.do_retire_platform_key(live_wechat.shop, live_wechat.owner, old_key.pk)
    _refused(live_wechat, old_body, old_headers, row_counts())  # retired: verifies nothing any more
    response = Client().post(
        live_wechat.notify_path(), data=body.encode(), content_type="application/json", headers=_without_type(headers)
    )
    assert response.status_code == 204
    sandbox_keys.retire_platform_key(old_serial)  # WeChat ends the rotation too


def test_a_notification_for_another_shop_url_is_refused(live_wechat, member_in_wechat):
    start_payment(member_in_wechat, member_in_wechat.user)
    body, headers = _signed_payment_notification(member_in_wechat)
    before = row_counts()
    response = Client().post(
        "/api/v1/payments/notify/wechat/999999",
        data=body.encode(),
        content_type="application/json",
        headers=_without_type(headers),
    )
    assert response.status_code == 400
    assert row_counts() == before
