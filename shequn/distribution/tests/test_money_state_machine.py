"""The money state machine over the real flows: random sequences of what buyers, staff, promoters,
finance and the payout gateway do keep the books true.

A shop pays percent commission on two tiers; promoter T2 brought in T1 (bound), T1 brought in two
buyers (bound); a third buyer came on their own. The rules drive the real order lifecycle:

- a buyer checks out 1–3 lines from the cart and pays (orders.actions.create_order + mark_paid);
- a buyer asks for part or all of a line back, staff approve, and the gateway confirms at once or
  later (orders.actions.request_refund / approve_refund / complete_refund);
- staff ship and deliver an order, or complete a delivered one early (it settles, and a refund
  may follow: a reversal from available money, maybe a debt); time passes (within or beyond the
  after-sales window), orders auto-complete, the settle task runs;
- T1 or T2 asks to withdraw (sometimes more than they have: refused), finance approves (two
  approvers above the threshold) or rejects (not once it is paying or finished), the sandbox
  payout gateway delivers its signed result at once or later, sometimes twice (amounts ending in
  99 fen fail there: the money comes back once).

Rules draw what happens next inside them (rather than being many small rules) because swarm
testing switches whole rules off per run, and the money's later life (settle → withdraw →
approve → payout) must be reached within 25 runs of 15 steps.

After every step:

- the balances of all the shop's accounts sum to zero, each equal to the sum of its entries;
- for each promoter: frozen + available + in transit + paid out == what they earned net
  (Σ amount − reversed over their commissions); frozen == that sum over FROZEN commissions;
  in transit == their open withdrawals; paid out == their paid withdrawals;
- commission exists for exactly the lines bound buyers paid, on tier 1 (T1) and tier 2 (T2) only,
  each the rule's rate of what was paid for the line, and net of refunds within a fen of the rule's
  rate of what is left paid (nothing once the line is refunded in full).
"""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db.models import Sum
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from shequn.core.money import percent_of
from shequn.distribution import actions, tasks
from shequn.distribution.enums import CommissionStatus
from shequn.distribution.models import Commission
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.models import Order, OrderLine, RefundRequest
from shequn.orders.selectors import refundable_left_fen
from shequn.shops.enums import StaffRole
from shequn.testing.factories import StaffFactory
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff
from shequn.wallets import actions as wallet_actions
from shequn.wallets import ledger
from shequn.wallets import tasks as wallet_tasks
from shequn.wallets.enums import OPEN_WITHDRAWAL_STATUSES, AccountKind, WithdrawalStatus
from shequn.wallets.errors import InvalidWithdrawalState
from shequn.wallets.ledger import InsufficientBalance
from shequn.wallets.models import Account, Entry, SandboxTransfer, Withdrawal

from .helpers import approved_promoter

pytestmark = pytest.mark.django_db

TIER1_BP = 1234  # odd rates, so rounding is exercised
TIER2_BP = 357
PRICES = (1999, 3450, 12001)
SECOND_APPROVAL_ABOVE_FEN = 1_000
MAX_SALES = 5  # per run: sales are the costly step, and leave room for the money's later life
WINDOW_DAYS = django_settings.AFTER_SALES_WINDOW_DAYS
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # the first run; time stands still unless a rule moves it

_runs = itertools.count()


def pick(data: st.DataObject, items: list, label: str):
    return data.draw(st.sampled_from(items), label=label) if items else None


class Money(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each run starts a year before the last: the earlier runs' orders (in this run's future)
        # are not completed and settled again by this run's sweeps.
        self.traveller = time_machine.travel(START - timedelta(days=365 * next(_runs)), tick=False)
        self.clock = self.traveller.start()
        self.shop = make_shop()
        self.staff = make_staff(self.shop)
        self.finance = [StaffFactory.create(shop=self.shop, role=StaffRole.FINANCE).user for _ in range(2)]
        actions.do_update_settings(self.staff, self.shop, {"tiers": 2, "binding_days": 365})
        actions.do_save_rule(
            self.staff,
            self.shop,
            {"scope": "shop", "kind": "percent", "tier1_value": TIER1_BP, "tier2_value": TIER2_BP},
        )
        self.t2 = approved_promoter(self.shop, nickname="二级")
        self.t1 = approved_promoter(self.shop, nickname="一级")
        actions.do_bind(self.t2, self.t1.user)
        self.bound = [make_member(nickname=f"买家{i}") for i in range(2)]
        for buyer in self.bound:
            actions.do_bind(self.t1, buyer)
        self.stranger = make_member(nickname="路人")
        self.skus = [make_sku(self.shop, price_fen=price, stock=10_000) for price in PRICES]
        self.referred_lines: set[int] = set()  # lines a bound buyer paid for
        self.sales = 0

    def teardown(self) -> None:
        self.traveller.stop()

    # --- helpers -------------------------------------------------------------------------

    def _orders(self, *statuses: str) -> list[int]:
        return list(
            Order.objects.filter(shop=self.shop, status__in=statuses).order_by("-pk").values_list("pk", flat=True)
        )

    def _withdrawals(self, *statuses: str) -> list[int]:
        found = Withdrawal.objects.filter(shop=self.shop)
        if statuses:
            found = found.filter(status__in=statuses)
        return list(found.order_by("-pk").values_list("pk", flat=True))

    def _has_orders(self, *statuses: str) -> bool:
        return Order.objects.filter(shop=self.shop, status__in=statuses).exists()

    def _has_withdrawals(self, *statuses: str) -> bool:
        return Withdrawal.objects.filter(shop=self.shop, status__in=statuses).exists()

    # --- buyers and staff: orders and refunds -------------------------------------------
    # (Few rules, each drawing what happens: swarm testing switches whole rules off per run.)

    @initialize(data=st.data())
    def a_settled_first_sale(self, data):
        """A bound buyer's order, delivered, past its window and settled: the promoters start with
        money to withdraw."""
        order = self._sell(data, self.bound)
        self._deliver(order.pk)
        self._time_passes(WINDOW_DAYS + 1)
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED
        assert ledger.balance(self.shop, AccountKind.AVAILABLE, self.t1.user) > 0

    @precondition(lambda self: self.sales < MAX_SALES)
    @rule(data=st.data())
    def buy_and_pay(self, data):
        self._sell(data, [*self.bound, self.stranger])

    def _sell(self, data: st.DataObject, buyers: list) -> Order:
        buyer = pick(data, buyers, "buyer")
        skus = data.draw(st.lists(st.sampled_from(self.skus), min_size=1, max_size=3, unique=True), label="skus")
        item_ids = [
            order_actions.add_to_cart(buyer, sku.pk, data.draw(st.integers(1, 3), label="quantity")).pk for sku in skus
        ]
        order = order_actions.create_order(
            buyer,
            cart_item_ids=item_ids,
            fulfilment=Fulfilment.DELIVERY,
            payment_method=PaymentMethod.SANDBOX,
            address_id=buyer.addresses.first().pk,
        )
        assert order_actions.mark_paid(order) is True
        self.sales += 1
        # No coupons here: the buyer paid each line's total (the shipping fee is not commissioned).
        assert order.total_fen - order.shipping_fee_fen == sum(order.lines.values_list("total_fen", flat=True))
        if buyer in self.bound:
            self.referred_lines.update(order.lines.values_list("pk", flat=True))
        return order

    @rule(data=st.data(), late_confirmation=st.booleans(), full=st.booleans(), confirm_now=st.booleans())
    def refund(self, data, late_confirmation, full, confirm_now):
        """The gateway confirms an approved refund late (twice: once counts), or a buyer asks for
        part or all of a line back, staff approve, and the gateway confirms at once or not yet."""
        approved = list(RefundRequest.objects.filter(shop=self.shop, status=RefundStatus.APPROVED).order_by("-pk"))
        if late_confirmation and approved:
            refund = pick(data, approved, "refund")
            assert order_actions.complete_refund(refund) is True
            assert order_actions.complete_refund(refund) is False
            return
        self._ask_refund(data, OrderLine.objects.filter(order__shop=self.shop), full, confirm_now)

    def _ask_refund(self, data: st.DataObject, lines: Any, full: bool, confirm_now: bool) -> None:
        refundable = [
            line
            for line in lines.select_related("order", "order__user").order_by("-pk")
            if refundable_left_fen(line) > 0 and order_actions.refund_refusal(line.order, line) is None
        ]
        line = pick(data, refundable, "line")
        if line is None:
            return
        left = refundable_left_fen(line)
        amount = left if full else data.draw(st.integers(1, left), label="refund_fen")
        order = line.order
        refund = order_actions.request_refund(order.user, order.number, line.pk, amount_fen=amount, reason="不想要了")
        order_actions.approve_refund(refund, self.staff)
        if confirm_now:
            assert order_actions.complete_refund(refund) is True

    @precondition(lambda self: self._has_orders(OrderStatus.PAID, OrderStatus.DELIVERED))
    @rule(data=st.data(), complete_early=st.booleans(), then_refund=st.booleans(), full=st.booleans())
    def staff_fulfil(self, data, complete_early, then_refund, full):
        """Ship and deliver a paid order (and maybe complete it at once); complete a delivered one
        inside its after-sales window: it settles, and the buyer may still ask for part or all of
        a line back (a reversal from available money, maybe a debt)."""
        order_id = pick(data, self._orders(OrderStatus.PAID, OrderStatus.DELIVERED), "order")
        delivered = Order.objects.get(pk=order_id).status == OrderStatus.DELIVERED
        if not delivered:
            self._deliver(order_id)
        if delivered or complete_early:
            order_actions.complete_order(self.shop, order_id, self.staff)
            tasks.settle_commissions.call_local()
            if then_refund:
                self._ask_refund(data, OrderLine.objects.filter(order_id=order_id), full, confirm_now=True)

    @rule(deliver_all=st.booleans(), days=st.sampled_from([WINDOW_DAYS + 1, 1, WINDOW_DAYS - 1]))
    def time_passes_then_complete_and_settle(self, deliver_all, days):
        """Staff deliver what was paid (or not), days pass, orders past the window auto-complete and
        the settle task runs."""
        if deliver_all:
            for order_id in self._orders(OrderStatus.PAID):
                self._deliver(order_id)
        self._time_passes(days)

    def _deliver(self, order_id: int) -> None:
        order_actions.ship_order(self.shop, order_id, self.staff, tracking_company="顺丰", tracking_number="SF1")
        order_actions.mark_delivered(self.shop, order_id, self.staff)

    def _time_passes(self, days: int) -> None:
        self.clock.shift(timedelta(days=days))
        order_actions.auto_complete_orders()
        tasks.settle_commissions.call_local()

    # --- promoters, finance and the payout gateway ---------------------------------------

    @rule(data=st.data(), outcome=st.sampled_from(["paid", "failed", "waiting", "approved", "rejected", "too much"]))
    def withdraw(self, data, outcome):
        """T1 or T2 asks for some of their available money, or for more than they have (refused,
        nothing moves). Finance may decide at once (through both approvers if needed) and the
        sandbox's result come at once, even twice ("paid"; "failed": amounts ending in 99 fen fail
        there), or that happens later (finance_decides, payout_result_arrives)."""
        holder = pick(data, [self.t1.user, self.t2.user], "holder")
        available = ledger.balance(self.shop, AccountKind.AVAILABLE, holder)
        in_transit = ledger.balance(self.shop, AccountKind.IN_TRANSIT, holder)
        if outcome == "too much" or available < 100:
            amount = data.draw(st.integers(max(100, available + 1), max(100, available) + 300), label="too_much_fen")
            with pytest.raises(InsufficientBalance):
                wallet_actions.request_withdrawal(self.shop, holder, amount)
            assert ledger.balance(self.shop, AccountKind.AVAILABLE, holder) == available
            return
        amount = data.draw(st.integers(100, available), label="withdraw_fen")
        if outcome == "failed" and amount % 100 != 99 and amount >= 199:
            amount = amount // 100 * 100 - 1
        elif outcome == "paid" and amount % 100 == 99:
            amount -= 1
        withdrawal = wallet_actions.request_withdrawal(self.shop, holder, amount)
        assert withdrawal.status == WithdrawalStatus.REQUESTED
        assert ledger.balance(self.shop, AccountKind.AVAILABLE, holder) == available - amount
        assert ledger.balance(self.shop, AccountKind.IN_TRANSIT, holder) == in_transit + amount
        if outcome == "rejected":
            wallet_actions.reject_withdrawal(self.shop, withdrawal.pk, self.finance[0], reason="信息有误")
        elif outcome != "waiting":
            results_now = 0 if outcome == "approved" else data.draw(st.integers(1, 2), label="results")
            while self._approve(withdrawal.pk, results_now) != WithdrawalStatus.PAYING:
                pass

    @precondition(lambda self: self._has_withdrawals(*WithdrawalStatus.values))
    @rule(data=st.data(), reject=st.booleans(), results_now=st.integers(0, 2))
    def finance_decides(self, data, reject, results_now):
        """Finance approves a waiting request (a second approver above the threshold) or rejects
        one; a withdrawal already paying or finished can be neither."""
        withdrawal_id = pick(data, self._withdrawals(), "withdrawal")
        status = Withdrawal.objects.get(pk=withdrawal_id).status
        waiting = status in (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED)
        if waiting:
            if reject:
                wallet_actions.reject_withdrawal(self.shop, withdrawal_id, self.finance[0], reason="信息有误")
            else:
                self._approve(withdrawal_id, results_now)
        elif reject:
            with pytest.raises(InvalidWithdrawalState):
                wallet_actions.reject_withdrawal(self.shop, withdrawal_id, self.finance[0], reason="信息有误")
        else:
            with pytest.raises(InvalidWithdrawalState):
                wallet_actions.approve_withdrawal(self.shop, withdrawal_id, self.finance[0])

    def _approve(self, withdrawal_id: int, results_now: int) -> str:
        """One approval; when it is the last one, the payout is submitted and its result may come."""
        before = Withdrawal.objects.get(pk=withdrawal_id)
        approver = self.finance[1] if before.status == WithdrawalStatus.FIRST_APPROVED else self.finance[0]
        after = wallet_actions.approve_withdrawal(self.shop, withdrawal_id, approver)
        if after.status == WithdrawalStatus.FIRST_APPROVED:
            assert before.status == WithdrawalStatus.REQUESTED
            assert before.amount_fen > SECOND_APPROVAL_ABOVE_FEN
            return after.status
        assert after.status == WithdrawalStatus.PAYING
        wallet_actions.submit_payout(withdrawal_id)  # what the approval's on_commit hook does
        if results_now:
            self._payout_result(after.out_bill_no, results_now)
        return WithdrawalStatus.PAYING

    @precondition(
        lambda self: self._has_withdrawals(WithdrawalStatus.PAYING, WithdrawalStatus.PAID, WithdrawalStatus.FAILED)
    )
    @rule(data=st.data(), times=st.integers(1, 2))
    def payout_result_arrives(self, data, times):
        """The sandbox's signed callback for a submitted transfer, once or twice (or late)."""
        wanted = [
            f"WD{pk:010d}"
            for pk in self._withdrawals(WithdrawalStatus.PAYING, WithdrawalStatus.PAID, WithdrawalStatus.FAILED)
        ]
        bills = SandboxTransfer.objects.filter(out_bill_no__in=wanted).values_list("out_bill_no", flat=True)
        self._payout_result(pick(data, sorted(bills, reverse=True), "bill"), times)

    def _payout_result(self, bill: str, times: int) -> None:
        for _ in range(times):
            wallet_tasks.deliver_sandbox_transfer.call_local(bill)
        withdrawal = Withdrawal.objects.get(pk=int(bill[2:]))
        expected = WithdrawalStatus.FAILED if withdrawal.amount_fen % 100 == 99 else WithdrawalStatus.PAID
        assert withdrawal.status == expected

    # --- invariants ----------------------------------------------------------------------

    @precondition(lambda self: hasattr(self, "shop"))
    @invariant()
    def books_balance(self):
        accounts = list(Account.objects.filter(shop=self.shop))
        assert sum(a.balance_fen for a in accounts) == 0
        entries = dict(
            Entry.objects.filter(account__shop=self.shop)
            .values("account")
            .annotate(total=Sum("amount_fen"))
            .values_list("account", "total")
        )
        for account in accounts:
            assert account.balance_fen == entries.get(account.pk, 0), account

    @precondition(lambda self: hasattr(self, "shop"))
    @invariant()
    def each_promoter_holds_what_they_earned_net(self):
        for promoter in (self.t1, self.t2):
            mine = list(Commission.objects.filter(promoter=promoter))
            earned = sum(c.amount_fen - c.reversed_fen for c in mine)
            frozen = sum(c.amount_fen - c.reversed_fen for c in mine if c.status == CommissionStatus.FROZEN)
            found = ledger.holder_balances(self.shop, promoter.user)
            assert (
                found[AccountKind.FROZEN]
                + found[AccountKind.AVAILABLE]
                + found[AccountKind.IN_TRANSIT]
                + found[AccountKind.PAID_OUT]
                == earned
            )
            assert found[AccountKind.FROZEN] == frozen
            withdrawals = Withdrawal.objects.filter(shop=self.shop, holder=promoter.user)
            assert found[AccountKind.IN_TRANSIT] == sum(
                w.amount_fen for w in withdrawals if w.status in OPEN_WITHDRAWAL_STATUSES
            )
            assert found[AccountKind.PAID_OUT] == sum(
                w.amount_fen for w in withdrawals if w.status == WithdrawalStatus.PAID
            )

    @precondition(lambda self: hasattr(self, "shop"))
    @invariant()
    def commission_follows_the_rule_on_real_sales_only(self):
        commissions = list(Commission.objects.filter(shop=self.shop).select_related("line"))
        assert {c.tier for c in commissions} <= {1, 2}
        by_line: dict[int, list[Commission]] = {}
        for commission in commissions:
            by_line.setdefault(commission.line_id, []).append(commission)
            assert commission.promoter_id == (self.t1.pk if commission.tier == 1 else self.t2.pk)
            line = commission.line
            rate = TIER1_BP if commission.tier == 1 else TIER2_BP
            assert commission.base_fen == line.total_fen
            assert commission.amount_fen == percent_of(line.total_fen, rate)
            assert 0 <= commission.reversed_fen <= commission.amount_fen
            net = commission.amount_fen - commission.reversed_fen
            if line.refunded_fen >= line.total_fen:
                assert net == 0
                assert commission.status == CommissionStatus.REVERSED or commission.settled_at is not None
            else:
                assert abs(net - percent_of(line.total_fen - line.refunded_fen, rate)) <= 1, commission
        assert set(by_line) == self.referred_lines
        assert all(sorted(c.tier for c in found) == [1, 2] for found in by_line.values())


@override_settings(WALLETS_SECOND_APPROVAL_ABOVE_FEN=SECOND_APPROVAL_ABOVE_FEN)
def test_the_books_stay_true_over_the_real_order_lifecycle():
    run_state_machine_as_test(
        Money,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
