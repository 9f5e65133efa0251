"""Thin Huey tasks over redpackets.actions; each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*"))
def consume_grabs() -> int:
    """Every minute: admitted grabs at the gate are written and credited (pages and polls run the
    consumer too; this is the safety net)."""
    from . import actions

    return actions.materialise_grabs()


@db_periodic_task(crontab(minute="*"))
def return_expired() -> int:
    """Every minute: packets past their expiry give what nobody grabbed back to the shop, once."""
    from . import actions

    return actions.return_expired()
