"""Issue 3 end to end in Chromium: a paid community's poster link → pay the fee → read → buy.

A member opens a member's poster link of a paid community while its recruitment window is
open, signs in by SMS code, pays the fee in the sandbox cashier (WeChat Pay v3 protocol),
lands in the community, reads an article and buys from its product card; the order records
the article. Outside the window the join page says when joining opens and no payment is
possible, not even through a hand-made checkout link.
"""

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from shequn.communities import actions as community_actions
from shequn.communities.links import invite_url
from shequn.communities.models import CommunityMembership, MembershipTerm
from shequn.content.actions import ArticleInput, do_create_article
from shequn.orders.models import Order
from shequn.payments.models import GatewayNotification, Payment
from shequn.shops.enums import StaffRole
from shequn.testing.factories import (
    CommunityFactory,
    PickupPointFactory,
    ProductFactory,
    ShopFactory,
    SkuFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEMBER_PHONE = "13912340002"


def paid_community(shop: Any, owner: Any, name: str, code: str, *, opens_in: timedelta) -> Any:
    community = CommunityFactory(shop=shop, name=name, invite_code=code)
    community_actions.do_update_membership_settings(
        shop, community, join_policy="open", fee_fen=9900, validity_days=365, refund_days=3, actor=owner
    )
    opens_at = timezone.now() + opens_in
    community_actions.do_add_window(shop, community, opens_at, opens_at + timedelta(days=30), actor=owner)
    community.refresh_from_db()
    return community


@pytest.fixture
def club() -> dict[str, Any]:
    shop = ShopFactory(name="千岛湖鲜鱼农场")
    owner = StaffFactory(shop=shop, role=StaffRole.OWNER, user=UserFactory(username="boss", phone=None)).user
    open_now = paid_community(shop, owner, "千岛湖会员俱乐部", "club2026", opens_in=-timedelta(days=1))
    later = paid_community(shop, owner, "冬季三文鱼训练营", "winter2026", opens_in=timedelta(days=10))
    inviter = UserFactory(nickname="老王")
    CommunityMembership.objects.create(
        community=open_now, user=inviter, expires_at=timezone.now() + timedelta(days=200)
    )
    product = ProductFactory(shop=shop, title="挪威三文鱼礼盒", on_shelf=True)
    sku = SkuFactory(product=product, spec="500g", price_fen=3500, stock=10)
    article = do_create_article(
        shop,
        open_now,
        ArticleInput(
            title="三文鱼的五种吃法",
            body="<p>刺身、香煎、烟熏……</p>",
            status="published",
            product_ids=[product.pk],
        ),
        actor=owner,
    )
    PickupPointFactory(shop=shop, name="农场门店自提点")
    return {"shop": shop, "club": open_now, "later": later, "inviter": inviter, "sku": sku, "article": article}


def sign_in_member(page: Page, sms_outbox: Any) -> None:
    expect(page.locator("#phone")).to_be_visible()
    page.locator("#phone").fill(MEMBER_PHONE)
    page.get_by_test_id("send-code").click()
    page.locator("#code").fill(sms_outbox.last_code(MEMBER_PHONE))
    page.get_by_test_id("sign-in").click()


def pay_in_sandbox(page: Page, amount: str) -> None:
    page.get_by_test_id("pay-button").click()
    expect(page.get_by_test_id("pay-amount")).to_contain_text(amount)
    page.get_by_test_id("pay-confirm").click()


def test_poster_link_pay_fee_land_read_and_buy_from_the_article(page: Page, sms_outbox, club) -> None:
    community, article = club["club"], club["article"]
    poster_link = urlsplit(invite_url(community, inviter=club["inviter"]))
    page.goto(f"{poster_link.path}?{poster_link.query}")

    # The join page shows the fee, the validity, the refund rule and the open window.
    expect(page.get_by_test_id("community-name")).to_have_text("千岛湖会员俱乐部")
    expect(page.get_by_test_id("inviter")).to_contain_text("老王")
    expect(page.get_by_test_id("fee")).to_have_text("¥99.00")
    expect(page.get_by_test_id("validity")).to_have_text("365 天")
    expect(page.get_by_test_id("window-text")).to_be_visible()
    page.get_by_test_id("join-button").click()
    sign_in_member(page, sms_outbox)

    # Signed in: pay the fee through the ordinary checkout (no address for a fee).
    page.get_by_test_id("pay-button").click()
    expect(page.get_by_test_id("checkout-form")).to_be_visible()
    expect(page.get_by_test_id("address-section")).to_have_count(0)
    expect(page.get_by_test_id("total-none")).to_have_text("¥99.00")
    page.get_by_test_id("submit-order").click()
    fee_order = Order.objects.get(number=page.get_by_test_id("order-number").inner_text())
    assert (fee_order.kind, fee_order.fulfilment, fee_order.total_fen) == ("membership", "none", 9900)
    assert not CommunityMembership.objects.filter(community=community, user__phone=MEMBER_PHONE).exists()
    pay_in_sandbox(page, "99.00")

    # The cashier returns the member straight into the community.
    expect(page.get_by_test_id("community-header")).to_be_visible()
    assert page.url.endswith(f"/c/{community.pk}/")
    membership = CommunityMembership.objects.get(community=community, user__phone=MEMBER_PHONE)
    assert (membership.status, membership.invited_by) == ("active", club["inviter"])
    assert timedelta(days=364) < membership.expires_at - timezone.now() <= timedelta(days=365)
    term = MembershipTerm.objects.get(membership=membership)
    assert (term.order_id, term.amount_fen) == (fee_order.pk, 9900)
    fee_order.refresh_from_db()
    assert fee_order.status == "completed"
    assert Payment.objects.get(order=fee_order).status == "succeeded"
    assert GatewayNotification.objects.filter(event_type="TRANSACTION.SUCCESS", outcome="applied").count() == 1

    # Read the article, buy from its product card.
    page.get_by_test_id("articles-link").click()
    page.get_by_test_id("article-title").filter(has_text="三文鱼的五种吃法").click()
    expect(page.get_by_test_id("article-heading")).to_have_text("三文鱼的五种吃法")
    page.get_by_test_id("card-buy").click()
    expect(page.get_by_test_id("product-title")).to_have_text("挪威三文鱼礼盒")
    page.get_by_test_id("buy-now").click()
    page.get_by_test_id("fulfilment-pickup").check()
    page.get_by_test_id("submit-order").click()
    order = Order.objects.get(number=page.get_by_test_id("order-number").inner_text())
    pay_in_sandbox(page, "35.00")
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")

    order.refresh_from_db()
    assert (order.kind, order.total_fen, order.status) == ("goods", 3500, "paid")
    assert (order.article_id, order.community_id) == (article.pk, community.pk)
    club["sku"].refresh_from_db()
    assert club["sku"].stock == 9


def test_outside_the_window_the_join_page_says_when_it_opens_and_nothing_can_be_paid(
    page: Page, sms_outbox, club
) -> None:
    later = club["later"]
    page.goto(f"/c/join/{later.invite_code}/")
    opens = timezone.localtime(later.recruitment_windows.get().opens_at)
    expect(page.get_by_test_id("window-text")).to_contain_text("下一次招募将于")
    expect(page.get_by_test_id("window-text")).to_contain_text(f"{opens.year}年{opens.month}月{opens.day}日")
    expect(page.get_by_test_id("join-status")).to_contain_text("不在招募时间")
    expect(page.get_by_test_id("pay-button")).to_have_count(0)
    expect(page.get_by_test_id("join-button")).to_have_count(0)

    # A hand-made checkout link for the fee is refused too, once signed in.
    join_sku = later.fee_product.skus.get(spec="入会")
    page.goto(f"/checkout/?sku={join_sku.pk}&quantity=1")
    sign_in_member(page, sms_outbox)
    expect(page.get_by_text("下一次招募将于").first).to_be_visible()
    expect(page.get_by_test_id("submit-order")).to_have_count(0)
    assert Order.objects.count() == 0
    assert not CommunityMembership.objects.filter(community=later, user__phone=MEMBER_PHONE).exists()
