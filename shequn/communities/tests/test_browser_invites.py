"""In Chromium: a member opens their share poster, downloads the PNG, and a friend who
follows the poster's link through a channel joins with both recorded."""

import io
from pathlib import Path

import pytest
from PIL import Image

from shequn.communities import actions, posters
from shequn.communities.links import invite_url
from shequn.communities.models import CommunityMembership
from shequn.communities.tests.test_browser import shot
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_downloads_poster_and_a_friend_joins_through_a_channel(signed_in_page, new_page, live_server):
    shop = ShopFactory.create(slug="poster-shop", name="千岛湖鲜鱼农场")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    community = CommunityFactory.create(shop=shop, name="滨江三文鱼群", invite_code="poster-2026")
    sharer = UserFactory.create(nickname="老王")
    actions.do_join(community, sharer)
    channel = actions.do_create_channel(community, "地铁海报", code="metro", actor=operator)

    page = signed_in_page(sharer)
    page.goto(f"/c/{community.pk}/")
    page.get_by_text("邀请好友加入").click()
    page.get_by_test_id("my-poster-link").click()
    page.get_by_test_id("poster-card").wait_for()
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-testid=poster-image]');"
        " return img.complete && img.naturalWidth > 0 }"
    )
    assert page.get_by_test_id("poster-image").evaluate("img => img.naturalWidth") == posters.POSTER_SIZE[0]
    assert page.get_by_test_id("share-url").inner_text() == invite_url(community, inviter=sharer)
    with page.expect_download() as download_info:
        page.get_by_test_id("poster-download").click()
    download = download_info.value
    assert download.suggested_filename == f"poster-{community.pk}.png"
    image = Image.open(io.BytesIO(Path(download.path()).read_bytes()))
    assert (image.format, image.size) == ("PNG", posters.POSTER_SIZE)

    # A friend scans: the link carries the sharer and the channel of the printed poster.
    friend = UserFactory.create(nickname="小李")
    link = invite_url(community, inviter=sharer, channel=channel).removeprefix(live_server.url)
    link = link[link.index("/c/join/") :]
    friend_page = signed_in_page(friend)
    friend_page.goto(link)
    friend_page.get_by_test_id("inviter").wait_for()
    assert "老王 邀请你加入" in friend_page.get_by_test_id("inviter").inner_text()
    friend_page.get_by_test_id("join-button").click()
    friend_page.get_by_test_id("community-header").wait_for()
    joined = CommunityMembership.objects.get(community=community, user=friend)
    assert (joined.invited_by, joined.channel) == (sharer, channel)


def test_operator_creates_a_channel_and_splits_a_full_sub_group(signed_in_page, new_page, live_server):
    shop = ShopFactory.create(slug="console-shop", name="千岛湖鲜鱼农场")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    community = CommunityFactory.create(shop=shop, name="滨江三文鱼群", invite_code="console-2026")
    group = actions.do_create_sub_group(community, "滨江小区群", capacity=4, actor=operator)
    members = [UserFactory.create() for _ in range(4)]
    for user in members:
        actions.do_join(community, user)
        actions.do_join_sub_group(user, group)

    console = signed_in_page(operator, viewport={"width": 1280, "height": 900}, is_mobile=False)
    console.goto(f"/console/communities/{community.pk}/channels/")
    form = console.get_by_test_id("channel-form")
    form.get_by_label("名称").fill("周末市集")
    form.locator('input[name="code"]').fill("market")
    form.get_by_role("button", name="创建").click()
    console.get_by_text("已创建渠道「周末市集」").wait_for()
    row = console.get_by_test_id("channel-row")
    assert "market" in row.inner_text()
    assert row.get_by_test_id("channel-joins").inner_text() == "0"
    shot(console, "console-channels")

    console.goto(f"/console/communities/{community.pk}/sub-groups/")
    assert "4/4" in console.get_by_test_id("sub-group-row").inner_text()
    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_test_id("split-sub-group").click()
    console.get_by_text("2 位最新加入的成员移入").wait_for()
    rows = console.get_by_test_id("sub-group-row")
    assert rows.count() == 2
    assert "2/4" in rows.nth(0).inner_text()
    assert "2/4" in rows.nth(1).inner_text()
    shot(console, "console-sub-groups")
    moved = set(CommunityMembership.objects.exclude(sub_group=group).values_list("user_id", flat=True))
    assert moved == {members[2].pk, members[3].pk}
