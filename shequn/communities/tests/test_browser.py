"""In Chromium: a member opens an invite link, joins, reads a staff post and taps 购买.

Sign-in itself belongs to the accounts app; here both people carry a session cookie.
"""

import os

import pytest

from shequn.communities.models import CommunityMembership
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import make_product
from shequn.testing.factories import CommunityFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = os.environ.get("SHEQUN_SCREENSHOTS")  # a folder to keep screenshots in, for a look


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_member_joins_by_invite_link_and_buys_from_a_post(signed_in_page):
    shop = ShopFactory.create(slug="qiandao", name="千岛湖鲜鱼农场")
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    community = CommunityFactory.create(shop=shop, name="滨江三文鱼群", invite_code="binjiang-2026")
    inviter = UserFactory.create(nickname="老王")
    CommunityMembership.objects.create(community=community, user=inviter)
    product = make_product(shop, "三文鱼刺身", returnable=False, per_person_cap=3, actor=operator)
    make_product(shop, "北极甜虾", actor=operator)

    # The operator posts from the console composer.
    console = signed_in_page(operator, viewport={"width": 1280, "height": 900}, is_mobile=False)
    console.goto(f"/console/communities/{community.pk}/")
    console.get_by_label("帖子内容").fill("今日现捕三文鱼，明天送到！")
    console.locator(f'[data-testid="composer-product"][value="{product.pk}"]').check()
    console.get_by_test_id("publish-post").click()
    console.get_by_text("帖子已发布").wait_for()
    shot(console, "console-community")
    post = community.posts.get()

    # The member opens the invite link shared by 老王.
    member = UserFactory.create(phone="13912345678")
    page = signed_in_page(member)
    page.goto(f"/c/join/{community.invite_code}/?from={inviter.pk}")
    page.get_by_test_id("community-name").wait_for()
    shot(page, "join")
    page.get_by_test_id("join-button").click()
    page.get_by_test_id("feed").wait_for()
    assert CommunityMembership.objects.get(community=community, user=member).invited_by == inviter
    assert "今日现捕三文鱼" in page.get_by_test_id("post-body").inner_text()
    shot(page, "feed")

    page.get_by_test_id("buy-link").click()
    page.get_by_test_id("buy-form").wait_for()
    assert page.url.endswith(f"/s/{shop.slug}/p/{product.pk}/?post={post.pk}")
    assert page.get_by_test_id("returnable-note").inner_text() == "生鲜商品，不支持七天无理由退货"
    assert page.get_by_test_id("member-price").inner_text() == "会员价 ¥32.00"
    assert page.locator('input[name="post_id"]').get_attribute("value") == str(post.pk)
    shot(page, "product")

    # The shop front searches by pinyin initials.
    page.goto(f"/s/{shop.slug}/")
    page.get_by_test_id("search-input").fill("swy")
    page.get_by_test_id("search-input").press("Enter")
    page.get_by_test_id("product-list").wait_for()
    titles = page.get_by_test_id("product-title").all_inner_texts()
    assert titles == ["三文鱼刺身"]
    shot(page, "search")
