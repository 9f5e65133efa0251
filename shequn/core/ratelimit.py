"""Fixed-window counters in the Django cache (Redis when REDIS_URL is set)."""

from django.core.cache import cache

from .errors import RateLimited


def hit(bucket: str, limit: int, window_seconds: int) -> int:
    """Count one hit in ``bucket``; raise RateLimited once more than ``limit`` hits fall in the window."""
    key = f"ratelimit:{bucket}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    if count > limit:
        raise RateLimited("操作太频繁，请稍后再试", code="rate_limited")
    return count


def reset(bucket: str) -> None:
    cache.delete(f"ratelimit:{bucket}")
