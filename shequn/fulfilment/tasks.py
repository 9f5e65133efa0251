"""Thin Huey tasks over fulfilment.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions


@db_periodic_task(crontab(minute="15"))
def remind_uncollected_goods() -> int:
    """Hourly: remind members (once) and alert the operator (once) about goods left uncollected."""
    return actions.remind_uncollected()
