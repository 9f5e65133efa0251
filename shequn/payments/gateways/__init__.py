"""Payment gateways by name: ``sandbox`` (WeChat Pay v3 protocol, in process), ``wechat`` (a
shop's own WeChat Pay merchant account) and ``cod``. ``online_gateway`` is the one place that
decides which online gateway a shop's members pay through."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from shequn.core.errors import InvalidInput
from shequn.shops.models import Shop

from ..selectors import has_live_configuration, merchant_account_of
from .base import Gateway
from .cod import CodGateway

# Every name settings.PAYMENT_GATEWAYS may hold (SHEQUN_PAYMENT_GATEWAYS); check shequn.payments.E002.
GATEWAY_NAMES = ("sandbox", "wechat", "cod")


def get_gateway(name: str, shop: Shop | None = None) -> Gateway:
    """The gateway ``name`` (a payment's own, once chosen); ``wechat`` is per shop."""
    if name not in settings.PAYMENT_GATEWAYS:
        raise InvalidInput(_("不支持的支付方式"), code="unknown_gateway")
    if name == "cod":
        return CodGateway()
    if name == "sandbox":
        from .sandbox import sandbox_gateway

        return sandbox_gateway()
    if name == "wechat" and shop is not None:
        from .wechat_live import live_gateway

        return live_gateway(shop)
    raise InvalidInput(_("不支持的支付方式"), code="unknown_gateway")


def online_gateway(shop: Shop, *, payer_openid: str) -> Gateway:
    """Where a member of ``shop`` pays online: the shop's own WeChat Pay when its merchant
    configuration is complete and the payer is inside WeChat (JSAPI needs their openid);
    otherwise the sandbox, the default. A live-only deployment outside WeChat refuses."""
    if "wechat" in settings.PAYMENT_GATEWAYS and payer_openid and has_live_configuration(shop):
        return get_gateway("wechat", shop)
    if "sandbox" in settings.PAYMENT_GATEWAYS:
        return get_gateway("sandbox")
    raise InvalidInput(_("请在微信中打开本页完成支付"), code="open_in_wechat")


def merchant_ids(name: str, shop: Shop | None) -> dict[str, str]:
    """The merchant and app ids our record expects a gateway's callbacks to carry."""
    if name == "sandbox":
        return {"mchid": settings.SANDBOX_PAY_MCHID, "appid": settings.SANDBOX_PAY_APPID}
    if name == "wechat" and shop is not None:
        account = merchant_account_of(shop)
        if account is not None:
            return {"mchid": account.mchid, "appid": account.appid}
    return {}


def notify_url(name: str, shop: Shop) -> str:
    """Where the gateway posts its callbacks: one URL per shop for live merchants (each has its own keys)."""
    if name == "wechat":
        return settings.SITE_URL + reverse("api:wechat_notification", kwargs={"shop_id": shop.pk})
    return settings.PAYMENT_NOTIFY_URL
