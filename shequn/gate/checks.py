"""Deploy check: an in-process gate is correct for one web process only."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from shequn.core.checks import PRODUCTION_TAG

IN_PROCESS_GATE = "shequn.gate.W001"


@register(PRODUCTION_TAG, deploy=True)
def check_shared_gate(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "GATE_REDIS_URL", "") or settings.REDIS_URL:
        return []
    return [
        Warning(
            "The admission gate (flash sales) keeps its units in this process's memory: with more than "
            "one web process each would hold the whole stock and a sale would oversell.",
            hint="Set REDIS_URL (or GATE_REDIS_URL) on a Redis with no persistence and maxmemory-policy "
            "noeviction (docs/adr/0009-admission-gate.md), or serve with exactly one web process and "
            "silence this check.",
            id=IN_PROCESS_GATE,
        )
    ]
