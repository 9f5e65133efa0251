"""Thin Huey tasks over lotteries.actions; each is safe to run twice."""

from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task(retries=3, retry_delay=10)
def draw_lottery(lottery_id: int) -> bool:
    """Scheduled at the draw time: reveals the seed and writes the winners, once."""
    from . import actions

    return actions.draw_lottery(lottery_id)


@db_periodic_task(crontab(minute="*"))
def sweep_lotteries() -> int:
    """Every minute: draws an ETA task missed, wheel spins still at the gate, prizes past their
    claim deadline."""
    from . import actions

    return actions.draw_due() + actions.materialise_spins() + actions.forfeit_unclaimed()


def schedule_draw(lottery_id: int, draw_at: datetime) -> None:
    draw_lottery.schedule(args=(lottery_id,), eta=draw_at)
