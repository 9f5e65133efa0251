"""Races only a real engine shows (PostgreSQL pass): simultaneous promotional posts by one
member stop exactly at the daily limit, and simultaneous likes count exactly."""

from collections.abc import Callable

import pytest

from shequn.board import actions
from shequn.board.models import Thread, ThreadLike
from shequn.testing.factories import CommunityFactory, MembershipFactory, UserFactory
from shequn.testing.postgres import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_promotional_posts_stop_at_the_limit():
    community = CommunityFactory.create()
    member = UserFactory.create()
    MembershipFactory.create(community=community, user=member)

    def promo(n: int) -> Callable[[], str]:
        def call() -> str:
            actions.do_create_thread(
                member, community, category_id=None, title=f"推广{n}", body="欢迎光临", is_promotional=True
            )
            return "ok"

        return call

    outcomes = run_at_once([promo(n) for n in range(5)])
    assert outcomes == ["ok"] + ["promotion_limit_reached"] * 4
    assert Thread.objects.filter(author=member, is_promotional=True).count() == 1


def test_simultaneous_likes_and_double_taps_count_exactly():
    community = CommunityFactory.create()
    author = UserFactory.create()
    MembershipFactory.create(community=community, user=author)
    thread = actions.do_create_thread(author, community, category_id=None, title="t", body="b")
    fans = [UserFactory.create() for _ in range(4)]
    for fan in fans:
        MembershipFactory.create(community=community, user=fan)

    def like(user) -> Callable[[], str]:
        def call() -> str:
            actions.do_set_like(user, thread, True)
            return "ok"

        return call

    # Every fan taps twice at the same moment: one like each.
    run_at_once([like(fan) for fan in fans for _ in range(2)])
    thread.refresh_from_db()
    assert thread.like_count == 4 == ThreadLike.objects.filter(thread=thread).count()
