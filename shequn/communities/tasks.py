"""Thin Huey tasks over communities.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions


@db_periodic_task(crontab(minute="*/5"))
def sweep_expired_memberships() -> int:
    """Every five minutes: members past their expiry become former and are told (their access
    already ended at expiry: the membership selectors compare ``expires_at`` with the clock)."""
    return actions.expire_memberships()


@db_periodic_task(crontab(minute="*/15"))
def remind_renewals() -> int:
    """Every quarter hour: one renewal reminder per term, ``renewal_reminder_days`` before expiry."""
    return actions.send_renewal_reminders()
