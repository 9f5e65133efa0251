"""The flash sale's books over random sequences of what members, the consumer, the clock, the
payment gateway and a failing gate do (embedded gate, SQLite pass; the Redis engine's contract
tests cover the same protocol).

Rules: reserve; attempt 1–2 units; the consumer materialises claims (each new order starts a
payment at the sandbox); pay; the order times out and closes; the member cancels; a payment
lands after the close (the orders app reinstates, flashsales takes the unit from the gate again
or refunds); the gate loses the pool (Redis lost its data).

After every step nothing is oversold (admitted + unpaid + paid ≤ quantity) and no paid order is
lost (each paid order keeps its claim, or its money went back in full). After the consumer drains
the gate's stream, with the pool known to the gate: at gate + admitted + unpaid + paid == quantity.
"""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from shequn.flashsales import actions
from shequn.flashsales.enums import ClaimStatus
from shequn.flashsales.errors import AttemptRefused
from shequn.flashsales.models import FlashClaim, pool_key
from shequn.gate.engine import use_gate
from shequn.gate.local import LocalGate
from shequn.orders.actions import cancel_order_by_member, close_unpaid_order
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order
from shequn.payments import actions as payment_actions
from shequn.payments.sandbox import server
from shequn.testing.factories import PickupPointFactory, SkuFactory

from .conftest import buyer, item_of, sale_input

pytestmark = pytest.mark.django_db

QUANTITY = 5


def committed() -> Any:
    """Run on-commit callbacks as a real commit would (the test runs inside one transaction)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


class FlashBooks(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        from shequn.testing.factories import ShopFactory, StaffFactory

        self.gate = LocalGate()
        self.previous_gate = use_gate(self.gate)
        self.shop = ShopFactory.create()
        self.operator = StaffFactory.create(shop=self.shop, role="operator").user
        PickupPointFactory.create(shop=self.shop)
        sku = SkuFactory.create(product__shop=self.shop, price_fen=199900, stock=100)
        data = sale_input(sku, quantity=QUANTITY, cap=2, starts_in=timedelta(seconds=-1))
        self.sale = actions.create_sale(self.shop, self.operator, data)
        with committed():
            actions.schedule_sale(self.shop, self.operator, self.sale.pk)
        self.item = item_of(self.sale)
        self.members = [buyer(f"甲{n}") for n in range(5)] + [buyer("无地址", address=False)]
        self.prepay: dict[int, str] = {}  # order id → the sandbox prepay id started for it
        self.confirmed: set[int] = set()

    def teardown(self) -> None:
        use_gate(self.previous_gate)

    def _orders(self, status: str) -> list[int]:
        ids = FlashClaim.objects.filter(item=self.item, order__status=status).values_list("order_id", flat=True)
        return sorted(pk for pk in ids if pk is not None and pk not in self.confirmed)

    @rule(member=st.integers(0, 5))
    def reserve(self, member: int) -> None:
        with committed():
            actions.reserve(self.members[member], self.sale.pk)

    @rule(member=st.integers(0, 5), quantity=st.integers(1, 2), then_materialise=st.booleans())
    def attempt(self, member: int, quantity: int, then_materialise: bool) -> None:
        try:
            with committed():
                actions.attempt(self.members[member], self.item.pk, quantity)
        except AttemptRefused:
            pass
        if then_materialise:
            self.materialise()
        self._start_payments()  # a rebuild writes the claims in flight first

    @rule()
    def materialise(self) -> None:
        with committed():
            actions.materialise_claims()
        self._start_payments()
        truth = actions.reconcile(self.item)
        if truth.gate_ready:
            assert truth.ok, truth

    def _start_payments(self) -> None:
        """Each new order's member opens the cashier (a payment may then land late)."""
        new = Order.objects.filter(flash_claim__item=self.item, status=OrderStatus.PENDING_PAYMENT)
        for order in new.exclude(pk__in=list(self.prepay)):
            url = payment_actions.start_payment(order, order.user)
            self.prepay[order.pk] = url.rstrip("/").rsplit("/", 1)[-1]

    @rule(data=st.data(), outcome=st.sampled_from(["pay", "time_out", "cancel", "time_out_then_pay_late"]))
    def settle(self, data: st.DataObject, outcome: str) -> None:
        """What becomes of an unpaid order: paid, closed at the timeout, cancelled, or closed and
        then paid after all (the payment was on its way)."""
        candidates = [pk for pk in self._orders(OrderStatus.PENDING_PAYMENT) if pk in self.prepay]
        if not candidates:
            return
        order = Order.objects.get(pk=data.draw(st.sampled_from(candidates), label="order"))
        if outcome == "pay":
            self._confirm(order.pk)
        elif outcome == "cancel":
            with committed():
                cancel_order_by_member(order.user, order.number)
        else:
            assert order.expires_at is not None
            with committed(), time_machine.travel(order.expires_at + timedelta(seconds=1)):
                assert close_unpaid_order(order.pk)
            if outcome == "time_out_then_pay_late":
                self._confirm(order.pk)

    @rule(data=st.data())
    def pay_late(self, data: st.DataObject) -> None:
        candidates = [pk for pk in self._orders(OrderStatus.CLOSED) if pk in self.prepay]
        if candidates:
            self._confirm(data.draw(st.sampled_from(candidates), label="closed order"))

    def _confirm(self, order_id: int) -> None:
        with committed():
            server.confirm(self.prepay[order_id])
        self.confirmed.add(order_id)

    @precondition(lambda self: self.gate.state(pool_key(self.item.pk)).ready)
    @rule()
    def gate_loses_the_pool(self) -> None:
        self.gate.forget(pool_key(self.item.pk))

    @invariant()
    def nothing_oversold_and_no_paid_order_lost(self) -> None:
        truth = actions.reconcile(self.item)
        assert truth.admitted + truth.unpaid + truth.paid <= QUANTITY, truth
        for order in Order.objects.filter(flash_claim__item=self.item, paid_at__isnull=False):
            kept = order.flash_claim.status == ClaimStatus.ORDERED
            assert kept or order.refunded_fen == order.total_fen, order


def test_the_books_balance_over_random_sale_histories(sandbox) -> None:
    run_state_machine_as_test(
        FlashBooks,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
