"""The one gate the process uses: Redis when ``REDIS_URL`` (or ``GATE_REDIS_URL``) is set, else
one in-process engine."""

from __future__ import annotations

import threading

from django.conf import settings

from .base import Gate, RateLimits
from .local import LocalGate
from .redis import RedisGate

_lock = threading.Lock()
_gate: Gate | None = None


def rate_limits() -> RateLimits | None:
    figures = list(getattr(settings, "GATE_RATE_LIMITS", []))
    if not figures:
        return None
    per_member, per_ip, window_ms = figures
    return RateLimits(per_member=per_member, per_ip=per_ip, window_ms=window_ms)


def get_gate() -> Gate:
    """The process-wide gate, built on first use from the settings (cached: one LocalGate must be
    shared by every thread of the process, and a RedisGate holds the connection pool)."""
    global _gate
    with _lock:
        if _gate is None:
            url = getattr(settings, "GATE_REDIS_URL", "") or settings.REDIS_URL
            _gate = (
                RedisGate(url, limits=rate_limits(), strict=settings.SHEQUN_PRODUCTION)
                if url
                else LocalGate(limits=rate_limits())
            )
        return _gate


def reset_gate() -> None:
    """Forget the cached gate (tests that change REDIS_URL or the limits)."""
    global _gate
    with _lock:
        if isinstance(_gate, RedisGate):
            _gate.close_connections()
        _gate = None


def use_gate(gate: Gate | None) -> Gate | None:
    """Put ``gate`` in place of the process-wide one (tests: a fresh engine each test); returns the
    one it replaces, to put back afterwards. ``None`` lets the next ``get_gate()`` build it again."""
    global _gate
    with _lock:
        previous, _gate = _gate, gate
        return previous
