"""Reads of the payments app."""

import hashlib

from cryptography.hazmat.primitives import serialization
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from shequn.core import secrets
from shequn.orders.models import Order
from shequn.shops.models import Shop

from .models import GatewayNotification, GatewayRefund, MerchantAccount, Payment, PlatformKey


def payment_of(order: Order) -> Payment | None:
    return Payment.objects.filter(order=order).first()


def payment_for_prepay(prepay_id: str) -> Payment | None:
    return Payment.objects.filter(prepay_id=prepay_id).select_related("shop", "order").first()


def refunds_of(payment: Payment) -> QuerySet[GatewayRefund]:
    return payment.refunds.order_by("created_at", "id")


def notifications_of(out_trade_no: str) -> QuerySet[GatewayNotification]:
    return GatewayNotification.objects.filter(resource__out_trade_no=out_trade_no)


def merchant_account_of(shop: Shop) -> MerchantAccount | None:
    return MerchantAccount.objects.filter(shop=shop).first()


def live_platform_keys(account: MerchantAccount) -> QuerySet[PlatformKey]:
    """The platform keys that still verify (not retired), newest first."""
    return account.platform_keys.filter(retired_at__isnull=True)


def has_live_configuration(shop: Shop) -> bool:
    """Every field WeChat Pay needs is there, and at least one platform key is live."""
    return (
        MerchantAccount.objects.filter(
            Exists(PlatformKey.objects.filter(account=OuterRef("pk"), retired_at__isnull=True)), shop=shop
        )
        .exclude(mchid="")
        .exclude(appid="")
        .exclude(merchant_serial="")
        .exclude(merchant_private_key_encrypted="")
        .exclude(api_v3_key_encrypted="")
        .exists()
    )


def merchant_account_summary(account: MerchantAccount | None) -> dict[str, str]:
    """What the console may show of the stored secrets: masked, never the secret itself."""
    if account is None:
        return {"merchant_private_key": "", "api_v3_key": ""}
    private_key = ""
    if account.merchant_private_key_encrypted:
        pem = secrets.decrypt(account.merchant_private_key_encrypted).encode()
        key = serialization.load_pem_private_key(pem, password=None)
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private_key = _("已保存（公钥指纹 %(mask)s）") % {"mask": secrets.mask(hashlib.sha256(public).hexdigest())}
    api_v3_key = secrets.mask(secrets.decrypt(account.api_v3_key_encrypted)) if account.api_v3_key_encrypted else ""
    return {"merchant_private_key": private_key, "api_v3_key": api_v3_key}
