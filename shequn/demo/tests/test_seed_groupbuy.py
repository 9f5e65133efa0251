"""The demo seed: one succeeded campaign with paid sign-ups at both points and one open
campaign (deadline tomorrow 20:00 Asia/Shanghai) with a live list; running it twice adds nothing."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from shequn.demo.seed_groupbuy import seed_groupbuy
from shequn.groupbuy import selectors
from shequn.groupbuy.models import Campaign, SignUp
from shequn.groupbuy.tests.conftest import join, world
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import operator, shop

__all__ = ["operator", "sandbox", "sandbox_key_dir", "shop", "world"]

# Payments complete in on_commit callbacks, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_groupbuy_is_idempotent(world, sandbox):
    leaders = [world.leader_east, world.leader_west]
    for n in range(3):
        join(world.community, f"东苑邻居{n}", world.east)
        join(world.community, f"西苑邻居{n}", world.west)
    seeded = seed_groupbuy(world.shop, world.operator, leaders)
    assert seeded is not None
    done, live = seeded
    assert (done.status, live.status) == ("succeeded", "open")
    local = timezone.localtime(live.deadline, ZoneInfo("Asia/Shanghai"))
    today = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")).date()
    assert (local.hour, local.minute, (local.date() - today).days) == (20, 0, 1)
    assert done.deadline < timezone.now()
    assert SignUp.objects.filter(campaign=done, status="confirmed").count() == 6
    assert {s.leader_id for s in SignUp.objects.filter(campaign=done)} == {x.pk for x in leaders}
    entries = selectors.live_list(live)
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5, 6]
    seed_groupbuy(world.shop, world.operator, leaders)
    assert Campaign.objects.filter(shop=world.shop).count() == 2
    assert SignUp.objects.count() == 12
