"""Many members at once, for push tests: users and memberships in two bulk inserts."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from django.test import TestCase

from shequn.accounts.models import User
from shequn.communities.models import Community, CommunityMembership

_batch = itertools.count(1)


def add_members(community: Community, count: int) -> list[int]:
    """``count`` new active members of ``community``; returns their user ids."""
    tag = next(_batch)
    users = User.objects.bulk_create(
        User(username=f"bulk{community.pk}-{tag}-{n}", nickname=f"成员{n}", password="!") for n in range(count)
    )
    ids = list(User.objects.filter(username__startswith=f"bulk{community.pk}-{tag}-").values_list("pk", flat=True))
    assert len(ids) == len(users) == count
    CommunityMembership.objects.bulk_create(CommunityMembership(community=community, user_id=pk) for pk in ids)
    return ids


def add_existing(community: Community, user_ids: list[int]) -> None:
    CommunityMembership.objects.bulk_create(CommunityMembership(community=community, user_id=pk) for pk in user_ids)


@contextmanager
def after_commit() -> Iterator[None]:
    """Run the on-commit callbacks (pushes, scheduling) made inside, as a real commit would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
