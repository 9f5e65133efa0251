"""The pages as an operator and a member use them (the browser test walks the draw end to end)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.lotteries import actions, draw
from shequn.lotteries.actions import PrizeInput
from shequn.lotteries.models import Lottery, Spin, Win
from shequn.testing.factories import AddressFactory
from shequn.testing.two_shops import login

from .conftest import draw_input, prize_coupon, published, wheel_input

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def form_data(community, sku, **fields):
    start = timezone.localtime() + timedelta(hours=1)
    data = {
        "title": "周年庆抽奖",
        "rules": "社群成员每人一次。",
        "mode": "draw",
        "entry_condition": "community",
        "community": community.pk,
        "starts_at": start.strftime(LOCAL),
        "ends_at": (start + timedelta(hours=1)).strftime(LOCAL),
        "draw_at": (start + timedelta(hours=1)).strftime(LOCAL),
        "spins_per_member": 1,
        "claim_deadline": (start + timedelta(days=7)).strftime(LOCAL),
        "unclaimed_rule": "逾期视为放弃。",
        "prize_0_name": "一等奖",
        "prize_0_kind": "goods",
        "prize_0_sku": sku.pk,
        "prize_0_value": "299",
        "prize_0_quantity": 1,
    }
    for row in range(1, 5):
        data[f"prize_{row}_kind"] = "goods"
    data.update(fields)
    return data


def test_operator_creates_and_publishes_from_the_console(console_client, community, sku):
    answer = console_client.post("/console/lotteries/new/", form_data(community, sku))
    lottery = Lottery.objects.get()
    assert answer.url == f"/console/lotteries/{lottery.pk}/"
    console_client.post(f"/console/lotteries/{lottery.pk}/publish/")
    page = console_client.get(f"/console/lotteries/{lottery.pk}/").content.decode()
    lottery.refresh_from_db()
    assert lottery.seed_hash in page
    assert "已发布" in page


@pytest.mark.parametrize("condition", ["share", "invite_friends"])
def test_the_form_refuses_a_sharing_condition_with_a_clear_message(console_client, community, sku, condition):
    answer = console_client.post("/console/lotteries/new/", form_data(community, sku, entry_condition=condition))
    assert answer.status_code == 200
    assert "不能以分享、转发、发朋友圈或邀请好友为条件" in answer.content.decode()
    assert not Lottery.objects.exists()


def test_the_form_refuses_a_top_prize_above_the_cap(console_client, community, sku):
    answer = console_client.post("/console/lotteries/new/", form_data(community, sku, prize_0_value="50000.01"))
    assert "超过上限 ¥50,000.00" in answer.content.decode()


def test_editing_a_started_lottery_is_refused_on_the_page(shop, operator, console_client, community, sku, commit):
    lottery = published(shop, operator, draw_input(community, sku), commit)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        answer = console_client.post(f"/console/lotteries/{lottery.pk}/edit/", form_data(community, sku, title="改"))
    assert "抽奖已开始，规则和奖品已冻结，不能再修改" in answer.content.decode()
    lottery.refresh_from_db()
    assert lottery.title == "周年庆抽奖"


def test_member_spins_the_wheel_on_its_page(shop, operator, community, sku, member, commit):
    prize = PrizeInput(name="礼盒", kind="goods", value_fen=29900, quantity=1, sku_id=sku.pk, odds_ppm=draw.ODDS_SCALE)
    lottery = published(shop, operator, wheel_input(community, sku, prizes=[prize]), commit)
    browser = login(member)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        before = browser.get(f"/lotteries/{lottery.pk}/").content.decode()
        after = browser.post(f"/lotteries/{lottery.pk}/spin/", follow=True).content.decode()
        again = browser.post(f"/lotteries/{lottery.pk}/spin/", follow=True).content.decode()
    assert "100%" in before
    assert "恭喜你抽中「礼盒」" in after
    assert 'data-testid="claim-form"' in after
    assert "你的抽奖次数已用完" in again
    assert Spin.objects.count() == 1


def test_drafts_are_not_public(client, shop, operator, community, sku):
    from shequn.lotteries import actions

    lottery = actions.create_lottery(shop, operator, draw_input(community, sku))
    assert client.get(f"/lotteries/{lottery.pk}/").status_code == 404


def test_another_shops_operator_sees_no_lottery(shop, operator, other_console_client, community, sku):
    from shequn.lotteries import actions

    lottery = actions.create_lottery(shop, operator, draw_input(community, sku))
    assert other_console_client.get(f"/console/lotteries/{lottery.pk}/").status_code == 404
    assert other_console_client.post(f"/console/lotteries/{lottery.pk}/publish/").status_code == 404
    lottery.refresh_from_db()
    assert lottery.status == "draft"


def test_member_wins_a_red_packet_on_the_wheel_and_claims_it_with_one_tap(
    shop, operator, community, sku, member, commit
):
    from shequn.wallets import ledger
    from shequn.wallets.enums import AccountKind

    prize = PrizeInput(name="现金红包", kind="red_packet", value_fen=520, quantity=1, odds_ppm=draw.ODDS_SCALE)
    lottery = published(shop, operator, wheel_input(community, sku, prizes=[prize]), commit)
    browser = login(member)
    with time_machine.travel(lottery.starts_at + timedelta(minutes=1)):
        spun = browser.post(f"/lotteries/{lottery.pk}/spin/", follow=True).content.decode()
        win_id = lottery.wins.get().pk
        claimed = browser.post(f"/lotteries/wins/{win_id}/claim/", follow=True).content.decode()
    assert 'name="fulfilment"' not in spun  # nothing to ship: no pickup or delivery to choose
    assert "领取成功，红包已存入你的钱包" in claimed
    assert ledger.balance(shop, AccountKind.SPENDABLE, member) == 520


def test_console_form_offers_the_shops_coupons_as_prizes(shop, operator, console_client, community, sku):

    template = prize_coupon(shop, name="抽奖专享券")
    data = form_data(community, sku, prize_0_kind="coupon", prize_0_sku="", prize_0_coupon=template.pk)
    data["prize_0_value"] = "20"
    answer = console_client.post("/console/lotteries/new/", data)
    assert answer.status_code == 302
    prize = Lottery.objects.get().prizes.get()
    assert (prize.kind, prize.coupon_template_id, prize.value_fen) == ("coupon", template.pk, 2000)


def test_the_console_shows_the_orders_and_sales_a_lottery_drove(
    shop, operator, console_client, community, sku, member, other_member, commit
):
    """Members' own paid orders in the week after they entered count; a prize's zero-price order, an
    order of someone who did not enter, and an order before entering do not."""
    from shequn.testing.orders import paid_order

    for user in (member, other_member):
        AddressFactory.create(user=user)
    lottery = published(shop, operator, draw_input(community, sku), commit)
    with time_machine.travel(lottery.starts_at - timedelta(minutes=1), tick=False) as clock:
        paid_order(member, sku)  # before entering
        clock.shift(timedelta(minutes=2))
        actions.enter(member, lottery.pk)
        clock.shift(timedelta(hours=2))
        first, second = paid_order(member, sku), paid_order(member, sku, 2)
        paid_order(other_member, sku)  # never entered
        clock.move_to(lottery.draw_at)
        actions.draw_lottery(lottery.pk)
        win = Win.objects.get(lottery=lottery)
        actions.claim_prize(member, win.pk, fulfilment="delivery", address_id=member.addresses.first().pk)

    page = console_client.get(f"/console/lotteries/{lottery.pk}/").content.decode()
    figures = console_client.get(f"/api/v1/lotteries/console/lotteries/{lottery.pk}/figures").json()

    sales = first.total_fen + second.total_fen
    assert f"带动订单 2 笔 · 带动销售额 ¥{sales // 100:,}.{sales % 100:02d}" in page
    assert (figures["driven_orders"], figures["driven_sales_fen"], figures["orders"]) == (2, sales, 1)
