"""Payment gateways by name: ``sandbox`` (WeChat Pay v3 protocol, in process) and ``cod``."""

from django.conf import settings

from shequn.core.errors import InvalidInput

from .base import Gateway
from .cod import CodGateway

# Every name settings.PAYMENT_GATEWAYS may hold (SHEQUN_PAYMENT_GATEWAYS); check shequn.payments.E002.
GATEWAY_NAMES = ("sandbox", "cod")


def get_gateway(name: str) -> Gateway:
    if name not in settings.PAYMENT_GATEWAYS:
        raise InvalidInput("不支持的支付方式", code="unknown_gateway")
    if name == "cod":
        return CodGateway()
    if name == "sandbox":
        from .sandbox import sandbox_gateway

        return sandbox_gateway()
    raise InvalidInput("不支持的支付方式", code="unknown_gateway")


def merchant_ids(name: str) -> dict[str, str]:
    """The merchant and app ids our record expects a gateway's callbacks to carry."""
    if name == "sandbox":
        return {"mchid": settings.SANDBOX_PAY_MCHID, "appid": settings.SANDBOX_PAY_APPID}
    return {}
