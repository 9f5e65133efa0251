"""Thin Huey tasks over gifts.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions


@db_periodic_task(crontab(minute="41"))
def refund_unclaimed_gifts() -> int:
    """Hourly: gifts nobody claimed in time go back to their buyers as refunds."""
    return actions.refund_unclaimed()
