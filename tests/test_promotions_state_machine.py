"""The promotions loop as one state machine over the real flows: random sequences of claiming
coupons, checking out with or without one (or with the one checkout suggests), paying, cancelling,
partial and full refunds, delivery, the after-sales window passing and commission settling, funding
red packets (paid in money or as coupons), grabbing them through the gate (with a consumer that died
holding claims and a gate that lost a pool), packets expiring and time passing (coupons expire,
unpaid orders close) keep every book exact.

A shop pays 10 % commission on tier 1; two buyers are bound to a promoter; the buyers and two
neighbours belong to the shop's community, where red packets go. Three coupon templates: 满¥50减¥7
(3 per person, 6 in all), 9折 capped at ¥9 on one product (2 per person, 4 in all), and ¥3 off
without threshold valid one day from claiming (2 per person, 5 in all). Each buyer starts holding one
coupon of each, so the deep paths (a coupon order paid, refunded in part, its commission settled)
are a few steps away in most runs. Each run is rolled back at its end: every run starts from the
same world, and the database stays small.

After every step:
- the ledger: the shop's accounts sum to zero, each balance the sum of its entries; the promoter's
  frozen + available is what they earned net, and frozen what their unsettled commissions hold;
- coupons: each template's coupons held + remaining + reserved == total; nobody holds more than the
  per-person limit; a coupon is used exactly when one live order (not cancelled or closed, goods
  not refunded in full) carries it;
- each order: its lines' discounts sum to its discount, each line paid = total − discount ≥ 0,
  refunded ≤ paid, and the member pays items − discount + shipping ≥ ¥0.01;
- commission exists for exactly the paid lines of bound buyers, is 10 % of what was paid for the
  line, and net of refunds within a fen of 10 % of what is left paid;
- red packets: for every packet the grab rows, the grab credits (or, paid as coupons, the coupons'
  amounts) and the packet's figures agree, never beyond the pool or its count; the holding account
  holds exactly what is neither grabbed nor returned; a returned packet returned exactly its
  remainder.

It supersedes the coupon machine (distribution) and the red-packet machine (redpackets), whose every
invariant is here. How deep it goes was measured while building it (not asserted: reaching is the
strategy's property, not the code's; one seed each, and seeds vary by ±10 runs): of 40-odd runs of 40
steps, before → after the initial coupons, the suggested-coupon checkout with its follow-ups and a
funded packet always grabbed: a paid coupon order with commission 11/40 → 36/46; its commission
settled 3/40 → 24/46; a coupon order refunded in part 3/40 → 15/46, in full 4/40 → 25/46; a red
packet grabbed 26/40 → 16/46 (a share of the steps went to the deeper coupon paths).
"""

import contextlib
import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from shequn.core.errors import DomainError
from shequn.core.money import percent_of
from shequn.coupons import actions as coupon_actions
from shequn.coupons.enums import USABLE_STATUSES, CouponStatus
from shequn.coupons.errors import CouponLimitReached, CouponNotApplicable, CouponNotClaimable, CouponSoldOut
from shequn.coupons.models import CouponTemplate, MemberCoupon
from shequn.distribution import actions, tasks
from shequn.distribution.enums import CommissionStatus
from shequn.distribution.models import Commission
from shequn.distribution.tests.helpers import approved_promoter
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.orders import actions as order_actions
from shequn.orders.actions import refund_refusal
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, OrderLine
from shequn.orders.selectors import refundable_left_fen
from shequn.redpackets import actions as redpacket_actions
from shequn.redpackets import selectors as redpacket_selectors
from shequn.redpackets.enums import PacketStatus
from shequn.redpackets.models import RedPacket, RedPacketGrab, pool_key
from shequn.redpackets.tests.conftest import packet_input
from shequn.testing.coupons import make_coupon_template
from shequn.testing.factories import CommunityFactory, MembershipFactory
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account, Entry

pytestmark = pytest.mark.django_db

RATE_BP = 1000
WINDOW_DAYS = django_settings.AFTER_SALES_WINDOW_DAYS
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_runs = itertools.count()


def run_start(run: int) -> datetime:
    """Where run ``run``'s clock starts. Runs are rolled back, so they may share days; each starts a
    second later than the one before, so a row of one run never has the id *and* the creation time
    of a rolled-back row of another (what per-process caches key on, ``redpackets.actions._parts``).
    Never before 1970: Django's local-memory cache reads a key it never stored as present when the
    clock is before the epoch (its "no expiry" marker is −1), the KeyError seen in earlier runs
    that walked back a year per run (run 57 started in 1969)."""
    return START + timedelta(seconds=run)


class Promotions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.traveller = time_machine.travel(run_start(next(_runs)), tick=False)
        self.clock = self.traveller.start()
        self.run = transaction.atomic()  # rolled back by teardown
        self.run.__enter__()
        try:
            self._set_up()
        except BaseException:
            self._roll_back()
            raise

    def _roll_back(self) -> None:
        transaction.set_rollback(True)
        self.run.__exit__(None, None, None)
        cache.clear()  # facts and audiences cached by id: the ids come back in the next run
        self.traveller.stop()

    def _set_up(self) -> None:
        cache.clear()
        self.gate = LocalGate()
        self.previous_gate = use_gate(self.gate)
        self.shop = make_shop(shipping_fee_fen=800, free_shipping_threshold_fen=9900)
        self.staff = make_staff(self.shop)
        actions.do_update_settings(self.staff, self.shop, {"tiers": 1, "binding_days": 365})
        actions.do_save_rule(
            self.staff, self.shop, {"scope": "shop", "kind": "percent", "tier1_value": RATE_BP, "tier2_value": 0}
        )
        self.promoter = approved_promoter(self.shop, nickname="推广员")
        self.buyers = [make_member(nickname=f"买家{i}") for i in range(2)]
        for buyer in self.buyers:
            actions.do_bind(self.promoter, buyer)
        self.community = CommunityFactory.create(shop=self.shop)
        self.members = [*self.buyers, make_member(nickname="邻居甲"), make_member(nickname="邻居乙")]
        for member in self.members:
            MembershipFactory.create(community=self.community, user=member)
        self.packets: list[int] = []
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
        for buyer in self.buyers:
            for template in self.templates:
                coupon_actions.claim(buyer, template.pk)

    def teardown(self) -> None:
        # Shown by --hypothesis-show-statistics: how far the runs got into each part of the loop.
        event(f"orders with a coupon: {min(Order.objects.filter(shop=self.shop).exclude(coupon=None).count(), 3)}")
        settled = Commission.objects.filter(shop=self.shop, settled_at__isnull=False).count()
        event(f"commissions settled: {min(settled, 3)}")
        event(f"red packets grabbed: {min(RedPacketGrab.objects.filter(packet__shop=self.shop).count(), 3)}")
        event(f"refunds: {min(OrderLine.objects.filter(order__shop=self.shop, refunded_fen__gt=0).count(), 3)}")
        use_gate(self.previous_gate)
        self._roll_back()

    def _orders(self, *statuses: str) -> list[Order]:
        return list(Order.objects.filter(shop=self.shop, status__in=statuses).order_by("pk"))

    def _refund(self, order: Order, line: OrderLine, amount: int) -> None:
        refund = order_actions.request_refund(order.user, order.number, line.pk, amount_fen=amount, reason="不要了")
        order_actions.approve_refund(refund, self.staff)
        order_actions.complete_refund(refund)

    def _refundable_lines(self) -> list[OrderLine]:
        lines = OrderLine.objects.filter(order__shop=self.shop, order__paid_at__isnull=False).select_related("order")
        return [line for line in lines if refundable_left_fen(line) > 0 and refund_refusal(line.order, line) is None]

    # --- coupons and orders ------------------------------------------------------------------

    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        self._claim(data, data.draw(st.sampled_from(self.buyers), label="buyer"))

    def _claim(self, data: st.DataObject, buyer: object) -> None:
        template = data.draw(st.sampled_from(self.templates), label="template")
        # The limits hold (counts_are_exact checks them); a fixed-date template stops once its dates pass.
        with contextlib.suppress(CouponSoldOut, CouponLimitReached, CouponNotClaimable):
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
    def check_out_with_the_suggested_coupon(self, data: st.DataObject) -> None:
        """What most members do: accept the coupon checkout suggests (the largest discount), and pay."""
        buyer = data.draw(st.sampled_from(self.buyers), label="buyer")
        for sku in data.draw(st.lists(st.sampled_from(self.skus), min_size=1, max_size=3, unique=True), label="skus"):
            order_actions.add_to_cart(buyer, sku.pk, data.draw(st.integers(1, 3), label="quantity"))
        checkout: dict[str, Any] = {
            "fulfilment": "delivery",
            "payment_method": "sandbox",
            "address_id": buyer.addresses.first().pk,
        }
        suggested = order_actions.quote_checkout(buyer, **checkout).suggested_coupon
        order = order_actions.create_order(buyer, **checkout, coupon_id=suggested.coupon.pk if suggested else None)
        if data.draw(st.integers(0, 3), label="pay later") == 0:
            return
        order_actions.mark_paid(order)
        # What follows, drawn here too: swarm testing switches whole rules off, and the paths through
        # a coupon order's refunds and its commission settling must still be walked in most runs.
        then = data.draw(st.sampled_from(["wait", "refund part", "settle", "settle, then refund part"]), label="then")
        if then.startswith("settle"):
            self._deliver(order, complete_early=True)
        if then.endswith("refund part"):
            lines = [line for line in self._refundable_lines() if line.order_id == order.pk]
            if lines:
                line = data.draw(st.sampled_from(lines), label="line")
                self._refund(order, line, data.draw(st.integers(1, refundable_left_fen(line)), label="amount"))

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
        lines = self._refundable_lines()
        if not lines:
            return
        line = data.draw(st.sampled_from(lines), label="line")
        self._refund(line.order, line, data.draw(st.integers(1, refundable_left_fen(line)), label="amount"))

    @rule(data=st.data())
    def refund_all(self, data: st.DataObject) -> None:
        orders = sorted({line.order_id: line.order for line in self._refundable_lines()}.items())
        if not orders:
            return
        order = data.draw(st.sampled_from([order for _, order in orders]), label="paid order")
        for line in order.lines.all():
            if (left := refundable_left_fen(line)) > 0:
                self._refund(order, line, left)

    @rule(hours=st.sampled_from([1, 30]))
    def time_passes(self, hours: int) -> None:
        self.clock.shift(timedelta(hours=hours))
        coupon_actions.expire_coupons()
        order_actions.close_expired_orders()

    # --- delivery and settling commission -------------------------------------------------------

    @rule(data=st.data(), complete_early=st.booleans())
    def deliver(self, data: st.DataObject, complete_early: bool) -> None:
        """Staff ship and deliver a paid order, and maybe complete it at once: it settles (a refund
        inside the window still follows, taken back from available money)."""
        paid = self._orders(OrderStatus.PAID)
        if not paid:
            return
        self._deliver(data.draw(st.sampled_from(paid), label="paid order"), complete_early)

    def _deliver(self, order: Order, complete_early: bool) -> None:
        order_actions.ship_order(self.shop, order.pk, self.staff, tracking_company="顺丰", tracking_number="SF1")
        order_actions.mark_delivered(self.shop, order.pk, self.staff)
        if complete_early:
            order_actions.complete_order(self.shop, order.pk, self.staff)
            tasks.settle_commissions.call_local()

    @rule(days=st.sampled_from([1, WINDOW_DAYS + 1]))
    def after_sales_window_passes_and_commission_settles(self, days: int) -> None:
        self.clock.shift(timedelta(days=days))
        order_actions.auto_complete_orders()
        tasks.settle_commissions.call_local()
        coupon_actions.expire_coupons()
        order_actions.close_expired_orders()

    # --- red packets ---------------------------------------------------------------------------

    @rule(
        data=st.data(),
        count=st.integers(1, 5),
        extra=st.integers(0, 2_000),
        split=st.sampled_from(["random", "equal"]),
        as_coupons=st.booleans(),
        consume=st.booleans(),
        rng=st.randoms(use_true_random=False),
    )
    def fund_a_packet_and_grab(
        self,
        data: st.DataObject,
        count: int,
        extra: int,
        split: str,
        as_coupons: bool,
        consume: bool,
        rng: random.Random,
    ) -> None:
        """The shop funds a packet (in money, or paid as coupons the buyers may then use at checkout)
        and members grab it (funding and grabbing are one rule, as swarm testing switches whole rules
        off and grabs must still happen in most runs)."""
        packet_input_data = packet_input(
            self.community, total_fen=count + extra, count=count, split=split, as_coupons=as_coupons
        )
        # The parts drawn by hypothesis: a packet paid as coupons puts them on orders, whose amounts
        # bound later draws (a replayed run must find the same ones).
        self.packets.append(redpacket_actions.fund_packet(self.shop, self.staff, packet_input_data, rng=rng).pk)
        self._grab(data, at_least=1)
        if consume:
            redpacket_actions.materialise_grabs(idle_ms=0)

    @precondition(lambda self: self.packets)
    @rule(data=st.data())
    def grab(self, data: st.DataObject) -> None:
        self._grab(data)

    def _grab(self, data: st.DataObject, at_least: int = 0) -> None:
        packet_id = data.draw(st.sampled_from(self.packets), label="packet")
        grabbers = st.lists(st.sampled_from(self.members), min_size=at_least, max_size=5)
        for member in data.draw(grabbers, label="members"):
            outcome = "admitted"
            try:
                redpacket_actions.grab(member, packet_id)
            except DomainError as error:
                outcome = error.code
            assert outcome in {
                "admitted",
                "red_packet_already_grabbed",
                "red_packet_all_grabbed",
                "red_packet_closed",
                "red_packet_rate_limited",
            }

    @rule()
    def consume_grabs(self) -> None:
        redpacket_actions.materialise_grabs(idle_ms=0)  # takes over what a dead consumer held

    @rule()
    def a_consumer_dies_holding_claims(self) -> None:
        self.gate.read_claims("redpacket", "crashed", count=2)

    @precondition(lambda self: self.packets)
    @rule(data=st.data())
    def the_gate_loses_a_pool(self, data: st.DataObject) -> None:
        self.gate.forget(pool_key(data.draw(st.sampled_from(self.packets), label="packet")))

    @precondition(lambda self: self.packets)
    @rule(data=st.data())
    def a_packet_expires(self, data: st.DataObject) -> None:
        packet_id = data.draw(st.sampled_from(self.packets), label="packet")
        redpacket_actions.materialise_grabs(idle_ms=0)
        redpacket_actions.return_packet(packet_id, now=timezone.now() + timedelta(days=2))

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def the_ledger_sums_to_zero(self) -> None:
        accounts = list(Account.objects.filter(shop=self.shop))
        assert sum(account.balance_fen for account in accounts) == 0
        entries = dict(
            Entry.objects.filter(account__shop=self.shop)
            .values("account")
            .annotate(total=Sum("amount_fen"))
            .values_list("account", "total")
        )
        for account in accounts:
            assert account.balance_fen == entries.get(account.pk, 0), account

    @invariant()
    def the_promoter_holds_what_they_earned_net(self) -> None:
        mine = list(Commission.objects.filter(promoter=self.promoter))
        found = ledger.holder_balances(self.shop, self.promoter.user)
        assert found[AccountKind.FROZEN] + found[AccountKind.AVAILABLE] == sum(
            c.amount_fen - c.reversed_fen for c in mine
        )
        assert found[AccountKind.FROZEN] == sum(
            c.amount_fen - c.reversed_fen for c in mine if c.status == CommissionStatus.FROZEN
        )

    @invariant()
    def coupon_counts_are_exact(self) -> None:
        for template in CouponTemplate.objects.filter(shop=self.shop):
            held = MemberCoupon.objects.filter(template=template)
            assert held.count() + template.remaining + template.reserved == template.total_quantity
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

    @invariant()
    def every_red_packet_agrees_with_the_ledger(self) -> None:
        held = 0
        for packet in RedPacket.objects.filter(pk__in=self.packets):
            books = redpacket_selectors.books(packet)
            paid_out = books.coupons_fen if packet.as_coupons else books.credited_fen
            assert paid_out == books.grab_rows_fen == packet.grabbed_fen
            assert books.credited_fen == 0 or not packet.as_coupons
            assert packet.grabbed_count == RedPacketGrab.objects.filter(packet=packet).count() <= packet.count
            assert books.holding_fen == packet.held_fen >= 0
            if packet.status == PacketStatus.RETURNED:
                assert packet.returned_fen == packet.total_fen - packet.grabbed_fen
                assert packet.held_fen == 0
            held += packet.held_fen
        assert ledger.balance(self.shop, AccountKind.RED_PACKET_HOLDING) == held


def test_the_promotions_books_stay_exact_under_any_sequence():
    run_state_machine_as_test(
        Promotions,
        settings=settings(
            max_examples=40,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_no_run_starts_before_1970_where_the_local_memory_cache_misreads_keys_it_never_stored():
    """The ``KeyError: ':1:redpacket:facts:<id>'`` seen in development runs of this machine, which
    then started each run a year before the last: with more than 56 runs (hypothesis shrinking a
    failure), run 57 started in 1969. There Django's local-memory cache takes a key it never stored
    for one that never expires (it compares the missing key's −1 with a negative clock) and reads
    it: the first red-packet grab of the run raised. Now every run starts after the epoch."""
    with time_machine.travel(datetime(1969, 6, 1, 9, 0, tzinfo=UTC)), pytest.raises(KeyError, match="redpacket:facts:"):
        cache.get("redpacket:facts:1")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert all(run_start(run) - timedelta(days=1) > epoch for run in (0, 57, 1_000, 100_000))
