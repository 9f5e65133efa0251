"""Fixed-window counters and timed locks, shared by every web worker.

Where they live is ``settings.RATELIMIT_STORE``: ``"cache"`` (the Django cache; Redis when
REDIS_URL is set, whose INCR is atomic) or ``"database"`` (``core.RateLimitCounter``, the
default without Redis). Never a process's memory: counters that multiply with the workers
and reset on restart limit nothing.

The database store changes counts only by single-statement ``F()`` updates. Call these
functions outside a transaction that may roll back (a refused sign-in raises after counting):
the hit must stay counted.
"""

import hashlib
import math
import time
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import RateLimited
from .models import RateLimitCounter

PREFIX = "ratelimit:"
KEY_MAX_LENGTH = 200  # RateLimitCounter.key


def _key(bucket: str) -> str:
    key = PREFIX + bucket
    # Usernames are long enough to overflow the column; their digest is as good a key.
    return key if len(key) <= KEY_MAX_LENGTH else PREFIX + hashlib.sha256(bucket.encode()).hexdigest()


class Store(Protocol):
    def incr(self, key: str, window_seconds: int) -> int: ...
    def hold(self, key: str, seconds: int) -> None: ...
    def remaining(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...


class CacheStore:
    def incr(self, key: str, window_seconds: int) -> int:
        cache.add(key, 0, timeout=window_seconds)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window_seconds)
            return 1

    def hold(self, key: str, seconds: int) -> None:
        cache.set(key, time.time() + seconds, timeout=seconds)

    def remaining(self, key: str) -> int:
        until = cache.get(key)
        return max(0, math.ceil(float(until) - time.time())) if until is not None else 0

    def delete(self, key: str) -> None:
        cache.delete(key)


class DatabaseStore:
    def incr(self, key: str, window_seconds: int) -> int:
        # One transaction: the UPDATE's row lock (PostgreSQL) or the write lock taken at BEGIN
        # (SQLite, IMMEDIATE) holds until the count is read back, so each hit reads its own count.
        now = timezone.now()
        rows = RateLimitCounter.objects.filter(key=key)
        with transaction.atomic():
            if not rows.filter(expires_at__gt=now).update(count=F("count") + 1):
                # No live window: restart an expired one, or open the first.
                expires_at = now + timedelta(seconds=window_seconds)
                if not rows.filter(expires_at__lte=now).update(count=1, expires_at=expires_at):
                    try:
                        with transaction.atomic():
                            RateLimitCounter.objects.create(key=key, count=1, expires_at=expires_at)
                    except IntegrityError:  # another worker opened it first: count in its window
                        rows.update(count=F("count") + 1)
            return int(rows.values_list("count", flat=True).first() or 0)

    def hold(self, key: str, seconds: int) -> None:
        expires_at = timezone.now() + timedelta(seconds=seconds)
        if not RateLimitCounter.objects.filter(key=key).update(count=1, expires_at=expires_at):
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(key=key, count=1, expires_at=expires_at)
            except IntegrityError:
                RateLimitCounter.objects.filter(key=key).update(count=1, expires_at=expires_at)

    def remaining(self, key: str) -> int:
        expires_at = RateLimitCounter.objects.filter(key=key).values_list("expires_at", flat=True).first()
        if expires_at is None:
            return 0
        return max(0, math.ceil((expires_at - timezone.now()).total_seconds()))

    def delete(self, key: str) -> None:
        RateLimitCounter.objects.filter(key=key).delete()


def store() -> Store:
    return CacheStore() if settings.RATELIMIT_STORE == "cache" else DatabaseStore()


def hit(bucket: str, limit: int, window_seconds: int) -> int:
    """Count one hit in ``bucket``; raise RateLimited once more than ``limit`` hits fall in the window."""
    count = store().incr(_key(bucket), window_seconds)
    if count > limit:
        raise RateLimited(_("操作太频繁，请稍后再试"), code="rate_limited")
    return count


def count(bucket: str, window_seconds: int) -> int:
    """Count one event in ``bucket`` (a window of ``window_seconds``) and return the total; never refuses."""
    return store().incr(_key(bucket), window_seconds)


def lock(bucket: str, seconds: int) -> None:
    """Lock ``bucket`` for ``seconds`` (``locked_for`` reports the rest)."""
    store().hold(_key(bucket), seconds)


def locked_for(bucket: str) -> int:
    """Seconds ``bucket`` stays locked; 0 when it is not."""
    return store().remaining(_key(bucket))


def reset(bucket: str) -> None:
    store().delete(_key(bucket))


def purge_expired() -> int:
    """Delete database counters whose window has passed (they hold IPs and phone numbers)."""
    deleted, _ = RateLimitCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
