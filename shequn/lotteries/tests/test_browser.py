"""In Chromium: a member enters a timed draw from its page, the operator draws it from the console,
and the member's page recomputes the winners from the published data (Web Crypto) and agrees."""

from datetime import timedelta

import pytest
import time_machine

from shequn.lotteries import actions, draw
from shequn.lotteries.models import Lottery, Win
from shequn.shops.enums import StaffRole
from shequn.testing.browser import DESKTOP
from shequn.testing.community import make_member, make_members
from shequn.testing.factories import CommunityFactory, ShopFactory, SkuFactory, StaffFactory

from .conftest import draw_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lottery_is_entered_drawn_and_verified_on_its_page(signed_in_page):
    shop = ShopFactory.create(slug="lottery-shop", name="千岛湖鲜鱼农场")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    community = CommunityFactory.create(shop=shop, name="滨江三文鱼群")
    sku = SkuFactory.create(product__shop=shop, product__title="三文鱼礼盒", price_fen=29900, stock=20)
    lottery = actions.create_lottery(shop, operator, draw_input(community, sku))
    actions.publish_lottery(shop, operator, lottery.pk)
    lottery.refresh_from_db()
    assert lottery.draw_at is not None
    member = make_member(community, "小王")
    others = make_members(community, 6, prefix="邻居")

    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        for other in others[:3]:
            actions.enter(other, lottery.pk)
        page = signed_in_page(member)
        page.goto(f"/lotteries/{lottery.pk}/")
        assert page.get_by_test_id("seed-hash").inner_text() == lottery.seed_hash
        page.get_by_test_id("enter").click()
        assert page.get_by_test_id("my-entry").inner_text() == "已参与，你的编号是 4"
        for other in others[3:]:
            actions.enter(other, lottery.pk)

    with time_machine.travel(lottery.draw_at + timedelta(seconds=10)):
        console = signed_in_page(operator, **DESKTOP)
        console.goto(f"/console/lotteries/{lottery.pk}/")
        console.get_by_test_id("draw").click()
        assert console.get_by_test_id("lottery-status").inner_text() == "已开奖"

        page.goto(f"/lotteries/{lottery.pk}/")
        lottery = Lottery.objects.get(pk=lottery.pk)
        assert page.get_by_test_id("seed").inner_text() == lottery.seed
        assert page.get_by_test_id("entry").count() == 7
        assert page.get_by_test_id("winner").count() == 3
        page.get_by_test_id("verify").click()
        result = page.get_by_test_id("verify-result")
        result.filter(has_text="验证通过").wait_for()
        assert result.get_attribute("data-verified") == "yes"

    expected = draw.winners(lottery.seed, range(1, 8), [(1, 1), (2, 2)])
    wins = Win.objects.order_by("prize__position", "pk").values_list("entry__number", "prize__position")
    assert list(wins) == expected
