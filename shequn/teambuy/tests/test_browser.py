"""In Chromium: a member opens a team of two and pays at the sandbox cashier; a neighbour opens
the share link, joins and pays; both see the team succeed (the opener's page without reload)."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from shequn.notifications.models import Notification
from shequn.teambuy.enums import MemberStatus, TeamStatus
from shequn.teambuy.models import Team, TeamMember, TeamOffer
from shequn.testing.factories import PickupPointFactory, ShopFactory, UserFactory
from shequn.testing.orders import make_sku
from shequn.testing.payments import sandbox, sandbox_key_dir

__all__ = ["sandbox", "sandbox_key_dir"]

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"teambuy-{name}.png"), full_page=True)


def pay_at_cashier(page):
    page.wait_for_url("**/orders/**")
    page.get_by_test_id("pay-button").click()
    page.wait_for_url("**/sandbox-pay/**")
    page.get_by_test_id("pay-confirm").click()
    page.wait_for_url("**/orders/**")


def test_open_a_team_share_it_a_neighbour_joins_both_pay_and_the_team_succeeds(signed_in_page, sandbox, live_server):
    shop = ShopFactory.create(slug="qiandao", name="千岛湖鱼庄")
    sku = make_sku(shop, price_fen=5990, stock=20, title="千岛湖有机鱼头")
    PickupPointFactory.create(shop=shop, name="阳光小区东门")
    offer = TeamOffer.objects.create(
        shop=shop,
        sku=sku,
        title="有机鱼头 2 人团",
        team_size=2,
        team_price_fen=3990,
        starts_at=timezone.now() - timedelta(minutes=1),
    )
    opener, neighbour = UserFactory.create(nickname="王小明"), UserFactory.create(nickname="李华")

    first = signed_in_page(opener)
    first.goto(f"{live_server.url}/teambuy/offers/{offer.pk}/")
    assert first.get_by_test_id("team-price").inner_text() == "¥39.90"
    assert first.get_by_test_id("team-size").inner_text() == "2 人"
    shot(first, "offer")
    first.get_by_test_id("open-team").click()
    pay_at_cashier(first)
    team = Team.objects.get(offer=offer)
    first.goto(f"{live_server.url}/teambuy/teams/{team.pk}/")
    assert first.get_by_test_id("paid-count").inner_text() == "1"
    assert first.get_by_test_id("seats-left").inner_text() == "1 人"
    assert first.get_by_test_id("my-status").inner_text() == "已支付"
    share_link = first.get_by_test_id("share-link").input_value()
    assert share_link == f"{live_server.url}/teambuy/teams/{team.pk}/"
    expect(first.get_by_test_id("share-qr")).to_be_visible()
    shot(first, "team-forming")

    second = signed_in_page(neighbour)
    second.goto(share_link)
    assert second.get_by_test_id("member").all_inner_texts() == ["王**（团长） · 已支付"]
    second.get_by_test_id("join-team").click()
    pay_at_cashier(second)
    second.goto(share_link)
    assert second.get_by_test_id("team-status-label").inner_text() == "拼团成功"
    assert second.get_by_test_id("member").all_inner_texts() == ["王**（团长） · 已支付", "李* · 已支付"]
    shot(second, "team-succeeded")

    # The opener's page, left open, shows the success without a reload.
    expect(first.get_by_test_id("team-status-label")).to_have_text("拼团成功", timeout=10_000)
    team.refresh_from_db()
    assert (team.status, team.paid_count) == (TeamStatus.SUCCEEDED, 2)
    assert list(TeamMember.objects.filter(team=team).values_list("status", flat=True)) == [MemberStatus.PAID] * 2
    assert Notification.objects.filter(kind="teambuy.succeeded").count() == 2

    first.goto(f"{live_server.url}/teambuy/mine/")
    assert first.get_by_test_id("my-team-status").inner_text() == "拼团成功"
