"""Thin Huey tasks over content.actions; each is safe to run twice."""

from datetime import datetime

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions


@db_task(retries=3, retry_delay=30)
def publish_scheduled_article(article_id: int) -> bool:
    """Scheduled at the article's publish_at; does nothing unless it is still scheduled and due."""
    return actions.do_publish_article(article_id, due_only=True)


@db_periodic_task(crontab(minute="*"))
def sweep_scheduled_articles() -> int:
    """Every minute: publish what the ETA task missed (consumer down, task lost, time changed)."""
    return actions.publish_due_articles()


@db_task(retries=3, retry_delay=30)
def run_push(job_id: int) -> bool:
    """Write one push's inbox entries; a job already claimed by another run is left alone."""
    return actions.run_push_job(job_id) is not None


@db_periodic_task(crontab(minute="*/5"))
def resume_stalled_pushes() -> int:
    """Every five minutes: finish pushes whose task was lost or whose run died mid-way."""
    return actions.resume_stalled_pushes()


def schedule_publish(article_id: int, publish_at: datetime) -> None:
    publish_scheduled_article.schedule(args=(article_id,), eta=publish_at)


def start_push(job_id: int) -> None:
    run_push(job_id)
