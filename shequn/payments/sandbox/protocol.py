"""WeChat's side of the Pay v3 protocol, which a merchant SDK has no reason to implement.

wechatpayv3 (what our gateway uses) signs requests and verifies and decrypts what WeChat sends;
the sandbox plays WeChat, so it does the converse: it parses and verifies the merchant's
``Authorization`` header, signs its answers and notifications with a platform key, and encrypts
resources with the APIv3 key. Signing and verifying go through wechatpayv3's own functions, so
both sides compute the same messages; only the parsing and the encryption are written here.
"""

import base64
import re
import secrets
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3.utils import rsa_sign, rsa_verify

from ..gateways.wechat_v3 import AES_ALGORITHM, SERIAL_PATTERN, SIGNATURE_TYPE, TIMESTAMP_PATTERN, ProtocolError


@dataclass(frozen=True)
class Authorization:
    mchid: str
    nonce_str: str
    timestamp: str
    serial_no: str
    signature: str


_AUTH_PARAM = re.compile(r'\s*([a-z_]+)="?([^",]*)"?\s*')


def parse_authorization(header: str) -> Authorization:
    """Parse ``WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",...``; ProtocolError when malformed."""
    schema, _, params = (header or "").strip().partition(" ")
    if schema != SIGNATURE_TYPE:
        raise ProtocolError("unsupported authorization schema")
    values: dict[str, str] = {}
    for part in params.split(","):
        match = _AUTH_PARAM.fullmatch(part)
        if not match:
            raise ProtocolError("malformed authorization header")
        values[match.group(1)] = match.group(2)
    try:
        auth = Authorization(
            mchid=values["mchid"],
            nonce_str=values["nonce_str"],
            timestamp=values["timestamp"],
            serial_no=values["serial_no"],
            signature=values["signature"],
        )
    except KeyError as missing:
        raise ProtocolError(f"authorization header lacks {missing}") from None
    if not SERIAL_PATTERN.match(auth.serial_no) or not TIMESTAMP_PATTERN.match(auth.timestamp):
        raise ProtocolError("malformed authorization header")
    return auth


def request_verifies(public_key: rsa.RSAPublicKey, method: str, url: str, auth: Authorization, body: str) -> bool:
    """The merchant signed ``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n``. wechatpayv3's ``rsa_verify``
    checks ``a\\nb\\nc\\n``, so method, URL and timestamp travel as its first field."""
    return rsa_verify(f"{method.upper()}\n{url}\n{auth.timestamp}", auth.nonce_str, body, auth.signature, public_key)


def signature_headers(private_key: rsa.RSAPrivateKey, serial: str, body: str, timestamp: str = "") -> dict[str, str]:
    """The ``Wechatpay-*`` headers WeChat puts on answers and notifications: ``timestamp\\nnonce\\nbody\\n``
    signed with a platform key."""
    timestamp = timestamp or str(int(time.time()))
    nonce_str = secrets.token_hex(16).upper()
    return {
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature": rsa_sign(private_key, f"{timestamp}\n{nonce_str}\n{body}\n"),
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce_str,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def encrypt_resource(api_v3_key: bytes, plaintext: str, associated_data: str) -> dict[str, str]:
    nonce_str = secrets.token_hex(6)  # WeChat uses 12-character nonces
    ciphertext = AESGCM(api_v3_key).encrypt(nonce_str.encode(), plaintext.encode(), associated_data.encode())
    return {
        "algorithm": AES_ALGORITHM,
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "nonce": nonce_str,
        "associated_data": associated_data,
    }
