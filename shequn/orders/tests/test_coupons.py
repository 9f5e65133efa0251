"""Coupons at checkout and after: the discount split and stored per line, one use per coupon,
refunds of the paid share, the coupon given back on cancel and on a full refund, commission on
what was paid."""

import functools
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shequn.coupons import actions
from shequn.coupons.enums import CouponStatus
from shequn.coupons.errors import CouponNotApplicable
from shequn.coupons.models import CouponEvent
from shequn.orders import actions as order_actions
from shequn.orders.errors import RefundAmountInvalid
from shequn.orders.models import Order
from shequn.orders.selectors import refundable_left_fen
from shequn.testing.coupons import make_coupon_template
from shequn.testing.orders import auth_headers, make_sku, make_staff, paid_order, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(shop):
    return make_staff(shop)


@pytest.fixture
def sku(shop):
    return make_sku(shop, price_fen=5000, stock=50, title="苹果")


@pytest.fixture
def make_template(shop, staff):
    return functools.partial(make_coupon_template, shop, staff)


def refund_line(order, line, amount, staff):
    refund = order_actions.request_refund(order.user, order.number, line.pk, amount_fen=amount, reason="不想要了")
    order_actions.approve_refund(refund, staff)
    assert order_actions.complete_refund(refund)
    return refund


def cart_order(member, skus, coupon=None, **extra):
    for sku, quantity in skus:
        order_actions.add_to_cart(member, sku.pk, quantity)
    return order_actions.create_order(
        member,
        fulfilment="delivery",
        payment_method="sandbox",
        address_id=member.addresses.first().pk,
        coupon_id=coupon.pk if coupon else None,
        **extra,
    )


def test_the_discount_is_split_over_the_lines_and_stored(shop, sku, member, make_template):
    pear = make_sku(shop, price_fen=2500, stock=50, title="梨")
    held = actions.claim(member, make_template().pk)
    order = cart_order(member, [(sku, 1), (pear, 2)], held)  # ¥50 + ¥50: 满100减20
    assert (order.items_total_fen, order.discount_fen, order.shipping_fee_fen) == (10000, 2000, 0)
    assert order.total_fen == 8000
    lines = sorted(order.lines.all(), key=lambda line: line.total_fen)
    assert [(line.total_fen, line.discount_fen, line.paid_fen) for line in lines] == [(5000, 1000, 4000)] * 2
    assert order.coupon_id == held.pk
    held.refresh_from_db()
    assert held.status == CouponStatus.USED


def test_a_coupon_is_used_once(sku, member, make_template):
    held = actions.claim(member, make_template(kind="no_threshold", threshold_fen=0, amount_fen=500).pk)
    place_order(member, sku, coupon_id=held.pk)
    with pytest.raises(CouponNotApplicable) as refused:
        place_order(member, sku, coupon_id=held.pk)
    assert refused.value.message == "已使用或已过期"


def test_checkout_refuses_a_coupon_that_does_not_apply_with_the_reason(sku, member, make_template):
    held = actions.claim(member, make_template().pk)
    with pytest.raises(CouponNotApplicable) as refused:
        place_order(member, sku, coupon_id=held.pk)  # ¥50 of 满100
    assert refused.value.message == "满¥100.00可用，还差¥50.00"


def test_the_quote_lists_coupons_suggests_the_best_and_says_why_others_do_not_apply(sku, member, make_template):
    small = actions.claim(member, make_template(kind="no_threshold", threshold_fen=0, amount_fen=300).pk)
    large = actions.claim(member, make_template(kind="percent", threshold_fen=0, amount_fen=0, percent_off=20).pk)
    out_of_reach = actions.claim(member, make_template().pk)
    quote = order_actions.quote_checkout(
        member, sku_id=sku.pk, quantity=1, fulfilment="delivery", payment_method="sandbox"
    )
    offers = {offer.coupon.pk: offer for offer in quote.coupon_offers}
    assert offers[small.pk].discount_fen == 300
    assert offers[large.pk].discount_fen == 1000
    assert offers[out_of_reach.pk].refusal == "满¥100.00可用，还差¥50.00"
    suggested = quote.suggested_coupon
    assert suggested is not None
    assert suggested.coupon.pk == large.pk
    assert quote.plan.discount_fen == 0  # nothing applied until asked
    quote.apply_suggested()
    assert (quote.plan.discount_fen, quote.plan.total_fen) == (1000, 5000)  # ¥50 - ¥10 + ¥10 shipping


def test_a_partial_refund_returns_exactly_the_paid_share(shop, sku, member, staff, make_template):
    pear = make_sku(shop, price_fen=2500, stock=50, title="梨")
    held = actions.claim(member, make_template().pk)
    order = cart_order(member, [(sku, 1), (pear, 2)], held)
    order_actions.mark_paid(order)
    pear_line = order.lines.get(sku=pear)
    assert refundable_left_fen(pear_line) == 4000  # ¥50 less its ¥10 share of the coupon
    with pytest.raises(RefundAmountInvalid):
        order_actions.request_refund(member, order.number, pear_line.pk, amount_fen=4001, reason="坏了")
    refund_line(order, pear_line, 4000, staff)
    order.refresh_from_db()
    assert order.refunded_fen == 4000
    held.refresh_from_db()
    assert held.status == CouponStatus.USED  # not refunded in full: the coupon stays used


def test_a_full_refund_gives_the_coupon_back_while_valid(sku, member, staff, make_template):
    held = actions.claim(member, make_template(kind="no_threshold", threshold_fen=0, amount_fen=500).pk)
    order = paid_order(member, sku, coupon_id=held.pk)
    line = order.lines.get()
    refund_line(order, line, line.paid_fen, staff)
    order.refresh_from_db()
    assert order.refunded_fen == order.total_fen - order.shipping_fee_fen == 4500  # every line, in full
    held.refresh_from_db()
    assert held.status == CouponStatus.RETURNED
    again = place_order(member, sku, coupon_id=held.pk)  # usable again
    assert again.discount_fen == 500
    assert list(CouponEvent.objects.filter(coupon=held).values_list("status", flat=True)) == [
        CouponStatus.CLAIMED,
        CouponStatus.USED,
        CouponStatus.RETURNED,
        CouponStatus.USED,
    ]


def test_a_full_refund_after_the_coupon_expired_does_not_give_it_back(sku, member, staff, make_template):
    held = actions.claim(member, make_template(kind="no_threshold", threshold_fen=0, amount_fen=500).pk)
    order = paid_order(member, sku, coupon_id=held.pk)
    type(held).objects.filter(pk=held.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    line = order.lines.get()
    refund_line(order, line, line.paid_fen, staff)
    held.refresh_from_db()
    assert held.status == CouponStatus.EXPIRED


def test_cancelling_or_closing_an_unpaid_order_gives_the_coupon_back(sku, member, make_template):
    template = make_template(kind="no_threshold", threshold_fen=0, amount_fen=500, per_person_limit=2)
    first, second = actions.claim(member, template.pk), actions.claim(member, template.pk)
    order = place_order(member, sku, coupon_id=first.pk)
    order_actions.cancel_order_by_member(member, order.number)
    first.refresh_from_db()
    assert first.status == CouponStatus.RETURNED
    unpaid = place_order(member, sku, coupon_id=second.pk)
    assert unpaid.expires_at is not None
    assert order_actions.close_unpaid_order(unpaid.pk, now=unpaid.expires_at + timedelta(seconds=1))
    second.refresh_from_db()
    assert second.status == CouponStatus.RETURNED


def test_expired_coupons_are_swept(member, make_template):
    held = actions.claim(member, make_template().pk)
    assert actions.expire_coupons(now=timezone.now() + timedelta(days=8)) == 1
    held.refresh_from_db()
    assert held.status == CouponStatus.EXPIRED
    assert actions.expire_coupons(now=timezone.now() + timedelta(days=8)) == 0


def test_the_checkout_page_suggests_the_best_coupon_and_orders_with_it(sku, member, make_template):
    best = actions.claim(member, make_template(kind="no_threshold", threshold_fen=0, amount_fen=800).pk)
    actions.claim(member, make_template(kind="no_threshold", threshold_fen=0, amount_fen=300).pk)
    out_of_reach = actions.claim(member, make_template().pk)
    browser = Client()
    browser.force_login(member)
    page = browser.get(f"/checkout/?sku={sku.pk}&quantity=1")
    html = page.content.decode()
    assert f'value="{best.pk}" style="width:auto;min-height:0" checked' in html
    assert "满¥100.00可用，还差¥50.00" in html  # why the third does not apply
    assert page.context["plan"].discount_fen == 800
    assert page.context["goods_to_pay_fen"] == 4200
    posted = browser.post(
        "/checkout/",
        {
            "sku": sku.pk,
            "quantity": 1,
            "fulfilment": "delivery",
            "payment_method": "sandbox",
            "address_id": member.addresses.first().pk,
            "coupon": best.pk,
            "submit_token": "t1",
        },
    )
    assert posted.status_code == 302
    order = Order.objects.get(user=member)
    assert (order.discount_fen, order.total_fen, order.coupon_id) == (800, 4200 + 1000, best.pk)
    refused = browser.get(f"/checkout/?sku={sku.pk}&quantity=1&coupon={out_of_reach.pk}")
    assert refused.context["error"].message == "满¥100.00可用，还差¥50.00"
    assert refused.context["plan"].discount_fen == 0


def test_the_api_quotes_coupons_and_orders_with_one(sku, member, make_template):
    held = actions.claim(member, make_template(kind="percent", threshold_fen=0, amount_fen=0, percent_off=10).pk)
    body = {
        "sku_id": sku.pk,
        "quantity": 2,
        "fulfilment": "delivery",
        "payment_method": "sandbox",
        "address_id": member.addresses.first().pk,
    }
    client = Client()
    quote = client.post(
        "/api/v1/orders/quote", json.dumps(body), content_type="application/json", headers=auth_headers(member)
    ).json()
    assert quote["suggested_coupon_id"] == held.pk
    assert quote["coupons"][0] | {"valid_until": None} == {
        "id": held.pk,
        "name": "满100减20",
        "face": "9折",
        "rules": ["全店商品可用", "不与会员价同享", "每单限用一张优惠券"],
        "valid_until": None,
        "discount_fen": 1000,
        "applies": True,
        "reason": "",
    }
    assert quote["discount_fen"] == 0
    created = client.post(
        "/api/v1/orders",
        json.dumps(body | {"coupon_id": held.pk}),
        content_type="application/json",
        headers=auth_headers(member),
    )
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["items_total_fen"], order["discount_fen"], order["total_fen"]) == (10000, 1000, 9000)
    assert [(line["discount_fen"], line["paid_fen"]) for line in order["lines"]] == [(1000, 9000)]


def test_a_late_payment_reinstates_an_order_only_with_its_coupon(sku, member, make_template):
    template = make_template(kind="no_threshold", threshold_fen=0, amount_fen=500, per_person_limit=2)
    kept, reused = actions.claim(member, template.pk), actions.claim(member, template.pk)

    def closed_unpaid(coupon):
        order = place_order(member, sku, coupon_id=coupon.pk)
        assert order.expires_at is not None
        assert order_actions.close_unpaid_order(order.pk, now=order.expires_at + timedelta(seconds=1))
        return Order.objects.get(pk=order.pk)

    first = closed_unpaid(kept)
    assert order_actions.reinstate_closed_order(first) is True  # the money came after all: coupon used again
    kept.refresh_from_db()
    assert kept.status == CouponStatus.USED
    second = closed_unpaid(reused)
    other = place_order(member, sku, coupon_id=reused.pk)  # the returned coupon went to another order
    assert order_actions.reinstate_closed_order(second) is False  # so the late payment is refunded instead
    assert Order.objects.get(pk=second.pk).status == "closed"
    assert Order.objects.get(pk=other.pk).coupon_id == reused.pk
