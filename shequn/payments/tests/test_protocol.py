"""The WeChat Pay v3 protocol as our gateway (through wechatpayv3) and the sandbox (WeChat's side) speak
it, and the sandbox server's request authentication."""

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3.utils import build_authorization

from shequn.payments.gateways import get_gateway
from shequn.payments.gateways.base import GatewayError
from shequn.payments.gateways.sandbox import sandbox_gateway
from shequn.payments.gateways.wechat_v3 import ProtocolError, TransportResponse, check_timestamp, decrypt_resource
from shequn.payments.sandbox import server
from shequn.payments.sandbox.keys import load_keys
from shequn.payments.sandbox.protocol import encrypt_resource, parse_authorization, request_verifies

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_wechat_side_parses_and_verifies_the_authorization_wechatpayv3_builds(key):
    body = '{"a":1}'
    header = build_authorization("/v3/pay/transactions/jsapi", "POST", "1900000001", "ABCDEF0123456789", key, data=body)
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="')
    auth = parse_authorization(header)
    assert (auth.mchid, auth.serial_no) == ("1900000001", "ABCDEF0123456789")
    assert request_verifies(key.public_key(), "POST", "/v3/pay/transactions/jsapi", auth, body)
    assert not request_verifies(key.public_key(), "POST", "/v3/pay/transactions/jsapi", auth, body.replace("1}", "2}"))
    assert not request_verifies(key.public_key(), "GET", "/v3/pay/transactions/jsapi", auth, body)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not request_verifies(other.public_key(), "POST", "/v3/pay/transactions/jsapi", auth, body)


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
    with pytest.raises(ProtocolError):
        parse_authorization(header)


def test_a_resource_wechat_encrypts_decrypts_with_the_apiv3_key_only():
    api_key = b"0123456789abcdef0123456789abcdef"
    resource = encrypt_resource(api_key, '{"out_trade_no":"X"}', "transaction")
    assert resource["algorithm"] == "AEAD_AES_256_GCM"
    assert decrypt_resource(api_key, resource) == '{"out_trade_no":"X"}'
    for tampered in (
        {**resource, "associated_data": "refund"},
        {**resource, "ciphertext": "not base64!!"},
        {**resource, "algorithm": "AES_CBC"},
        {key: value for key, value in resource.items() if key != "nonce"},
    ):
        with pytest.raises(ProtocolError):
            decrypt_resource(api_key, tampered)
    with pytest.raises(ProtocolError):
        decrypt_resource(b"f" * 32, resource)


def test_timestamp_window():
    now = time.time()
    check_timestamp(str(int(now) - 300), 300, now=now)
    with pytest.raises(ProtocolError):
        check_timestamp(str(int(now) - 301), 300, now=now)
    with pytest.raises(ProtocolError):
        check_timestamp(str(int(now) + 301), 300, now=now)


def test_sandbox_refuses_unsigned_and_forged_requests(sandbox):
    body = json.dumps({"mchid": "1900000001"})
    unsigned = server.handle("POST", "/v3/pay/transactions/jsapi", {}, body)
    assert unsigned.status == 401
    assert json.loads(unsigned.body)["code"] == "SIGN_ERROR"

    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = load_keys()
    header = build_authorization("/v3/pay/transactions/jsapi", "POST", "1900000001", keys.merchant_serial, forger, body)
    forged = server.handle("POST", "/v3/pay/transactions/jsapi", {"Authorization": header}, body)
    assert forged.status == 401

    # A correctly signed request for another body (replayed signature) fails too.
    good = build_authorization(
        "/v3/pay/transactions/jsapi", "POST", "1900000001", keys.merchant_serial, keys.merchant_private_key, body
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
