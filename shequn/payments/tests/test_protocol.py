"""The WeChat Pay v3 primitives and the sandbox server's request authentication."""

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shequn.payments import wechatpay
from shequn.payments.gateways import get_gateway
from shequn.payments.gateways.base import GatewayError
from shequn.payments.gateways.sandbox import sandbox_gateway
from shequn.payments.gateways.wechat_v3 import TransportResponse
from shequn.payments.sandbox import server
from shequn.payments.sandbox.keys import load_keys

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_signature_round_trip_and_tamper(key):
    message = wechatpay.request_message("POST", "/v3/pay/transactions/jsapi", "1700000000", "ABC", '{"a":1}')
    assert message == 'POST\n/v3/pay/transactions/jsapi\n1700000000\nABC\n{"a":1}\n'
    signature = wechatpay.sign(key, message)
    assert wechatpay.verify(key.public_key(), message, signature)
    assert not wechatpay.verify(key.public_key(), message.replace("1}", "2}"), signature)
    assert not wechatpay.verify(key.public_key(), message, "not base64!!")


def test_authorization_header_format_and_parse(key):
    header = wechatpay.authorization_header(
        mchid="1900000001", serial_no="ABCDEF0123456789", private_key=key, method="GET", url="/v3/x", body=""
    )
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="')
    auth = wechatpay.parse_authorization(header)
    assert auth.mchid == "1900000001"
    assert auth.serial_no == "ABCDEF0123456789"
    assert wechatpay.verify(
        key.public_key(),
        wechatpay.request_message("GET", "/v3/x", auth.timestamp, auth.nonce_str, ""),
        auth.signature,
    )


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer x",
        'WECHATPAY2-SHA256-RSA2048 mchid="1"',
        'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="a",timestamp="x",serial_no="ABCDEF01",signature="s"',
        'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="a",timestamp="1",serial_no="../etc",signature="s"',
    ],
)
def test_malformed_authorization_is_refused(header):
    with pytest.raises(wechatpay.ProtocolError):
        wechatpay.parse_authorization(header)


def test_resource_encryption_round_trip_and_tamper():
    api_key = b"0123456789abcdef0123456789abcdef"
    resource = wechatpay.encrypt_resource(api_key, '{"out_trade_no":"X"}', "transaction")
    assert resource["algorithm"] == "AEAD_AES_256_GCM"
    assert wechatpay.decrypt_resource(api_key, resource) == '{"out_trade_no":"X"}'
    with pytest.raises(wechatpay.ProtocolError):
        wechatpay.decrypt_resource(api_key, {**resource, "associated_data": "refund"})
    with pytest.raises(wechatpay.ProtocolError):
        wechatpay.decrypt_resource(b"f" * 32, resource)


def test_timestamp_window():
    now = time.time()
    wechatpay.check_timestamp(str(int(now) - 300), 300, now=now)
    with pytest.raises(wechatpay.ProtocolError):
        wechatpay.check_timestamp(str(int(now) - 301), 300, now=now)
    with pytest.raises(wechatpay.ProtocolError):
        wechatpay.check_timestamp(str(int(now) + 301), 300, now=now)


def test_sandbox_refuses_unsigned_and_forged_requests(sandbox):
    body = json.dumps({"mchid": "1900000001"})
    unsigned = server.handle("POST", "/v3/pay/transactions/jsapi", {}, body)
    assert unsigned.status == 401
    assert json.loads(unsigned.body)["code"] == "SIGN_ERROR"

    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = load_keys()
    header = wechatpay.authorization_header(
        mchid="1900000001",
        serial_no=keys.merchant_serial,
        private_key=forger,
        method="POST",
        url="/v3/pay/transactions/jsapi",
        body=body,
    )
    forged = server.handle("POST", "/v3/pay/transactions/jsapi", {"Authorization": header}, body)
    assert forged.status == 401

    # A correctly signed request for another body (replayed signature) fails too.
    good = wechatpay.authorization_header(
        mchid="1900000001",
        serial_no=keys.merchant_serial,
        private_key=keys.merchant_private_key,
        method="POST",
        url="/v3/pay/transactions/jsapi",
        body=body,
    )
    replayed = server.handle("POST", "/v3/pay/transactions/jsapi", {"Authorization": good}, body + " ")
    assert replayed.status == 401


def test_gateway_refuses_a_response_not_signed_by_the_platform(sandbox):
    gateway = sandbox_gateway()
    original = gateway.transport

    def tampering_transport(method, url, headers, body):
        response = original(method, url, headers, body)
        if url.startswith("/v3/certificates"):
            return response
        return TransportResponse(response.status, response.headers, response.body.replace("NOTPAY", "SUCCESS"))

    gateway.create(out_trade_no="T20261122000001", amount_fen=100, description="x", notify_url="http://x/n")
    gateway.transport = tampering_transport
    with pytest.raises(GatewayError, match="验签"):
        gateway.query("T20261122000001")


def test_gateway_create_query_close_speak_v3(sandbox):
    gateway = get_gateway("sandbox")
    prepay = gateway.create(out_trade_no="T20261122000002", amount_fen=990, description="鱼", notify_url="http://x/n")
    assert prepay.prepay_id.startswith("wx")
    # The same out_trade_no gives the same prepay (a retry).
    again = gateway.create(out_trade_no="T20261122000002", amount_fen=990, description="鱼", notify_url="http://x/n")
    assert again == prepay
    queried = gateway.query("T20261122000002")
    assert (queried.trade_state, queried.amount_fen, queried.transaction_id) == ("NOTPAY", 990, None)
    gateway.close("T20261122000002")
    assert gateway.query("T20261122000002").trade_state == "CLOSED"
