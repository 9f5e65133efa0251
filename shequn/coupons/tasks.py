"""Thin Huey tasks over coupons.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions


@db_periodic_task(crontab(minute="23"))
def expire_coupons() -> int:
    """Hourly: usable coupons past their validity become expired (checkout compares with the clock
    anyway; this keeps 我的优惠券's tabs and the figures right)."""
    return actions.expire_coupons()
