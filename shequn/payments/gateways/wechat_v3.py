"""A WeChat Pay API v3 merchant client behind the ``Gateway`` interface.

The protocol's cryptography is wechatpayv3's (``wechatpayv3.utils``): the ``Authorization``
header signed with the merchant key, SHA256-RSA verification of responses and notifications,
AEAD_AES_256_GCM decryption of resources with the APIv3 key, the pay sheet's ``paySign``. What
the SDK leaves to its caller stays here, thin: which platform key verifies (chosen by serial
among several while WeChat rotates them, downloads rate-limited), the header checks and the
timestamp window that refuse replays, the transport, and WeChat's answers mapped to our errors
(docs/adr/0015). The sandbox plugs in an in-process transport and its generated keys; a shop's
live account plugs in an HTTPS transport to api.mch.weixin.qq.com and its own keys.
"""

import datetime
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils.translation import gettext as _
from wechatpayv3.utils import aes_decrypt, build_authorization, load_certificate, rsa_sign, rsa_verify

from .base import (
    Gateway,
    GatewayError,
    NotificationRejected,
    OrderAlreadyPaid,
    Prepay,
    Refund,
    Transaction,
    VerifiedNotification,
)

logger = logging.getLogger("shequn.payments.wechatpay")

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
AES_ALGORITHM = "AEAD_AES_256_GCM"
# Certificate serial numbers are hex strings (WeChat's are 40 upper-case hex digits); a
# notification signed with the WeChat Pay public key carries that key's id instead.
SERIAL_PATTERN = re.compile(r"^(?:[0-9A-Fa-f]{8,64}|PUB_KEY_ID_[0-9]{1,48})$")
NONCE_PATTERN = re.compile(r"^[0-9A-Za-z]{1,64}$")
TIMESTAMP_PATTERN = re.compile(r"^\d{1,12}$")


class ProtocolError(Exception):
    """A message that does not verify: bad signature, malformed header, stale timestamp..."""


def check_timestamp(timestamp: str, max_skew_seconds: int, now: float | None = None) -> None:
    """wechatpayv3 verifies a signature whatever its age; a replay outside the window is refused here."""
    if not TIMESTAMP_PATTERN.match(timestamp or ""):
        raise ProtocolError("malformed timestamp")
    current = int(time.time() if now is None else now)
    if abs(current - int(timestamp)) > max_skew_seconds:
        raise ProtocolError("timestamp outside the allowed window")


def decrypt_resource(api_v3_key: bytes, resource: Any) -> str:
    """A notification's or a downloaded certificate's AEAD_AES_256_GCM resource, decrypted by wechatpayv3."""
    if not isinstance(resource, dict) or resource.get("algorithm") != AES_ALGORITHM:
        raise ProtocolError("unsupported resource algorithm")
    try:
        plaintext = aes_decrypt(
            nonce=str(resource["nonce"]),
            ciphertext=str(resource["ciphertext"]),
            associated_data=str(resource.get("associated_data") or ""),
            apiv3_key=api_v3_key.decode(),
        )
    except (KeyError, ValueError, UnicodeDecodeError):
        plaintext = None
    if plaintext is None:  # wechatpayv3's answer to a failed tag check
        raise ProtocolError("resource does not decrypt")
    return str(plaintext)


def dumps(payload: Any) -> str:
    """Compact JSON as WeChat sends it (non-ASCII kept as is)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class TransportResponse:
    status: int
    headers: Mapping[str, str]
    body: str


class Transport(Protocol):
    def __call__(self, method: str, url: str, headers: dict[str, str], body: str) -> TransportResponse: ...


class HttpTransport:
    """HTTPS to the gateway's API host; the signed URL is the path below ``base_url``.

    Real WeChat Pay: ``HttpTransport("https://api.mch.weixin.qq.com")``. The sandbox's API
    is also served over HTTP at ``/sandbox-pay`` (``payments:sandbox_api``).
    """

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __call__(self, method: str, url: str, headers: dict[str, str], body: str) -> TransportResponse:
        content = body.encode() if body else None
        target = f"{self.base_url}{url}"
        response = httpx.request(method, target, headers=headers, content=content, timeout=self.timeout)
        return TransportResponse(status=response.status_code, headers=dict(response.headers), body=response.text)


@dataclass(frozen=True)
class MerchantCredentials:
    """What a merchant holds: ids, its API key pair (with the certificate serial) and the APIv3 key."""

    mchid: str
    appid: str
    merchant_serial: str
    merchant_private_key: rsa.RSAPrivateKey
    api_v3_key: bytes


class PlatformCertificates:
    """Platform public keys by serial. Several live at once while WeChat rotates keys.

    An unknown serial triggers a download of the certificate list, but at most once per
    ``min_refresh_seconds``: a flood of forged serials cannot make us hammer the gateway.
    """

    def __init__(self, min_refresh_seconds: float = 60.0):
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._last_refresh: float | None = None
        self._lock = threading.Lock()
        self.refresh_count = 0

    def public_key(self, serial: str, download: Callable[[], dict[str, rsa.RSAPublicKey]]) -> rsa.RSAPublicKey | None:
        serial = serial.upper()
        key = self._keys.get(serial)
        if key is not None:
            return key
        with self._lock:
            now = time.monotonic()
            if self._last_refresh is not None and now - self._last_refresh < self.min_refresh_seconds:
                return self._keys.get(serial)
            self._last_refresh = now
            self.refresh_count += 1
            try:
                self._keys = {**self._keys, **download()}
            except Exception:
                # An unreachable gateway or a bad download leaves the serial unknown (a 4xx), never a 5xx.
                logger.warning("platform certificate download failed", exc_info=True)
        return self._keys.get(serial)

    def forget(self) -> None:
        with self._lock:
            self._keys = {}
            self._last_refresh = None


class StoredPlatformKeys:
    """The platform keys a merchant entered (certificates or the WeChat Pay public key), by serial.

    Nothing is downloaded: an unknown serial stays unknown (a 4xx), however often it comes.
    """

    def __init__(self, keys: Mapping[str, rsa.RSAPublicKey]):
        self._keys = {serial.upper(): key for serial, key in keys.items()}

    def public_key(self, serial: str, download: Callable[[], dict[str, rsa.RSAPublicKey]]) -> rsa.RSAPublicKey | None:
        return self._keys.get(serial.upper())


class PlatformKeys(Protocol):
    def public_key(
        self, serial: str, download: Callable[[], dict[str, rsa.RSAPublicKey]]
    ) -> rsa.RSAPublicKey | None: ...


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _parse_time(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def transaction_from_resource(resource: Mapping[str, Any]) -> Transaction:
    amount = resource.get("amount") or {}
    return Transaction(
        mchid=str(resource.get("mchid", "")),
        appid=str(resource.get("appid", "")),
        out_trade_no=str(resource.get("out_trade_no", "")),
        trade_state=str(resource.get("trade_state", "")),
        amount_fen=int(amount.get("total", -1)),
        transaction_id=resource.get("transaction_id") or None,
        success_time=_parse_time(resource.get("success_time")),
        raw=dict(resource),
    )


def refund_from_resource(resource: Mapping[str, Any]) -> Refund:
    amount = resource.get("amount") or {}
    return Refund(
        mchid=str(resource.get("mchid", "")),
        out_trade_no=str(resource.get("out_trade_no", "")),
        out_refund_no=str(resource.get("out_refund_no", "")),
        refund_id=str(resource.get("refund_id", "")),
        # Notifications call it refund_status, the query API calls it status.
        status=str(resource.get("refund_status") or resource.get("status") or ""),
        refund_fen=int(amount.get("refund", -1)),
        total_fen=int(amount.get("total", -1)),
        success_time=_parse_time(resource.get("success_time")),
        raw=dict(resource),
    )


class WechatPayV3Gateway(Gateway):
    def __init__(
        self,
        *,
        name: str,
        credentials: MerchantCredentials,
        transport: Transport,
        certificates: PlatformKeys,
        max_skew_seconds: int,
    ):
        self.name = name
        self.credentials = credentials
        self.transport = transport
        self.certificates = certificates
        self.max_skew_seconds = max_skew_seconds

    # --- signed requests ---------------------------------------------------------

    def _request(self, method: str, url: str, payload: Any = None, *, verify: bool = True) -> Any:
        body = "" if payload is None else dumps(payload)
        # The body is signed as the very string sent (wechatpayv3 signs a str as is).
        authorization = build_authorization(
            url,
            method,
            self.credentials.mchid,
            self.credentials.merchant_serial,
            self.credentials.merchant_private_key,
            data=body,
        )
        headers = {"Authorization": authorization, "Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = self.transport(method, url, headers, body)
        except (OSError, httpx.HTTPError) as error:
            raise GatewayError(_("支付网关暂时无法连接：%(error)s") % {"error": error}) from error
        if verify:
            self._verify_response(response)
        data = json.loads(response.body) if response.body else {}
        if response.status >= 300:
            code = str(data.get("code", "")) if isinstance(data, dict) else ""
            message = str(data.get("message", "")) if isinstance(data, dict) else ""
            if code == "ORDERPAID":
                raise OrderAlreadyPaid(message or _("订单已支付"))
            raise GatewayError(
                message or _("支付网关返回 %(status)s") % {"status": response.status},
                details={"gateway_code": code, "http_status": response.status},
            )
        return data

    def _verify_response(self, response: TransportResponse) -> None:
        headers = _headers(response.headers)
        try:
            self._verify_signed(headers, response.body)
        except ProtocolError as error:
            raise GatewayError(_("支付网关应答验签失败：%(error)s") % {"error": error}) from error

    def _verify_signed(self, headers: Mapping[str, str], body: str) -> None:
        serial = headers.get("wechatpay-serial", "")
        signature = headers.get("wechatpay-signature", "")
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce_str = headers.get("wechatpay-nonce", "")
        signature_type = headers.get("wechatpay-signature-type", SIGNATURE_TYPE)
        if not serial or not signature or not timestamp or not nonce_str:
            raise ProtocolError("missing Wechatpay-* signature headers")
        if signature_type != SIGNATURE_TYPE:
            raise ProtocolError("unsupported signature type")
        if not SERIAL_PATTERN.match(serial) or not NONCE_PATTERN.match(nonce_str):
            raise ProtocolError("malformed serial or nonce")
        check_timestamp(timestamp, self.max_skew_seconds)
        public_key = self.certificates.public_key(serial, self._download_certificates)
        if public_key is None:
            raise ProtocolError("unknown platform certificate serial")
        if not rsa_verify(timestamp, nonce_str, body, signature, public_key):
            raise ProtocolError("signature does not verify")

    def _download_certificates(self) -> dict[str, rsa.RSAPublicKey]:
        """GET /v3/certificates: certificates come AES-GCM encrypted with the APIv3 key."""
        # The list is what we would verify its own signature with, so it is checked after decryption.
        data = self._request("GET", "/v3/certificates", verify=False)
        keys: dict[str, rsa.RSAPublicKey] = {}
        for entry in data.get("data", []):
            pem = decrypt_resource(self.credentials.api_v3_key, entry.get("encrypt_certificate"))
            certificate = load_certificate(pem)
            if certificate is None:
                continue
            public_key = certificate.public_key()
            serial = format(certificate.serial_number, "X")
            if isinstance(public_key, rsa.RSAPublicKey) and serial == str(entry.get("serial_no", "")).upper():
                keys[serial] = public_key
        return keys

    # --- Gateway -------------------------------------------------------------------

    def create(
        self, *, out_trade_no: str, amount_fen: int, description: str, notify_url: str, payer_openid: str = ""
    ) -> Prepay:
        payload: dict[str, Any] = {
            "appid": self.credentials.appid,
            "mchid": self.credentials.mchid,
            "description": description[:127],
            "out_trade_no": out_trade_no,
            "notify_url": notify_url,
            "amount": {"total": amount_fen, "currency": "CNY"},
        }
        if payer_openid:
            payload["payer"] = {"openid": payer_openid}
        data = self._request("POST", "/v3/pay/transactions/jsapi", payload)
        return Prepay(prepay_id=str(data["prepay_id"]))

    def jsapi_pay_params(self, prepay_id: str) -> dict[str, str]:
        """What the H5 page hands ``WeixinJSBridge.invoke('getBrandWCPayRequest', …)``, signed with the merchant key."""
        timestamp = str(int(time.time()))
        nonce_str = secrets.token_hex(16).upper()
        package = f"prepay_id={prepay_id}"
        # paySign signs appId\ntimeStamp\nnonceStr\npackage\n (JSAPI 调起支付), as WeChatPay.sign does.
        message = "".join(f"{field}\n" for field in (self.credentials.appid, timestamp, nonce_str, package))
        return {
            "appId": self.credentials.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce_str,
            "package": package,
            "signType": "RSA",
            "paySign": rsa_sign(self.credentials.merchant_private_key, message),
        }

    def query(self, out_trade_no: str) -> Transaction:
        data = self._request(
            "GET",
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}?mchid={quote(self.credentials.mchid)}",
        )
        return transaction_from_resource(data)

    def close(self, out_trade_no: str) -> None:
        self._request(
            "POST", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}/close", {"mchid": self.credentials.mchid}
        )

    def refund(
        self,
        *,
        out_trade_no: str,
        out_refund_no: str,
        refund_fen: int,
        total_fen: int,
        reason: str,
        notify_url: str,
    ) -> Refund:
        payload = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "reason": reason[:80],
            "notify_url": notify_url,
            "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
        }
        return refund_from_resource(self._request("POST", "/v3/refund/domestic/refunds", payload))

    def query_refund(self, out_refund_no: str) -> Refund:
        return refund_from_resource(self._request("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no)}"))

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> VerifiedNotification:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise NotificationRejected(_("通知校验失败：body is not UTF-8"), code="FAIL") from None
        try:
            self._verify_signed(_headers(headers), text)
            envelope = json.loads(text)
            if not isinstance(envelope, dict):
                raise ProtocolError("body is not a JSON object")
            plaintext = decrypt_resource(self.credentials.api_v3_key, envelope.get("resource"))
            resource = json.loads(plaintext)
            if not isinstance(resource, dict):
                raise ProtocolError("resource is not a JSON object")
            notification_id = str(envelope["id"])
            event_type = str(envelope["event_type"])
        except (ProtocolError, ValueError, KeyError) as error:
            raise NotificationRejected(
                _("通知校验失败：%(value)s") % {"value": error or "invalid notification"}, code="FAIL"
            ) from None
        if not 0 < len(notification_id) <= 64:
            raise NotificationRejected(_("通知校验失败：invalid notification id"), code="FAIL")
        return VerifiedNotification(
            id=notification_id,
            create_time=str(envelope.get("create_time", "")),
            event_type=event_type,
            resource_type=str(envelope.get("resource_type", "")),
            resource=resource,
            summary=str(envelope.get("summary", "")),
        )
