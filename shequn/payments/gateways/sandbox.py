"""The sandbox gateway: the real v3 client, pointed at the in-process sandbox server.

Swapping to real WeChat Pay means other credentials (the merchant's key and APIv3 key)
and an HTTPS transport to api.mch.weixin.qq.com; the client code stays the same.
"""

from functools import lru_cache

from django.conf import settings

from ..sandbox import keys as sandbox_keys
from .wechat_v3 import HttpTransport, MerchantCredentials, PlatformCertificates, TransportResponse, WechatPayV3Gateway


def sandbox_transport(method: str, url: str, headers: dict[str, str], body: str) -> TransportResponse:
    from ..sandbox.server import handle

    return handle(method, url, headers, body)


# One certificate cache per key directory, shared by every request in the process.
@lru_cache(maxsize=8)
def certificate_cache(directory: str) -> PlatformCertificates:
    return PlatformCertificates(min_refresh_seconds=60.0)


def sandbox_gateway() -> WechatPayV3Gateway:
    """The v3 client with the sandbox's keys; in process, or over HTTP when SANDBOX_PAY_API_BASE is set."""
    keys = sandbox_keys.load_keys()
    api_base = settings.SANDBOX_PAY_API_BASE
    return WechatPayV3Gateway(
        name="sandbox",
        credentials=MerchantCredentials(
            mchid=settings.SANDBOX_PAY_MCHID,
            appid=settings.SANDBOX_PAY_APPID,
            merchant_serial=keys.merchant_serial,
            merchant_private_key=keys.merchant_private_key,
            api_v3_key=keys.api_v3_key,
        ),
        transport=HttpTransport(api_base) if api_base else sandbox_transport,
        certificates=certificate_cache(str(sandbox_keys.key_dir())),
        max_skew_seconds=settings.PAYMENT_NOTIFICATION_MAX_SKEW_SECONDS,
    )
