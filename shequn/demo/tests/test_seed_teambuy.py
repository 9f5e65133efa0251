"""seed_teambuy makes one offer and one team forming at 1/3 (its opener really paid); a second run
changes nothing."""

import pytest

from shequn.demo.seed_teambuy import seed_teambuy
from shequn.orders.models import Order
from shequn.teambuy.enums import MemberStatus, TeamStatus
from shequn.teambuy.models import Team, TeamMember, TeamOffer
from shequn.testing.factories import PickupPointFactory, UserFactory
from shequn.testing.orders import make_sku

pytestmark = pytest.mark.django_db


def test_seed_teambuy_makes_one_offer_and_one_forming_team_once(sandbox, shop, operator, commit):
    sku = make_sku(shop, price_fen=12800, stock=30, title="千岛湖鱼头礼盒", on_shelf=True)
    make_sku(shop, price_fen=1500, stock=30, title="葱姜料包", on_shelf=True)
    PickupPointFactory.create(shop=shop)
    opener = UserFactory.create(nickname="陈阿姨", phone="13800001111")
    with commit():  # the sandbox's payment notification is delivered after commit
        offer = seed_teambuy(shop, operator)
    assert offer is not None
    assert (offer.sku_id, offer.team_size, offer.team_price_fen) == (sku.pk, 3, 10240)
    team = Team.objects.get(offer=offer)
    assert (team.status, team.seats_taken, team.paid_count, team.opened_by) == (TeamStatus.FORMING, 1, 1, opener)
    assert TeamMember.objects.get(team=team).status == MemberStatus.PAID
    with commit():
        assert seed_teambuy(shop, operator) == offer
    assert (TeamOffer.objects.count(), Team.objects.count(), TeamMember.objects.count(), Order.objects.count()) == (
        1,
        1,
        1,
        1,
    )
