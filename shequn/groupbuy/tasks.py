"""Thin Huey tasks over groupbuy.actions; each is safe to run twice."""

from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions


@db_task(retries=3, retry_delay=30)
def close_campaign_at_deadline(campaign_id: int) -> str | None:
    """Scheduled at the deadline; closes the campaign unless it is closed already or not yet due."""
    return actions.close_campaign(campaign_id)


@db_periodic_task(crontab(minute="*"))
def sweep_due_campaigns() -> int:
    """Every minute: close what the ETA task missed (consumer down, task lost, deadline moved)."""
    return actions.close_due_campaigns()


@db_periodic_task(crontab(minute="*"))
def consume_sign_up_claims() -> int:
    """Every minute (and whenever called): claims the gate admitted become sign-ups. A burst runs
    dedicated consumers (``materialise_claims`` in a loop) and members' polling runs it too; this
    is the safety net."""
    return actions.materialise_claims().signed_up


@db_task(retries=3, retry_delay=30)
def give_tier_differences(campaign_id: int) -> int:
    """A tier was reached (or a sign-up paid after it was): give every paid difference back once."""
    return actions.give_tier_differences(campaign_id)


def schedule_close(campaign_id: int, deadline: datetime) -> None:
    close_campaign_at_deadline.schedule(args=(campaign_id,), eta=deadline)


def start_tier_refunds(campaign_id: int) -> None:
    give_tier_differences(campaign_id)
