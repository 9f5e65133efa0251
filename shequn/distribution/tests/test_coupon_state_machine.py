"""Coupons over the real order lifecycle, as a state machine: random sequences of claiming, checking
out with or without a coupon, paying, cancelling, partial and full refunds and time passing (coupons
expire, unpaid orders close) keep coupon counts, the per-line split and commission exact.

A shop pays 10 % commission on tier 1; two buyers are bound to a promoter. Three templates: 满¥50减¥7
(3 per person, 6 in all), 9折 capped at ¥9 on one product (2 per person, 4 in all), and ¥3 off
without threshold valid one day from claiming (2 per person, 5 in all).

After every step:
- each template: coupons held + remaining == total; nobody holds more than the per-person limit;
- a coupon is used exactly when one live order (not cancelled or closed, goods not refunded in
  full) carries it, and no live order carries a coupon that is not used;
- each order: its lines' discounts sum to its discount, each line paid = total − discount ≥ 0,
  refunded ≤ paid, and the member pays items − discount + shipping ≥ ¥0.01;
- commission exists for exactly the paid lines of bound buyers, is 10 % of what was paid for the
  line, and net of refunds within a fen of 10 % of what is left paid.
"""

import contextlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from shequn.core.money import percent_of
from shequn.coupons import actions as coupon_actions
from shequn.coupons.enums import USABLE_STATUSES, CouponStatus
from shequn.coupons.errors import CouponLimitReached, CouponNotApplicable, CouponSoldOut
from shequn.coupons.models import CouponTemplate, MemberCoupon
from shequn.distribution import actions
from shequn.distribution.models import Commission
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, OrderLine
from shequn.orders.selectors import refundable_left_fen
from shequn.testing.coupons import make_coupon_template
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff

from .helpers import approved_promoter

pytestmark = pytest.mark.django_db

RATE_BP = 1000
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_runs = itertools.count()


class Coupons(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each run starts a year before the last, so earlier runs' rows are in its future.
        self.traveller = time_machine.travel(START - timedelta(days=365 * next(_runs)), tick=False)
        self.clock = self.traveller.start()
        self.shop = make_shop(shipping_fee_fen=800, free_shipping_threshold_fen=9900)
        self.staff = make_staff(self.shop)
        actions.do_update_settings(self.staff, self.shop, {"tiers": 1, "binding_days": 365})
        actions.do_save_rule(
            self.staff, self.shop, {"scope": "shop", "kind": "percent", "tier1_value": RATE_BP, "tier2_value": 0}
        )
        promoter = approved_promoter(self.shop, nickname="推广员")
        self.buyers = [make_member(nickname=f"买家{i}") for i in range(2)]
        for buyer in self.buyers:
            actions.do_bind(promoter, buyer)
        self.skus = [make_sku(self.shop, price_fen=price, stock=10_000) for price in (1999, 3450, 5001)]
        now = timezone.now()
        window = {"valid_from": now, "valid_until": now + timedelta(days=30)}
        self.templates = [
            make_coupon_template(
                self.shop, self.staff, threshold_fen=5000, amount_fen=700, per_person_limit=3, total_quantity=6,
                **window,
            ),
            make_coupon_template(
                self.shop, self.staff, kind="percent", threshold_fen=0, amount_fen=0, percent_off=10, cap_fen=900,
                scope="products", product_ids=[self.skus[1].product_id], per_person_limit=2, total_quantity=4,
                **window,
            ),
            make_coupon_template(
                self.shop, self.staff, kind="no_threshold", threshold_fen=0, amount_fen=300, validity="days",
                valid_days=1, valid_from=None, valid_until=None, per_person_limit=2, total_quantity=5,
            ),
        ]  # fmt: skip

    def teardown(self) -> None:
        used = Order.objects.filter(shop=self.shop).exclude(coupon=None).count()
        event(f"orders with a coupon: {min(used, 3)}")
        print(
            "SM",
            used,
            Order.objects.filter(shop=self.shop).count(),
            MemberCoupon.objects.filter(shop=self.shop).values_list("status", flat=True).distinct().count(),
            OrderLine.objects.filter(order__shop=self.shop, refunded_fen__gt=0).count(),
        )
        self.traveller.stop()

    def _orders(self, *statuses: str) -> list[Order]:
        return list(Order.objects.filter(shop=self.shop, status__in=statuses).order_by("pk"))

    def _refund(self, order: Order, line: OrderLine, amount: int) -> None:
        refund = order_actions.request_refund(order.user, order.number, line.pk, amount_fen=amount, reason="不要了")
        order_actions.approve_refund(refund, self.staff)
        order_actions.complete_refund(refund)

    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        self._claim(data, data.draw(st.sampled_from(self.buyers), label="buyer"))

    def _claim(self, data: st.DataObject, buyer: object) -> None:
        template = data.draw(st.sampled_from(self.templates), label="template")
        with contextlib.suppress(CouponSoldOut, CouponLimitReached):  # the limits hold: counts_are_exact checks them
            coupon_actions.claim(buyer, template.pk)

    @rule(data=st.data())
    def check_out(self, data: st.DataObject) -> None:
        buyer = data.draw(st.sampled_from(self.buyers), label="buyer")
        if data.draw(st.booleans(), label="claim first"):  # most checkouts should have a coupon to try
            self._claim(data, buyer)
        chosen = data.draw(st.lists(st.sampled_from(self.skus), min_size=1, max_size=3, unique=True), label="skus")
        for sku in chosen:
            order_actions.add_to_cart(buyer, sku.pk, data.draw(st.integers(1, 3), label="quantity"))
        held = list(MemberCoupon.objects.filter(user=buyer, status__in=USABLE_STATUSES).values_list("pk", flat=True))
        use_one = bool(held) and data.draw(st.booleans(), label="use a coupon")
        coupon_id = data.draw(st.sampled_from(held), label="coupon") if use_one else None
        try:
            order = order_actions.create_order(
                buyer,
                fulfilment="delivery",
                payment_method="sandbox",
                address_id=buyer.addresses.first().pk,
                coupon_id=coupon_id,
            )
        except CouponNotApplicable:
            if coupon_id is None:
                raise
            order_actions.create_order(
                buyer, fulfilment="delivery", payment_method="sandbox", address_id=buyer.addresses.first().pk
            )
            return
        if data.draw(st.booleans(), label="pay now"):
            order_actions.mark_paid(order)

    @rule(data=st.data())
    def pay_or_cancel(self, data: st.DataObject) -> None:
        unpaid = self._orders(OrderStatus.PENDING_PAYMENT)
        if not unpaid:
            return
        order = data.draw(st.sampled_from(unpaid), label="unpaid order")
        if data.draw(st.booleans(), label="pay"):
            order_actions.mark_paid(order)
        else:
            order_actions.cancel_order_by_member(order.user, order.number)

    @rule(data=st.data())
    def refund_part(self, data: st.DataObject) -> None:
        lines = [
            line
            for line in OrderLine.objects.filter(order__shop=self.shop, order__status=OrderStatus.PAID)
            if refundable_left_fen(line) > 0
        ]
        if not lines:
            return
        line = data.draw(st.sampled_from(lines), label="line")
        self._refund(line.order, line, data.draw(st.integers(1, refundable_left_fen(line)), label="amount"))

    @rule(data=st.data())
    def refund_all(self, data: st.DataObject) -> None:
        paid = self._orders(OrderStatus.PAID)
        if not paid:
            return
        order = data.draw(st.sampled_from(paid), label="paid order")
        for line in order.lines.all():
            if (left := refundable_left_fen(line)) > 0:
                self._refund(order, line, left)

    @rule(hours=st.sampled_from([1, 30]))
    def time_passes(self, hours: int) -> None:
        self.clock.shift(timedelta(hours=hours))
        coupon_actions.expire_coupons()
        order_actions.close_expired_orders()

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def counts_are_exact(self) -> None:
        for template in CouponTemplate.objects.filter(shop=self.shop):
            held = MemberCoupon.objects.filter(template=template)
            assert held.count() + template.remaining == template.total_quantity
            per_person = held.values("user").annotate(n=Count("id")).values_list("n", flat=True)
            assert all(n <= template.per_person_limit for n in per_person)

    @invariant()
    def a_coupon_is_used_by_exactly_its_one_live_order(self) -> None:
        live: dict[int, int] = {}
        for order in Order.objects.filter(shop=self.shop).exclude(coupon=None):
            goods_refunded = order.refunded_fen >= order.total_fen - order.shipping_fee_fen
            if order.status not in (OrderStatus.CANCELLED, OrderStatus.CLOSED) and not goods_refunded:
                assert order.coupon_id is not None
                live[order.coupon_id] = live.get(order.coupon_id, 0) + 1
        assert all(count == 1 for count in live.values()), live
        used = set(MemberCoupon.objects.filter(shop=self.shop, status=CouponStatus.USED).values_list("pk", flat=True))
        assert used == set(live)

    @invariant()
    def lines_hold_the_split(self) -> None:
        for order in Order.objects.filter(shop=self.shop).prefetch_related("lines"):
            lines = list(order.lines.all())
            assert sum(line.discount_fen for line in lines) == order.discount_fen
            assert all(0 <= line.paid_fen == line.total_fen - line.discount_fen for line in lines)
            assert all(line.refunded_fen <= line.paid_fen for line in lines)
            assert order.total_fen == order.items_total_fen - order.discount_fen + order.shipping_fee_fen >= 1
            assert (order.discount_fen > 0) == (order.coupon_id is not None)

    @invariant()
    def commission_is_on_what_was_paid(self) -> None:
        paid_lines = OrderLine.objects.filter(order__shop=self.shop, order__paid_at__isnull=False)
        by_line = {c.line_id: c for c in Commission.objects.filter(shop=self.shop)}
        assert set(by_line) == {line.pk for line in paid_lines if percent_of(line.paid_fen, RATE_BP) > 0}
        for line in paid_lines:
            if (commission := by_line.get(line.pk)) is None:
                continue
            assert commission.amount_fen == percent_of(line.paid_fen, RATE_BP)
            net = commission.amount_fen - commission.reversed_fen
            assert abs(net - percent_of(line.paid_fen - line.refunded_fen, RATE_BP)) <= 1, commission


def test_coupon_counts_split_and_commission_stay_exact_over_the_order_lifecycle():
    run_state_machine_as_test(
        Coupons,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
