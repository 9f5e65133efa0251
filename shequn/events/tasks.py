"""Thin Huey tasks over events.actions; each is safe to run twice."""

from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions


@db_task(retries=3, retry_delay=30)
def send_event_reminders(event_id: int) -> int:
    """Scheduled at the event's reminder time; does nothing unless due and not yet sent."""
    return actions.do_send_reminders(event_id)


@db_periodic_task(crontab(minute="*/5"))
def sweep_event_reminders() -> int:
    """Every five minutes: send the reminders the ETA task missed (consumer down, time changed)."""
    return actions.send_due_reminders()


@db_task(retries=3, retry_delay=30)
def lapse_offer(registration_id: int) -> bool:
    """Scheduled at an offered seat's deadline: pass it on unless it was paid or declined."""
    return actions.expire_offer(registration_id)


@db_periodic_task(crontab(minute="*/5"))
def sweep_offers() -> int:
    """Every five minutes: lapse offers past their deadline whose task was lost."""
    return actions.expire_due_offers()


def schedule_reminder(event_id: int, due_at: datetime) -> None:
    send_event_reminders.schedule(args=(event_id,), eta=due_at)


def schedule_offer_expiry(registration_id: int, expires_at: datetime) -> None:
    lapse_offer.schedule(args=(registration_id,), eta=expires_at)
