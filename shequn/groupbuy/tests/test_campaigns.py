"""Campaigns end to end through the real order and sandbox payment flows: publishing, sign-up,
payment (sequence numbers), the deadline close (success / failure with refunds exactly once),
tier refunds, changes and cancellations."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.catalog.models import Sku
from shequn.communities.models import Post
from shequn.groupbuy import actions, selectors
from shequn.groupbuy.enums import CampaignStatus, SignUpStatus
from shequn.groupbuy.errors import (
    CampaignInvalid,
    CampaignNotOpen,
    CampaignSoldOut,
    PerPersonCapExceeded,
    PickupPointFull,
)
from shequn.groupbuy.models import Campaign, CampaignItem, CampaignLeader, SignUp
from shequn.leaders.models import Leader
from shequn.notifications.models import Notification
from shequn.orders.enums import OrderStatus, RefundStatus
from shequn.orders.models import Order, RefundRequest
from shequn.payments import actions as payment_actions
from shequn.payments.models import GatewayRefund
from shequn.payments.sandbox import server
from shequn.testing.payments import run_scheduled_tasks

from .conftest import ItemInput, TierInput

pytestmark = pytest.mark.django_db


def pay(order, commit):
    url = payment_actions.start_payment(order, order.user)
    with commit(execute=True):
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    return order


def sign_and_pay(world, campaign, name, commit, **quantities):
    user = world.members[name]
    items = {item.sku_id: item.pk for item in campaign.items.all()}
    wanted = {items[world.salmon.pk]: quantities.get("salmon", 1)}
    if "shrimp" in quantities:
        wanted[items[world.shrimp.pk]] = quantities["shrimp"]
    with commit(execute=True):
        entry = actions.sign_up(user, campaign.pk, wanted)
    pay(entry.order, commit)
    entry.refresh_from_db()
    return entry


def test_publishing_posts_once_per_community_with_the_card(world):
    campaign = world.open_campaign()
    assert campaign.status == CampaignStatus.OPEN
    posts = Post.objects.filter(community=world.community)
    assert posts.count() == 1  # two leaders, one community: one post
    assert "【接龙】三文鱼周末接龙" in posts.get().body
    assert "/groupbuy/" not in posts.get().body  # the link is the card under the post, not bare text
    cards = selectors.campaign_cards(list(posts))
    assert [card.data.url for card in cards[posts.get().pk]] == [f"/groupbuy/campaigns/{campaign.pk}/"]
    assert set(CampaignLeader.objects.filter(campaign=campaign).values_list("post_id", flat=True)) == {posts.get().pk}


def test_validation_messages(world):
    now = timezone.now()
    with pytest.raises(CampaignInvalid) as late:
        world.open_campaign(deadline=now - timedelta(minutes=5), starts_at=now - timedelta(hours=1))
    assert late.value.message == "截止时间必须在将来"
    with pytest.raises(CampaignInvalid) as before:
        world.open_campaign(starts_at=now + timedelta(hours=3))
    assert before.value.message == "截止时间必须晚于开始时间"
    with pytest.raises(CampaignInvalid) as pickup:
        world.open_campaign(pickup_date=(timezone.localtime(now) - timedelta(days=1)).date())
    assert pickup.value.message == "提货日期不能早于截止日期"
    with pytest.raises(CampaignInvalid) as tiers:
        world.open_campaign(
            items=[
                ItemInput(
                    sku_id=world.salmon.pk,
                    price_fen=5900,
                    stock_limit=50,
                    tiers=[TierInput(10, 5500), TierInput(20, 5600)],
                )
            ]
        )
    assert tiers.value.message == "「三文鱼 500g」阶梯价须随件数增加而严格降低，且至少 ¥0.01"
    with pytest.raises(CampaignInvalid) as price:
        world.open_campaign(items=[ItemInput(sku_id=world.salmon.pk, price_fen=0, stock_limit=5)])
    assert price.value.message == "「三文鱼 500g」接龙价至少 ¥0.01"


def test_two_leaders_members_sign_up_pay_and_the_campaign_succeeds(world, django_capture_on_commit_callbacks, sandbox):
    with django_capture_on_commit_callbacks(execute=True):
        campaign = world.open_campaign(min_total_units=3)  # schedules the close at the deadline
    wang = sign_and_pay(world, campaign, "王小明", django_capture_on_commit_callbacks, salmon=2)
    li = sign_and_pay(world, campaign, "李阿姨", django_capture_on_commit_callbacks, salmon=1)
    # Each member's default leader is their own sub-group's; the order is picked up there.
    assert (wang.leader, li.leader) == (world.leader_east, world.leader_west)
    assert wang.order.pickup_point == world.leader_east.pickup_point
    assert wang.order.total_fen == 2 * 5900
    assert wang.order.expires_at <= campaign.deadline
    assert (wang.status, wang.sequence, li.status, li.sequence) == ("confirmed", 1, "confirmed", 2)
    assert [(e.sequence, e.name, e.text) for e in selectors.live_list(campaign)] == [
        (1, "王**", "×2 三文鱼 500g"),
        (2, "李**", "×1 三文鱼 500g"),
    ]
    item = CampaignItem.objects.get(campaign=campaign)
    assert (item.sold, item.paid_units) == (3, 3)
    # Until the campaign succeeds, the goods wait: the order is on hold.
    assert Order.objects.get(pk=wang.order_id).hold_reason == "接龙尚未成团"

    with time_machine.travel(campaign.deadline + timedelta(seconds=1)):
        run_scheduled_tasks()
        assert actions.close_due_campaigns() == 0  # the ETA task closed it already: exactly once
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SUCCEEDED
    notes = Notification.objects.filter(kind="groupbuy.succeeded").order_by("user_id")
    assert notes.count() == 2
    assert "东苑自提点" in notes.get(user=wang.user).body
    assert set(Order.objects.filter(sign_up__campaign=campaign).values_list("hold_reason", flat=True)) == {""}
    assert RefundRequest.objects.count() == 0


def test_a_campaign_missing_its_minimum_fails_and_every_paid_order_is_refunded_once(
    world, django_capture_on_commit_callbacks, sandbox
):
    campaign = world.open_campaign(min_total_units=10)
    stock_before = Sku.objects.get(pk=world.salmon.pk).stock
    wang = sign_and_pay(world, campaign, "王小明", django_capture_on_commit_callbacks, salmon=2)
    li = sign_and_pay(world, campaign, "李阿姨", django_capture_on_commit_callbacks, salmon=1)
    with django_capture_on_commit_callbacks(execute=True):
        unpaid = actions.sign_up(world.members["张三"], campaign.pk, {campaign.items.get().pk: 1})

    with time_machine.travel(campaign.deadline + timedelta(seconds=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert actions.close_campaign(campaign.pk) == CampaignStatus.FAILED
        with django_capture_on_commit_callbacks(execute=True):
            assert actions.close_campaign(campaign.pk) is None  # a second run changes nothing
            actions.close_due_campaigns()
        run_scheduled_tasks()

    for entry, amount in ((wang, 11800), (li, 5900)):
        entry.refresh_from_db()
        order = Order.objects.get(pk=entry.order_id)
        refunds = RefundRequest.objects.filter(order=order)
        assert [(r.amount_fen, r.status) for r in refunds] == [(amount, RefundStatus.REFUNDED)]
        assert GatewayRefund.objects.filter(refund_request__order=order).count() == 1
        assert order.refunded_fen == amount  # the REFUND.SUCCESS notification landed
        assert entry.status == SignUpStatus.REFUNDED
        assert Notification.objects.filter(user=entry.user, kind="groupbuy.failed").count() == 1
        assert Notification.objects.filter(user=entry.user, kind="refund.refunded").count() == 1
    unpaid.refresh_from_db()
    assert unpaid.status == SignUpStatus.CANCELLED
    assert Order.objects.get(pk=unpaid.order_id).status == OrderStatus.CANCELLED
    assert Sku.objects.get(pk=world.salmon.pk).stock == stock_before  # nothing was handed over


def test_tier_price_refunds_the_difference_exactly_once(world, django_capture_on_commit_callbacks, sandbox):
    tiered = ItemInput(
        sku_id=world.salmon.pk, price_fen=5900, stock_limit=50, per_person_cap=5, tiers=[TierInput(3, 4900)]
    )
    campaign = world.open_campaign(items=[tiered])
    wang = sign_and_pay(world, campaign, "王小明", django_capture_on_commit_callbacks, salmon=2)
    assert (wang.order.total_fen, wang.tier_refunded_fen) == (11800, 0)
    li = sign_and_pay(world, campaign, "李阿姨", django_capture_on_commit_callbacks, salmon=1)  # total 3
    wang.refresh_from_db()
    li.refresh_from_db()
    assert wang.tier_refunded_fen == 2 * 1000
    assert li.tier_refunded_fen == 1000  # signed up at 59.00 before the tier, paid after it
    # Running the tier step again gives nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.give_tier_differences(campaign.pk) == 0
    assert [r.amount_fen for r in RefundRequest.objects.filter(order_id=wang.order_id)] == [2000]
    assert Order.objects.get(pk=wang.order_id).refunded_fen == 2000
    # A new sign-up is priced at the tier reached.
    zhang = sign_and_pay(world, campaign, "张三", django_capture_on_commit_callbacks, salmon=1)
    assert (zhang.order.total_fen, zhang.tier_refunded_fen) == (4900, 0)
    assert RefundRequest.objects.filter(order_id=zhang.order_id).count() == 0


def test_stock_limit_cap_and_late_sign_ups_are_refused(world, django_capture_on_commit_callbacks, sandbox):
    campaign = world.open_campaign(
        items=[ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=3, per_person_cap=2)]
    )
    item = campaign.items.get()
    actions.sign_up(world.members["王小明"], campaign.pk, {item.pk: 2})
    with pytest.raises(PerPersonCapExceeded) as cap:
        actions.sign_up(world.members["王小明"], campaign.pk, {item.pk: 1})
    assert cap.value.message == "「三文鱼 500g」每人限购 2 件，你已接龙 2 件"
    with pytest.raises(CampaignSoldOut) as sold:
        actions.sign_up(world.members["李阿姨"], campaign.pk, {item.pk: 2})
    assert sold.value.message == "「三文鱼 500g」只剩 1 件"
    assert (SignUp.objects.count(), Order.objects.count()) == (1, 1)
    with time_machine.travel(campaign.deadline + timedelta(seconds=1)), pytest.raises(CampaignNotOpen) as late:
        actions.sign_up(world.members["李阿姨"], campaign.pk, {item.pk: 1})
    assert late.value.message == "接龙已截止"


def test_unpaid_order_closing_gives_units_back(world, django_capture_on_commit_callbacks):
    campaign = world.open_campaign()
    item = campaign.items.get()
    entry = actions.sign_up(world.members["王小明"], campaign.pk, {item.pk: 3})
    assert CampaignItem.objects.get(pk=item.pk).sold == 3
    order = entry.order
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    from shequn.orders.actions import close_unpaid_order

    assert close_unpaid_order(order.pk)
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.CANCELLED
    assert CampaignItem.objects.get(pk=item.pk).sold == 0


def test_member_reduces_then_cancels_refunds_exactly_once(world, django_capture_on_commit_callbacks, sandbox):
    campaign = world.open_campaign()
    stock_before = Sku.objects.get(pk=world.salmon.pk).stock
    wang = sign_and_pay(world, campaign, "王小明", django_capture_on_commit_callbacks, salmon=3)
    item = campaign.items.get()
    assert Sku.objects.get(pk=world.salmon.pk).stock == stock_before - 3
    with django_capture_on_commit_callbacks(execute=True):
        actions.change_sign_up(wang.user, wang.pk, {item.pk: 1})
    wang.refresh_from_db()
    assert (wang.units, wang.status) == (1, SignUpStatus.CONFIRMED)
    assert Sku.objects.get(pk=world.salmon.pk).stock == stock_before - 1  # the two units are back on the shelf
    assert CampaignItem.objects.get(pk=item.pk).sold == 1
    assert [r.amount_fen for r in RefundRequest.objects.filter(order_id=wang.order_id)] == [2 * 5900]
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel_sign_up(wang.user, wang.pk)
    wang.refresh_from_db()
    assert wang.status == SignUpStatus.REFUNDED
    assert sorted(r.amount_fen for r in RefundRequest.objects.filter(order_id=wang.order_id)) == [5900, 11800]
    assert Order.objects.get(pk=wang.order_id).refunded_fen == 3 * 5900
    assert CampaignItem.objects.get(pk=item.pk).sold == 0
    assert Sku.objects.get(pk=world.salmon.pk).stock == stock_before
    assert selectors.live_list(campaign) == []
    from shequn.groupbuy.errors import SignUpNotChangeable

    with pytest.raises(SignUpNotChangeable):
        actions.cancel_sign_up(wang.user, wang.pk)
    assert RefundRequest.objects.filter(order_id=wang.order_id).count() == 2


def test_operator_cancel_refunds_paid_sign_ups(world, django_capture_on_commit_callbacks, sandbox):
    campaign = world.open_campaign()
    wang = sign_and_pay(world, campaign, "王小明", django_capture_on_commit_callbacks, salmon=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.do_cancel_campaign(world.shop, campaign, world.operator, reason="供应商缺货") == "cancelled"
    wang.refresh_from_db()
    assert wang.status == SignUpStatus.REFUNDED
    assert Order.objects.get(pk=wang.order_id).refunded_fen == 5900
    assert "供应商缺货" in Notification.objects.get(user=wang.user, kind="groupbuy.failed").body


def test_outsiders_see_no_campaign(world):
    from shequn.groupbuy.errors import CampaignNotFound
    from shequn.testing.factories import UserFactory

    campaign = world.open_campaign()
    with pytest.raises(CampaignNotFound):
        selectors.access_member_campaign(UserFactory.create(), campaign.pk)


def test_the_sweeper_closes_what_the_eta_task_missed(world, django_capture_on_commit_callbacks, sandbox):
    campaign = world.open_campaign(min_total_units=1)  # no on_commit here: the ETA task was never queued
    sign_and_pay(world, campaign, "王小明", django_capture_on_commit_callbacks, salmon=1)
    assert actions.close_due_campaigns() == 0  # not due yet
    with time_machine.travel(campaign.deadline + timedelta(minutes=1)):
        run_scheduled_tasks()  # only the paid order's own unpaid-close task is queued
        with django_capture_on_commit_callbacks(execute=True):
            assert actions.close_due_campaigns() == 1
            assert actions.close_due_campaigns() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SUCCEEDED
    assert Notification.objects.filter(kind="groupbuy.succeeded").count() == 1


def test_success_rates_overall_and_per_leader(world, django_capture_on_commit_callbacks, sandbox):
    won = world.open_campaign(min_total_units=1)
    sign_and_pay(world, won, "王小明", django_capture_on_commit_callbacks, salmon=1)
    lost = world.open_campaign(min_total_units=99)
    own = actions.do_create_leader_campaign(world.leader_west, world.campaign_input(min_total_units=0))
    with (
        time_machine.travel(won.deadline + timedelta(seconds=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert actions.close_due_campaigns() == 3
    statuses = dict(Campaign.objects.values_list("pk", "status"))
    assert (statuses[won.pk], statuses[lost.pk], statuses[own.pk]) == ("succeeded", "failed", "succeeded")
    rate = selectors.success_rate(Campaign.objects.filter(shop=world.shop))
    assert (rate.closed, rate.succeeded, rate.percent) == (3, 2, 67)
    per_leader = {
        row.leader.pk: (row.rate.closed, row.rate.succeeded) for row in selectors.leader_success_rates(world.shop)
    }
    assert per_leader == {world.leader_east.pk: (2, 1), world.leader_west.pk: (3, 2)}


def test_a_pickup_points_daily_capacity_is_shared_by_campaigns_with_the_same_pickup_date(world):
    Leader.objects.filter(pk=world.leader_east.pk).update(capacity_per_day=1)
    first = world.open_campaign(title="周五三文鱼接龙")
    second = world.open_campaign(title="周五基围虾接龙")  # same pickup date
    item = {campaign.pk: campaign.items.get().pk for campaign in (first, second)}
    actions.sign_up(world.members["王小明"], first.pk, {item[first.pk]: 1})
    with pytest.raises(PickupPointFull) as full:
        actions.sign_up(world.members["张三"], second.pk, {item[second.pk]: 1})
    assert full.value.message.startswith("「东苑自提点」")
    assert "取货名额已满（每天 1 单）" in full.value.message
    assert SignUp.objects.filter(campaign=second).count() == 0
    # The west point has no limit: its member still signs up.
    assert actions.sign_up(world.members["李阿姨"], second.pk, {item[second.pk]: 1}).leader == world.leader_west


def test_a_late_payment_locks_the_campaign_before_the_skus_and_refunds_in_full(
    world, django_capture_on_commit_callbacks, sandbox
):
    # Lock order (module docstring): the order, then its campaign, then the SKUs. Reinstating a
    # closed order takes stock again and then tells groupbuy, which locks the campaign: the
    # campaign's row must be taken first (``orders.signals.order_reinstating``), or a consumer
    # holding the campaign and waiting for the SKU deadlocks with it on PostgreSQL.
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shequn.orders.actions import close_unpaid_order, reinstate_closed_order

    campaign = world.open_campaign()
    item = campaign.items.get()
    entry = actions.sign_up(world.members["王小明"], campaign.pk, {item.pk: 2})
    order = entry.order
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert close_unpaid_order(order.pk)
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        assert reinstate_closed_order(order) is True
    tables = [
        (match.group(1), query["sql"].split(None, 1)[0].upper())
        for query in queries.captured_queries
        if (match := re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', query["sql"]))
    ]
    campaign_read = tables.index(("groupbuy_campaign", "SELECT"))
    stock_taken = tables.index(("catalog_sku", "UPDATE"))
    assert campaign_read < stock_taken
    # The sign-up was cancelled when the order closed: the late money goes back in full.
    entry.refresh_from_db()
    assert entry.status == SignUpStatus.REFUNDED
    assert [r.amount_fen for r in RefundRequest.objects.filter(order_id=order.pk)] == [order.total_fen]
