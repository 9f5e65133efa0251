"""Thin Huey tasks over accounts.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions


@db_periodic_task(crontab(minute="17", hour="*"))
def purge_old_otp_codes() -> int:
    """Hourly: drop sign-in codes that expired more than a day ago."""
    return actions.do_purge_old_otp_codes()
