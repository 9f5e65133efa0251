"""Thin Huey tasks over flashsales.actions; each is safe to run twice."""

from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=3, retry_delay=10)
def remind_session(session_id: int) -> int:
    """Scheduled at the session's start: every reserver gets the inbox reminder once."""
    from . import actions

    return actions.remind_reservers(session_id)


@db_periodic_task(crontab(minute="*"))
def consume_claims() -> int:
    """Every minute (and whenever called): admitted claims at the gate become orders, and released
    units still on their way go back to the gate (with Redis; an in-process gate lives in the web
    process, whose buy path takes them). A busy sale runs dedicated consumers
    (``materialise_claims`` in a loop); this is the safety net."""
    from . import actions

    ordered = actions.materialise_claims().ordered
    actions.return_released_units()
    return ordered


@db_periodic_task(crontab(minute="*"))
def sweep_sessions() -> int:
    """Every minute: reminders an ETA task missed, and sales whose last session is over end."""
    from . import actions

    return actions.remind_due_sessions() + actions.end_finished_sales()


def schedule_reminder(session_id: int, starts_at: datetime) -> None:
    remind_session.schedule(args=(session_id,), eta=starts_at)
