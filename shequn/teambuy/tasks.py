"""Thin Huey tasks over teambuy.actions; each is safe to run twice."""

from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions


@db_task(retries=3, retry_delay=30)
def expire_team(team_id: int) -> bool:
    """Scheduled at the team's deadline: fails it unless it succeeded, then settles members."""
    return actions.expire_team(team_id)


@db_task(retries=3, retry_delay=30)
def settle_team(team_id: int) -> int:
    return actions.settle_failed_team(team_id)


@db_periodic_task(crontab(minute="*"))
def sweep_expired_teams() -> int:
    """Every minute: what the ETA task missed (consumer down, task lost, clock moved)."""
    return actions.expire_due_teams()


def schedule_expiry(team_id: int, expires_at: datetime) -> None:
    expire_team.schedule(args=(team_id,), eta=expires_at)


def settle_team_later(team_id: int) -> None:
    settle_team(team_id)


@db_task(retries=3, retry_delay=30)
def release_team_holds(team_id: int) -> int:
    return actions.release_team_holds(team_id)


def release_team_holds_later(team_id: int) -> None:
    release_team_holds(team_id)
