"""An in-process throttle: yes at most once per ``seconds`` for each key.

For the checks a crowd would otherwise repeat on every request (a sold-out answer looking at the
database for units on their way back): one look a second per key and process, not one per request.
Not a rate limit for people (that is ``core.ratelimit``, shared by every process)."""

import threading
import time
import weakref
from collections.abc import Hashable

_every: "weakref.WeakSet[PerKeyThrottle]" = weakref.WeakSet()


class PerKeyThrottle:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._last: dict[Hashable, float] = {}
        _every.add(self)

    def due(self, key: Hashable) -> bool:
        """True (and the key's clock restarts) when ``seconds`` have passed since its last yes."""
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, float("-inf")) < self.seconds:
                return False
            self._last[key] = now
            return True

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._last.pop(key, None)


def forget_everything() -> None:
    """Every throttle of the process starts afresh (tests: a process-wide memory outlives a test's
    rows, and ids are reused after a rollback)."""
    for throttle in list(_every):
        with throttle._lock:
            throttle._last.clear()
