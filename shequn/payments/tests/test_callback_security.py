"""Forged, tampered, stale or malformed callbacks: 4xx with {"code": "FAIL"} and not one row written."""

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shequn.payments.gateways.sandbox import certificate_cache
from shequn.payments.gateways.wechat_v3 import dumps
from shequn.payments.models import Payment
from shequn.payments.sandbox import keys as sandbox_keys
from shequn.payments.sandbox.notify import sign_headers
from shequn.payments.sandbox.protocol import encrypt_resource, signature_headers
from shequn.testing.payments import make_order, post_notification, row_counts, transaction_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(sandbox):
    from shequn.payments.actions import start_payment

    order = make_order(price_fen=3500)
    start_payment(order, order.user)
    return order


def assert_refused(response, before):
    assert 400 <= response.status_code < 500, response.content
    body = response.json()
    assert body["code"] == "FAIL"
    assert body["message"]
    assert row_counts() == before


def test_valid_notification_is_accepted_as_control(pending):
    body = transaction_body(pending.number, pending.total_fen)
    response = post_notification(body, sign_headers(body))
    assert response.status_code == 204
    assert response.content == b""
    assert Payment.objects.get(order=pending).status == "succeeded"


def test_forged_signature(pending):
    before = row_counts()
    body = transaction_body(pending.number, pending.total_fen)
    headers = sign_headers(body)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers.update(signature_headers(forger, headers["Wechatpay-Serial"], body))  # the right serial, a forged key
    assert_refused(post_notification(body, headers), before)


def test_tampered_body(pending):
    before = row_counts()
    body = transaction_body(pending.number, pending.total_fen)
    headers = sign_headers(body)
    envelope = json.loads(body)
    envelope["event_type"] = "REFUND.SUCCESS"
    assert_refused(post_notification(dumps(envelope), headers), before)


def test_tampered_ciphertext_with_fresh_signature(pending):
    """Even correctly signed, a resource that does not decrypt with our APIv3 key is refused."""
    before = row_counts()
    envelope = json.loads(transaction_body(pending.number, pending.total_fen))
    envelope["resource"].update(encrypt_resource(b"x" * 32, "{}", "transaction"))
    body = dumps(envelope)
    assert_refused(post_notification(body, sign_headers(body)), before)


@pytest.mark.parametrize("skew", [301, -301])
def test_timestamp_outside_window(pending, skew):
    before = row_counts()
    body = transaction_body(pending.number, pending.total_fen)
    headers = sign_headers(body, timestamp=str(int(time.time()) + skew))
    assert_refused(post_notification(body, headers), before)


def test_timestamp_inside_window_is_accepted(pending):
    body = transaction_body(pending.number, pending.total_fen)
    response = post_notification(body, sign_headers(body, timestamp=str(int(time.time()) - 290)))
    assert response.status_code == 204


def test_unknown_serial_refreshes_certificates_at_most_once(pending, sandbox_key_dir):
    before = row_counts()
    body = transaction_body(pending.number, pending.total_fen)
    cache = certificate_cache(str(sandbox_key_dir))
    cache.forget()
    refreshes = cache.refresh_count
    for index in range(10):
        headers = sign_headers(body)
        headers["Wechatpay-Serial"] = f"{index:02d}" + "AB" * 19
        assert_refused(post_notification(body, headers), before)
    assert cache.refresh_count - refreshes == 1


@pytest.mark.parametrize(
    "change",
    [
        {"Wechatpay-Serial": ""},
        {"Wechatpay-Serial": "not a serial"},
        {"Wechatpay-Serial": "'; DROP TABLE payments_payment; --"},
        {"Wechatpay-Serial": "A" * 500},
        {"Wechatpay-Timestamp": ""},
        {"Wechatpay-Timestamp": "yesterday"},
        {"Wechatpay-Timestamp": "9" * 40},
        {"Wechatpay-Nonce": ""},
        {"Wechatpay-Nonce": "a\nb"},
        {"Wechatpay-Signature": ""},
        {"Wechatpay-Signature": "%%%"},
        {"Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"},
    ],
)
def test_malformed_headers(pending, change):
    before = row_counts()
    body = transaction_body(pending.number, pending.total_fen)
    headers = {**sign_headers(body), **change}
    headers = {key: value for key, value in headers.items() if value != ""}
    response = post_notification(body, headers)
    assert_refused(response, before)


@pytest.mark.parametrize("body", [b"", b"not json", b"\xff\xfe", b"[]", b'{"id": "x"}'])
def test_malformed_bodies_with_valid_signature(pending, body):
    before = row_counts()
    text = body.decode("utf-8", errors="replace")
    headers = sign_headers(text)
    response = post_notification(body, headers)
    assert_refused(response, before)


def test_no_headers_at_all(pending):
    before = row_counts()
    assert_refused(post_notification(transaction_body(pending.number, pending.total_fen), {}), before)


def test_key_rotation_two_serials_valid(pending, settings, tmp_path):
    """During a rotation both the old and the new platform key verify; a retired one does not."""
    settings.SANDBOX_PAY_KEY_DIR = tmp_path / "rotating"
    from shequn.payments.actions import start_payment

    other = make_order(price_fen=1200)
    start_payment(other, other.user)
    old_serial = sandbox_keys.load_keys().active_platform_serial
    new_serial = sandbox_keys.rotate_platform_key()
    assert new_serial != old_serial
    # The merchant's periodic certificate download (WeChat's SDKs do it every few hours).
    certificate_cache(str(settings.SANDBOX_PAY_KEY_DIR)).forget()
    assert set(sandbox_keys.load_keys().platform_keys) == {old_serial, new_serial}

    first = transaction_body(other.number, other.total_fen, transaction_id="4200000000202611220000000011")
    assert sign_headers(first)["Wechatpay-Serial"] == new_serial
    assert post_notification(first, sign_headers(first, serial=old_serial)).status_code == 204
    second = transaction_body(other.number, other.total_fen, transaction_id="4200000000202611220000000011")
    assert post_notification(second, sign_headers(second, serial=new_serial)).status_code == 204

    sandbox_keys.retire_platform_key(old_serial)
    certificate_cache(str(settings.SANDBOX_PAY_KEY_DIR)).forget()
    before = row_counts()
    third = transaction_body(other.number, other.total_fen)
    keys_before_retire = sandbox_keys.load_keys()
    assert old_serial not in keys_before_retire.platform_keys
    headers = sign_headers(third)
    headers["Wechatpay-Serial"] = old_serial
    assert_refused(post_notification(third, headers), before)


def test_unknown_serial_with_the_gateway_unreachable_is_still_a_4xx(pending, sandbox_key_dir, monkeypatch):
    from shequn.payments.gateways import sandbox as sandbox_module

    def unreachable(method, url, headers, body):
        raise OSError("connection refused")

    monkeypatch.setattr(sandbox_module, "sandbox_transport", unreachable)
    certificate_cache(str(sandbox_key_dir)).forget()
    before = row_counts()
    body = transaction_body(pending.number, pending.total_fen)
    assert_refused(post_notification(body, sign_headers(body)), before)
