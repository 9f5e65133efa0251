"""Thin Huey tasks over loyalty.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actions


@db_periodic_task(crontab(hour="0", minute="17"))
def expire_points() -> int:
    """Daily: points past the published rule's end (the end of the year after they came in) expire."""
    return actions.expire_points()


@db_periodic_task(crontab(hour="8", minute="3"))
def give_birthday_coupons() -> int:
    """Daily, in the morning: each member whose birthday it is gets their level's birthday coupon."""
    return actions.give_birthday_coupons()
