"""Issue 16 in Chromium: a member claims a coupon from a post, checkout applies it, pays, refunds one
line and gets exactly that line's paid share back."""

import pytest
from playwright.sync_api import expect

from shequn.coupons.actions import put_on_post
from shequn.coupons.models import MemberCoupon
from shequn.orders import actions
from shequn.orders.models import Order, RefundRequest
from shequn.payments import actions as payment_actions
from shequn.testing.coupons import make_coupon_template
from shequn.testing.factories import CommunityFactory, MembershipFactory, PostFactory
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def test_coupon_from_a_post_to_a_partial_refund_of_the_paid_share(signed_in_page, tmp_path):
    shop = make_shop(shipping_fee_fen=1000, free_shipping_threshold_fen=0)
    apple = make_sku(shop, price_fen=6000, stock=10, title="苹果")
    pear = make_sku(shop, price_fen=4000, stock=10, title="梨")
    staff = make_staff(shop)
    member = make_member()
    community = CommunityFactory.create(shop=shop)
    MembershipFactory.create(community=community, user=member)
    post = PostFactory.create(community=community, body="周末水果券")
    template = make_coupon_template(shop, staff, name="水果满100减20")
    put_on_post(shop, staff, template.pk, post.pk)

    page = signed_in_page(member)
    page.goto(f"/c/{community.pk}/")
    card = page.get_by_test_id("coupon-card")
    expect(card).to_contain_text("满¥100.00减¥20.00")
    card.get_by_test_id("coupon-card-claim").click()
    expect(page.get_by_role("status").first).to_contain_text("领取成功")
    assert MemberCoupon.objects.get(user=member).source == "post"

    actions.add_to_cart(member, apple.pk, 1)
    actions.add_to_cart(member, pear.pk, 1)
    page.goto("/cart/")
    page.get_by_test_id("cart-checkout").click()
    expect(page.get_by_test_id("coupon-discount")).to_have_text("-¥20.00")  # suggested and chosen
    expect(page.get_by_test_id("total-delivery")).to_have_text("¥90.00")  # ¥100 - ¥20 + ¥10
    page.get_by_test_id("coupon-none").check()  # the member may shop without it: quoted again
    expect(page.get_by_test_id("total-delivery")).to_have_text("¥110.00")
    page.get_by_test_id("coupon-option").locator("input").check()
    expect(page.get_by_test_id("total-delivery")).to_have_text("¥90.00")
    page.screenshot(path=str(tmp_path / "checkout-coupon.png"), full_page=True)
    page.get_by_test_id("submit-order").click()
    expect(page.get_by_test_id("order-number")).to_be_visible()
    expect(page.get_by_test_id("order-discount")).to_have_text("-¥20.00")
    page.get_by_test_id("pay-button").click()
    page.get_by_test_id("pay-confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")

    order = Order.objects.get(user=member)
    pear_line = order.lines.get(sku=pear)
    assert (pear_line.discount_fen, pear_line.paid_fen) == (800, 3200)  # ¥20 split 60:40
    page.locator(f'[data-testid="order-line"][data-line="{pear_line.pk}"]').get_by_test_id("refund-button").click()
    expect(page.get_by_test_id("refund-left")).to_have_text("¥32.00")
    page.get_by_test_id("refund-amount").fill("32.01")
    page.get_by_test_id("refund-reason").fill("梨坏了")
    page.get_by_test_id("refund-submit").click()
    expect(page.get_by_test_id("refund-error")).to_be_visible()  # more than was paid for the line
    page.get_by_test_id("refund-amount").fill("32.00")
    page.get_by_test_id("refund-submit").click()
    page.wait_for_url(f"**/orders/{order.number}/")

    payment_actions.approve_refund(shop, RefundRequest.objects.get(), staff)
    page.reload()
    expect(
        page.locator(f'[data-testid="order-line"][data-line="{pear_line.pk}"]').get_by_test_id("line-refunded")
    ).to_have_text("¥32.00")
    page.screenshot(path=str(tmp_path / "refunded.png"), full_page=True)
    order.refresh_from_db()
    assert order.refunded_fen == 3200
