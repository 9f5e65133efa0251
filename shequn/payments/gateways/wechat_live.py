"""Real WeChat Pay for one shop: the v3 client with the shop's own merchant configuration.

The keys come from the shop's ``MerchantAccount`` (decrypted here, in memory only) and its
live ``PlatformKey`` rows; requests go over HTTPS to ``settings.WECHAT_PAY_API_BASE``.
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.utils.translation import gettext as _

from shequn.core import secrets
from shequn.core.errors import InvalidInput
from shequn.shops.models import Shop

from ..selectors import has_live_configuration, live_platform_keys, merchant_account_of
from .wechat_v3 import HttpTransport, MerchantCredentials, StoredPlatformKeys, Transport, WechatPayV3Gateway


def live_transport() -> Transport:
    return HttpTransport(settings.WECHAT_PAY_API_BASE)


def _public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)  # only RSA keys are accepted when they are entered
    return key


def live_gateway(shop: Shop) -> WechatPayV3Gateway:
    account = merchant_account_of(shop)
    if account is None or not has_live_configuration(shop):
        raise InvalidInput(_("店铺的微信支付商户配置不完整"), code="merchant_not_configured")
    private_key = serialization.load_pem_private_key(
        secrets.decrypt(account.merchant_private_key_encrypted).encode(), password=None
    )
    assert isinstance(private_key, rsa.RSAPrivateKey)
    return WechatPayV3Gateway(
        name="wechat",
        credentials=MerchantCredentials(
            mchid=account.mchid,
            appid=account.appid,
            merchant_serial=account.merchant_serial,
            merchant_private_key=private_key,
            api_v3_key=secrets.decrypt(account.api_v3_key_encrypted).encode(),
        ),
        transport=live_transport(),
        certificates=StoredPlatformKeys(
            {key.serial: _public_key(key.public_key_pem) for key in live_platform_keys(account)}
        ),
        max_skew_seconds=settings.PAYMENT_NOTIFICATION_MAX_SKEW_SECONDS,
    )
