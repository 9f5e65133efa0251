"""With the group-buy app's own flow: members sign up and pay, the tier price is reached, one
member reduces their units before the deadline, the campaign succeeds at the deadline; the
pick lists show what each member still wants and a shortage is refunded at the tier price."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.fulfilment import actions, selectors
from shequn.fulfilment.models import ShortageRefund
from shequn.groupbuy import actions as groupbuy
from shequn.groupbuy.enums import CampaignStatus
from shequn.orders import actions as order_actions
from shequn.testing.factories import CommunityFactory, MembershipFactory, SkuFactory, UserFactory

from .conftest import make_leader

pytestmark = pytest.mark.django_db


def test_pick_lists_and_shortages_follow_changes_and_tier_prices(shop, operator):
    community = CommunityFactory.create(shop=shop)
    east, west = make_leader(shop, "东苑", community=community), make_leader(shop, "西苑", community=community)
    salmon = SkuFactory.create(product__shop=shop, product__title="三文鱼", spec="500g", price_fen=6900, stock=500)
    now = timezone.now()
    campaign = groupbuy.do_create_campaign(
        shop,
        operator,
        groupbuy.CampaignInput(
            title="三文鱼周末接龙",
            starts_at=now - timedelta(minutes=1),
            deadline=now + timedelta(hours=2),
            pickup_date=(timezone.localtime(now) + timedelta(days=1)).date(),
            items=[
                groupbuy.ItemInput(
                    sku_id=salmon.pk, price_fen=5900, stock_limit=50, tiers=[groupbuy.TierInput(5, 4900)]
                )
            ],
            min_total_units=3,
        ),
        [east.pk, west.pk],
    )
    campaign = groupbuy.do_publish_campaign(shop, campaign, operator)
    item = campaign.items.get()

    def join_and_pay(name, leader, units):
        user = UserFactory.create(nickname=name)
        MembershipFactory.create(community=community, user=user)
        entry = groupbuy.sign_up(user, campaign.pk, {item.pk: units}, leader_id=leader.pk)
        order_actions.mark_paid(entry.order)
        return entry

    wang = join_and_pay("王小明", east, 2)
    join_and_pay("李阿姨", west, 2)
    zhang = join_and_pay("张三", east, 3)  # 7 units: the ¥49 tier is reached for everyone
    groupbuy.change_sign_up(wang.user, wang.pk, {item.pk: 1})

    with time_machine.travel(campaign.deadline + timedelta(seconds=1)):
        assert groupbuy.close_campaign(campaign.pk) == CampaignStatus.SUCCEEDED
    campaign.refresh_from_db()

    def rows(leader):
        return [(r.sequence, r.name, r.units) for r in selectors.pick_list(campaign, leader)]

    assert rows(east) == [(1, "王**", 1), (3, "张*", 3)]
    assert rows(west) == [(2, "李**", 2)]
    [summary] = selectors.supplier_summary(shop, campaign=campaign)
    assert (summary.units, summary.amount_fen) == (6, 6 * 4900)

    actions.receive_goods(east, campaign.pk, {salmon.pk: 3}, actor=east.user)
    [short] = ShortageRefund.objects.all()
    assert (short.sign_up_id, short.units, short.amount_fen) == (zhang.pk, 1, 4900)  # the tier price, not ¥59
