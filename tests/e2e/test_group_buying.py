"""Issue 4 end to end in Chromium: a campaign (接龙) from the console to the leader's commission.

The operator creates a campaign for two leaders' sub-groups and publishes it; members of both
sign up and pay at the sandbox cashier while a neighbour's page shows the live list grow without
a reload; at the deadline (time-machine) the campaign succeeds; each leader's pick list holds
exactly their own members' lines; the east leader confirms the goods, the member shows the
pickup code and the leader verifies it; after the after-sales window the order completes and
the leader's commission shows.

A member finds an open campaign from 我的 (正在接龙), signs up for the one unit the page starts
with and pays; the campaign fails at its deadline: the order leaves 待发货 and shows 已全额退款,
and the campaign page says so without offering changes.
"""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from shequn.groupbuy import actions as campaign_actions
from shequn.groupbuy.models import Campaign, SignUp
from shequn.groupbuy.tests.conftest import world
from shequn.orders import actions as order_actions
from shequn.orders.models import Order
from shequn.testing.browser import DESKTOP
from shequn.testing.payments import run_scheduled_tasks, sandbox, sandbox_key_dir
from shequn.testing.two_shops import operator, shop

__all__ = ["operator", "sandbox", "sandbox_key_dir", "shop", "world"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_up_and_pay(page: Any, campaign: Campaign, units: int) -> Order:
    page.goto(f"/groupbuy/campaigns/{campaign.pk}/")
    page.get_by_test_id("qty-input").fill(str(units))
    page.get_by_test_id("sign-up-button").click()
    page.wait_for_url("**/orders/*/")
    number = page.get_by_test_id("order-number").inner_text()
    page.get_by_test_id("pay-button").click()
    page.get_by_test_id("pay-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    return Order.objects.get(number=number)


def test_campaign_from_console_to_pickup_and_commission(world, sandbox, new_page, signed_in_page) -> None:
    # The operator creates the campaign for both leaders in the console and publishes it.
    console = signed_in_page(world.operator, **DESKTOP)
    console.goto("/console/groupbuy/new/")
    now = timezone.localtime()
    console.get_by_test_id("field-title").fill("周末三文鱼接龙")
    console.get_by_test_id("field-starts").fill((now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    console.get_by_test_id("field-deadline").fill((now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    console.get_by_test_id("field-pickup").fill((now + timedelta(days=1)).date().isoformat())
    console.get_by_test_id("field-min").fill("3")
    console.get_by_test_id("item-sku").first.select_option(str(world.salmon.pk))
    console.get_by_test_id("item-price").first.fill("59.00")
    console.get_by_test_id("item-stock").first.fill("30")
    for option in console.get_by_test_id("leader-option").all():
        option.check()
    console.get_by_test_id("save-campaign").click()
    console.get_by_test_id("publish-campaign").click()
    expect(console.get_by_test_id("campaign-status")).to_have_text("接龙中")
    campaign = Campaign.objects.get()

    # A neighbour taps the campaign's card in the community feed and watches the live list;
    # members of both estates sign up and pay.
    neighbour = signed_in_page(world.members["张三"])
    neighbour.goto(f"/c/{world.community.pk}/")
    card = neighbour.get_by_test_id("campaign-card")
    expect(card).to_contain_text("【接龙】周末三文鱼接龙")
    expect(card.get_by_test_id("campaign-card-price")).to_have_text("¥59.00")
    expect(card.get_by_test_id("campaign-card-progress")).to_have_text("已接龙 0 件 / 满 3 件成团")
    card.click()
    neighbour.wait_for_url(f"**/groupbuy/campaigns/{campaign.pk}/")
    expect(neighbour.get_by_test_id("qty-input")).to_have_value("1")
    expect(neighbour.get_by_test_id("list-empty")).to_be_visible()
    east_order = sign_up_and_pay(signed_in_page(world.members["王小明"]), campaign, 2)
    expect(neighbour.get_by_test_id("list-entry")).to_have_text(["1. 王** ×2 三文鱼 500g"], timeout=10_000)
    west_order = sign_up_and_pay(signed_in_page(world.members["李阿姨"]), campaign, 1)
    expect(neighbour.get_by_test_id("list-entry")).to_have_text(
        ["1. 王** ×2 三文鱼 500g", "2. 李** ×1 三文鱼 500g"], timeout=10_000
    )
    assert (east_order.total_fen, east_order.pickup_point_id) == (11800, world.leader_east.pickup_point_id)
    assert (west_order.total_fen, west_order.pickup_point_id) == (5900, world.leader_west.pickup_point_id)
    assert Order.objects.get(pk=east_order.pk).hold_reason  # not to be handed over before success

    # The deadline passes: the campaign closes exactly once and succeeds (3 units ≥ minimum 3).
    with time_machine.travel(campaign.deadline + timedelta(seconds=1)):
        assert campaign_actions.close_due_campaigns() == 1
        assert campaign_actions.close_due_campaigns() == 0
    campaign.refresh_from_db()
    assert campaign.status == "succeeded"
    assert Order.objects.get(pk=east_order.pk).hold_reason == ""

    # Each leader's pick list holds exactly their own members' lines.
    east = signed_in_page(world.leader_east.user)
    west = signed_in_page(world.leader_west.user)
    east.goto(f"/leader/pick-lists/?campaign={campaign.pk}")
    west.goto(f"/leader/pick-lists/?campaign={campaign.pk}")
    expect(east.get_by_test_id("pick-row")).to_have_count(1)
    expect(east.get_by_test_id("pick-row")).to_contain_text(["王**"])
    expect(west.get_by_test_id("pick-row")).to_have_count(1)
    expect(west.get_by_test_id("pick-row")).to_contain_text(["李**"])

    # The east leader confirms the goods; the member shows the pickup code; the leader verifies it.
    east.goto(f"/leader/receive/?campaign={campaign.pk}")
    east.get_by_role("button", name="确认收货").click()
    expect(east.get_by_test_id("received-at")).to_be_visible()
    assert Order.objects.get(pk=east_order.pk).status == "ready_for_pickup"
    member = signed_in_page(world.members["王小明"])
    member.goto(f"/orders/{east_order.number}/")
    member.get_by_test_id("pickup-code-link").click()
    code = member.get_by_test_id("pickup-code").inner_text().strip()
    east.goto("/leader/verify/")
    east.get_by_label("取货码").fill(code)
    east.get_by_role("button", name="核销").click()
    expect(east.get_by_test_id("verify-result")).to_have_text(f"核销成功：王**（取货码 {code}）")
    assert Order.objects.get(pk=east_order.pk).status == "picked_up"

    # After the after-sales window the order completes and the leader's commission shows (10%).
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS, hours=1)):
        assert order_actions.auto_complete_orders() == 1
    assert Order.objects.get(pk=east_order.pk).status == "completed"
    east.goto("/leader/commission/")
    expect(east.get_by_test_id("commission-total")).to_have_text("¥11.80")
    expect(east.get_by_test_id("commission-row")).to_have_count(1)
    assert SignUp.objects.get(order=east_order).sequence == 1


def test_a_member_finds_an_open_campaign_signs_up_for_one_and_sees_its_failure_honestly(
    world, sandbox, signed_in_page
) -> None:
    campaign = world.open_campaign(min_total_units=10)
    member = signed_in_page(world.members["王小明"])

    # 我的 → 正在接龙 → the campaign's card → the campaign page, one unit already chosen.
    member.goto("/me/")
    member.get_by_test_id("open-campaigns-link").click()
    card = member.get_by_test_id("campaign-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("campaign-card-progress")).to_have_text("已接龙 0 件 / 满 10 件成团")
    card.click()
    expect(member.get_by_test_id("qty-input")).to_have_value("1")
    member.get_by_test_id("sign-up-button").click()
    member.wait_for_url("**/orders/*/")
    number = member.get_by_test_id("order-number").inner_text()
    member.get_by_test_id("pay-button").click()
    member.get_by_test_id("pay-confirm").click()
    expect(member.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    member.goto("/orders/?tab=to_ship")
    expect(member.locator(f'[data-testid="order-card"][data-number="{number}"]')).to_have_count(1)

    # The deadline passes below the minimum: the campaign fails and the money goes back.
    with time_machine.travel(campaign.deadline + timedelta(seconds=1)):
        assert campaign_actions.close_due_campaigns() == 1
        run_scheduled_tasks()
    order = Order.objects.get(number=number)
    assert (order.status, order.refunded_fen) == ("closed", 5900)

    member.goto("/orders/?tab=to_ship")
    expect(member.locator(f'[data-testid="order-card"][data-number="{number}"]')).to_have_count(0)
    member.goto("/orders/?tab=closed")
    closed = member.locator(f'[data-testid="order-card"][data-number="{number}"]')
    expect(closed.get_by_test_id("order-status")).to_have_text("已全额退款")
    member.goto(f"/groupbuy/campaigns/{campaign.pk}/")
    expect(member.get_by_test_id("campaign-status")).to_have_text("未成团，已全额退款")
    expect(member.get_by_test_id("closed-summary")).to_contain_text("截止时共接龙 1 件，未达到成团所需的 10 件")
    expect(member.get_by_test_id("sign-up-state")).to_have_text("已全额退款 ¥59.00（三文鱼 1 件）")
    expect(member.get_by_test_id("change-link")).to_have_count(0)
    expect(member.get_by_test_id("list-empty")).to_have_count(0)
    expect(member.get_by_test_id("qty-input")).to_have_count(0)
