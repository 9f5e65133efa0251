"""In Chromium: the operator creates a campaign for two leaders in the console and publishes it;
a member signs up and pays at the sandbox cashier in one page while a neighbour's page shows
the live list update without reload."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shequn.groupbuy.models import Campaign, SignUp

pytestmark = pytest.mark.django_db(transaction=True)


def test_operator_creates_member_pays_and_the_neighbour_sees_the_list_live(signed_in_page, world, sandbox):
    console = signed_in_page(world.operator, viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False)
    console.goto("/console/groupbuy/new/")
    now = timezone.localtime()
    console.get_by_test_id("field-title").fill("周末三文鱼接龙")
    console.get_by_test_id("field-starts").fill((now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    console.get_by_test_id("field-deadline").fill((now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    console.get_by_test_id("field-pickup").fill((now + timedelta(days=1)).date().isoformat())
    console.get_by_test_id("field-min").fill("2")
    console.get_by_test_id("item-sku").first.select_option(str(world.salmon.pk))
    console.get_by_test_id("item-price").first.fill("59.00")
    console.get_by_test_id("item-stock").first.fill("30")
    for option in console.get_by_test_id("leader-option").all():
        option.check()
    console.get_by_test_id("save-campaign").click()
    console.get_by_test_id("publish-campaign").click()
    expect(console.get_by_test_id("campaign-status")).to_have_text("接龙中")
    campaign = Campaign.objects.get()
    assert sorted(campaign.leaders.values_list("pk", flat=True)) == sorted([world.leader_east.pk, world.leader_west.pk])

    neighbour = signed_in_page(world.members["李阿姨"])
    neighbour.goto(f"/groupbuy/campaigns/{campaign.pk}/")
    expect(neighbour.get_by_test_id("list-empty")).to_be_visible()
    assert neighbour.get_by_test_id("shelf-price").inner_text() == "店内价 ¥69.00"

    member = signed_in_page(world.members["王小明"])
    member.goto(f"/groupbuy/campaigns/{campaign.pk}/")
    member.get_by_test_id("qty-input").fill("2")
    member.get_by_test_id("sign-up-button").click()
    member.wait_for_url("**/orders/*/")
    if "/sandbox-pay/" not in member.url:
        member.get_by_test_id("pay-button").click()
    member.wait_for_url("**/sandbox-pay/**")
    member.get_by_test_id("pay-confirm").click()
    member.wait_for_load_state()

    # The neighbour's page was never reloaded: htmx polling brings the new line in.
    expect(neighbour.get_by_test_id("list-entry")).to_have_text(["1. 王** ×2 三文鱼 500g"], timeout=10_000)
    expect(neighbour.get_by_test_id("paid-units")).to_have_text("2")
    entry = SignUp.objects.get()
    assert (entry.status, entry.sequence, entry.leader_id) == ("confirmed", 1, world.leader_east.pk)
