"""Thin Huey tasks over core helpers; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import ratelimit


@db_periodic_task(crontab(minute="23", hour="*"))
def purge_expired_rate_limits() -> int:
    """Hourly: drop rate-limit counters and locks whose window has passed."""
    return ratelimit.purge_expired()
