import logging
from typing import Any

from .models import Alert

logger = logging.getLogger("shequn.alerts")


def raise_alert(*, kind: str, message: str, shop: Any = None, **detail: Any) -> Alert:
    logger.warning("alert %s: %s", kind, message)
    return Alert.objects.create(shop=shop, kind=kind, message=message, detail=detail)
