"""In Chromium on a phone: the goods arrived, a member shows their pickup code, the leader types
it and hands over once (the second time the page says when); the leader scans another member's
QR (opens the URL it holds) and confirms."""

import os

import pytest
from django.conf import settings

from shequn.fulfilment import actions
from shequn.fulfilment.models import PickupTicket
from shequn.orders.enums import OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")  # a folder to keep screenshots in, for a look


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"fulfilment-{name}.png"), full_page=True)


def test_the_leader_verifies_a_members_pickup_code_on_a_phone(signed_in_page, world, live_server):
    first, _ = world.leaders
    wang, _zhao, li, _zhang = world.sign_ups
    actions.receive_goods(
        first, world.campaign.pk, {world.skus["fish"].pk: 3, world.skus["shrimp"].pk: 3}, actor=first.user
    )

    member = signed_in_page(wang.user)
    member.goto(f"/groupbuy/orders/{wang.order.number}/pickup/")
    code = member.get_by_test_id("pickup-code").inner_text().strip()
    assert len(code) == 6
    assert member.locator("[data-testid=pickup-qr] svg").count() == 1
    shot(member, "member-code")

    leader = signed_in_page(first.user)
    leader.goto("/leader/verify/")
    assert leader.get_by_test_id("open-count").inner_text() == "3"
    leader.get_by_label("取货码").fill(code)
    leader.get_by_role("button", name="核销").click()
    assert leader.get_by_test_id("verify-result").inner_text() == f"核销成功：王**（取货码 {code}）"
    leader.get_by_label("取货码").fill(code)
    leader.get_by_role("button", name="核销").click()
    result = leader.get_by_test_id("verify-result").inner_text()
    shot(leader, "leader-verify-twice")
    assert result.startswith("已核销（")
    wang.order.refresh_from_db()
    assert wang.order.status == OrderStatus.PICKED_UP

    member.reload()
    assert member.get_by_test_id("pickup-done").inner_text().startswith("已取货")

    # scanning 李四's QR opens the URL it holds on the leader's phone
    ticket = PickupTicket.objects.get(sign_up=li)
    leader.goto(actions.verify_url(ticket).replace(settings.SITE_URL, live_server.url))
    shot(leader, "leader-scanned")
    leader.get_by_test_id("confirm-pickup").click()
    assert leader.get_by_test_id("verify-result").inner_text() == "核销成功：李*"
    li.order.refresh_from_db()
    leader.goto(f"/leader/pick-lists/?campaign={world.campaign.pk}")
    shot(leader, "leader-pick-list")
    assert li.order.status == OrderStatus.PICKED_UP
