"""System checks of the payments configuration (``manage.py check``, run at every start-up).

In production (``SHEQUN_PRODUCTION=1``) the sandbox gateway is an error: its cashier marks an
order paid when the payer clicks "pay", and no money moves. A public demo may run it on purpose
with ``SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION=1``, which leaves a warning.
"""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from .gateways import GATEWAY_NAMES

SANDBOX_IN_PRODUCTION = "shequn.payments.E001"
UNKNOWN_GATEWAY = "shequn.payments.E002"
NO_GATEWAY = "shequn.payments.E003"
SANDBOX_IN_PRODUCTION_ALLOWED = "shequn.payments.W001"


@register("shequn_production")
def check_payment_gateways(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    gateways = list(settings.PAYMENT_GATEWAYS)
    found: list[CheckMessage] = []
    unknown = [name for name in gateways if name not in GATEWAY_NAMES]
    if unknown:
        found.append(
            Error(
                f"Unknown payment gateway(s) {', '.join(unknown)} in SHEQUN_PAYMENT_GATEWAYS.",
                hint=f"Known gateways: {', '.join(GATEWAY_NAMES)}.",
                id=UNKNOWN_GATEWAY,
            )
        )
    if not gateways:
        found.append(
            Error(
                "No payment gateway is enabled: members cannot pay for any order.",
                hint="Set SHEQUN_PAYMENT_GATEWAYS, e.g. SHEQUN_PAYMENT_GATEWAYS=cod.",
                id=NO_GATEWAY,
            )
        )
    if settings.SHEQUN_PRODUCTION and "sandbox" in gateways:
        if settings.SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION:
            found.append(
                Warning(
                    "The sandbox payment gateway is enabled in production (allowed for a demo): "
                    "orders are marked paid without any money moving.",
                    hint="Remove sandbox from SHEQUN_PAYMENT_GATEWAYS unless this deployment is a demo.",
                    id=SANDBOX_IN_PRODUCTION_ALLOWED,
                )
            )
        else:
            found.append(
                Error(
                    "The sandbox payment gateway is enabled in production: its cashier marks orders "
                    "paid when the payer clicks pay, and no money moves.",
                    hint="Set SHEQUN_PAYMENT_GATEWAYS without sandbox (e.g. cod), or "
                    "SHEQUN_ALLOW_SANDBOX_IN_PRODUCTION=1 for a public demo.",
                    id=SANDBOX_IN_PRODUCTION,
                )
            )
    return found
