"""Races only a real engine shows (PostgreSQL pass): four pushes in one community running at
the same moment, in small interleaved batches, give every member exactly one inbox entry
under a cap of one a day; the others count them as skipped."""

import threading

import pytest
from django.db import connections

from shequn.content import actions
from shequn.content.actions import ArticleInput
from shequn.content.models import PushDelivery, PushJob
from shequn.notifications.models import Notification
from shequn.testing.factories import CommunityFactory

from .members import add_members

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_pushes_in_one_community_honour_the_cap_exactly():
    community = CommunityFactory.create()
    shop = community.shop
    members = add_members(community, 300)
    jobs = []
    for n in range(4):
        article = actions.do_create_article(shop, community, ArticleInput(title=f"第{n}篇"), actor=None)
        jobs.append(PushJob.objects.create(shop=shop, community=community, article=article).pk)
    start = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job_id: int) -> None:
        try:
            start.wait(timeout=30)
            actions.run_push_job(job_id, batch_size=40)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(job_id,)) for job_id in jobs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert failures == []
    finished = PushJob.objects.filter(pk__in=jobs)
    assert sum(job.sent for job in finished) == len(members)
    assert sum(job.skipped_by_cap for job in finished) == 3 * len(members)
    assert all(job.total == len(members) for job in finished)
    assert Notification.objects.filter(kind="content.article").count() == len(members)
    assert PushDelivery.objects.count() == len(members)
    per_member = Notification.objects.values_list("user_id", flat=True)
    assert sorted(per_member) == sorted(members)
