"""WeChat Pay API v3 protocol primitives: signatures, the Authorization header, AES-GCM resources.

Pure functions with no Django state, shared by the merchant-side client
(``gateways.wechat_v3``) and the sandbox server that plays WeChat's part, so both sides
speak exactly the same protocol. Reference: pay.weixin.qq.com/doc/v3 (签名生成, 签名验证,
证书和回调报文解密).
"""

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
AES_ALGORITHM = "AEAD_AES_256_GCM"

# Certificate serial numbers are hex strings (WeChat's are 40 upper-case hex digits); a
# notification signed with the WeChat Pay public key carries that key's id instead.
SERIAL_PATTERN = re.compile(r"^(?:[0-9A-Fa-f]{8,64}|PUB_KEY_ID_[0-9]{1,48})$")
NONCE_PATTERN = re.compile(r"^[0-9A-Za-z]{1,64}$")
TIMESTAMP_PATTERN = re.compile(r"^\d{1,12}$")


class ProtocolError(Exception):
    """A message that does not verify: bad signature, malformed header, stale timestamp..."""


def nonce() -> str:
    return secrets.token_hex(16).upper()


def now_timestamp() -> str:
    return str(int(time.time()))


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    """SHA256 with RSA (PKCS#1 v1.5), base64: what WeChat calls SHA256-RSA2048."""
    signature = private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify(public_key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    try:
        public_key.verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def request_message(method: str, url: str, timestamp: str, nonce_str: str, body: str) -> str:
    """``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n``; URL is the path plus query string, no host."""
    return f"{method.upper()}\n{url}\n{timestamp}\n{nonce_str}\n{body}\n"


def response_message(timestamp: str, nonce_str: str, body: str) -> str:
    """``timestamp\\nnonce\\nbody\\n``: what WeChat signs on responses and notifications."""
    return f"{timestamp}\n{nonce_str}\n{body}\n"


def jsapi_message(appid: str, timestamp: str, nonce_str: str, package: str) -> str:
    """``appId\ntimeStamp\nnonceStr\npackage\n``: what ``paySign`` signs for WeixinJSBridge (JSAPI 调起支付)."""
    return f"{appid}\n{timestamp}\n{nonce_str}\n{package}\n"


def authorization_header(
    *,
    mchid: str,
    serial_no: str,
    private_key: rsa.RSAPrivateKey,
    method: str,
    url: str,
    body: str,
    timestamp: str | None = None,
    nonce_str: str | None = None,
) -> str:
    timestamp = timestamp or now_timestamp()
    nonce_str = nonce_str or nonce()
    signature = sign(private_key, request_message(method, url, timestamp, nonce_str, body))
    return (
        f'{AUTH_SCHEMA} mchid="{mchid}",nonce_str="{nonce_str}",timestamp="{timestamp}",'
        f'serial_no="{serial_no}",signature="{signature}"'
    )


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
    if schema != AUTH_SCHEMA:
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


def check_timestamp(timestamp: str, max_skew_seconds: int, now: float | None = None) -> None:
    if not TIMESTAMP_PATTERN.match(timestamp or ""):
        raise ProtocolError("malformed timestamp")
    current = int(time.time() if now is None else now)
    if abs(current - int(timestamp)) > max_skew_seconds:
        raise ProtocolError("timestamp outside the allowed window")


# --- AEAD_AES_256_GCM resources (notifications, downloaded certificates) -------------


def encrypt_resource(api_v3_key: bytes, plaintext: str, associated_data: str) -> dict[str, str]:
    nonce_str = secrets.token_hex(6)  # WeChat uses 12-character nonces
    ciphertext = AESGCM(api_v3_key).encrypt(nonce_str.encode(), plaintext.encode(), associated_data.encode())
    return {
        "algorithm": AES_ALGORITHM,
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "nonce": nonce_str,
        "associated_data": associated_data,
    }


def decrypt_resource(api_v3_key: bytes, resource: Any) -> str:
    if not isinstance(resource, dict) or resource.get("algorithm") != AES_ALGORITHM:
        raise ProtocolError("unsupported resource algorithm")
    try:
        ciphertext = base64.b64decode(resource["ciphertext"], validate=True)
        nonce_bytes = str(resource["nonce"]).encode()
        associated = str(resource.get("associated_data") or "").encode()
        return AESGCM(api_v3_key).decrypt(nonce_bytes, ciphertext, associated).decode()
    except (KeyError, ValueError, TypeError, InvalidTag, UnicodeDecodeError):
        raise ProtocolError("resource does not decrypt") from None


def dumps(payload: Any) -> str:
    """Compact JSON as WeChat sends it (non-ASCII kept as is)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
