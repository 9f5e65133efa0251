"""Random sequences of freeze / settle / reverse (frozen or settled) / withdraw / approve / reject /
payout success / payout failure (repeated or late) keep the books true:

- the balances of every account of the shop sum to zero;
- each account's balance is the sum of its entries;
- each holder's IN_TRANSIT is the sum of their open withdrawals;
- frozen, available and paid-out balances equal a plain model of the rules.
"""

import itertools

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory, UserFactory
from shequn.wallets import actions, flows, ledger
from shequn.wallets.enums import OPEN_WITHDRAWAL_STATUSES, WithdrawalStatus
from shequn.wallets.errors import InsufficientBalance
from shequn.wallets.models import Account, Withdrawal
from shequn.wallets.payouts import FAIL, SUCCESS, PayoutResult

pytestmark = pytest.mark.django_db

_refs = itertools.count()


def ref(kind: str) -> str:
    return f"sm:{kind}:{next(_refs)}"


class Books(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.shop = ShopFactory.create()
        self.holders = [UserFactory.create(), UserFactory.create()]
        self.finance = StaffFactory.create(shop=self.shop, role=StaffRole.FINANCE).user
        self.finance2 = StaffFactory.create(shop=self.shop, role=StaffRole.FINANCE).user
        self.model = {h.pk: {"frozen": 0, "available": 0, "paid_out": 0} for h in self.holders}

    def _holder(self, data: st.DataObject):
        return data.draw(st.sampled_from(self.holders))

    def _withdrawal(self, data: st.DataObject) -> Withdrawal | None:
        ids = list(Withdrawal.objects.filter(shop=self.shop).values_list("pk", flat=True))
        return Withdrawal.objects.get(pk=data.draw(st.sampled_from(ids))) if ids else None

    @rule(data=st.data(), amount=st.integers(1, 5_000))
    def freeze(self, data, amount):
        holder = self._holder(data)
        flows.freeze(self.shop, holder, amount, reference=ref("freeze"))
        self.model[holder.pk]["frozen"] += amount

    @rule(data=st.data())
    def settle(self, data):
        holder = self._holder(data)
        frozen = self.model[holder.pk]["frozen"]
        if frozen == 0:
            return
        amount = data.draw(st.integers(1, frozen))
        flows.settle(self.shop, holder, amount, reference=ref("settle"))
        self.model[holder.pk]["frozen"] -= amount
        self.model[holder.pk]["available"] += amount

    @rule(data=st.data(), frozen=st.booleans())
    def reverse(self, data, frozen):
        holder = self._holder(data)
        kind = "frozen" if frozen else "available"
        if frozen and self.model[holder.pk]["frozen"] == 0:
            return
        top = self.model[holder.pk]["frozen"] if frozen else 3_000  # settled commission may become a debt
        amount = data.draw(st.integers(1, top))
        flows.reverse(self.shop, holder, amount, frozen=frozen, reference=ref("reverse"))
        self.model[holder.pk][kind] -= amount

    @rule(data=st.data(), amount=st.integers(1, 8_000))
    def credit_available(self, data, amount):
        holder = self._holder(data)
        flows.credit_available(self.shop, holder, amount, reference=ref("credit"))
        self.model[holder.pk]["available"] += amount

    @rule(data=st.data())
    def withdraw(self, data):
        holder = self._holder(data)
        # Mostly affordable amounts, sometimes a little more than the balance.
        amount = data.draw(st.integers(100, max(100, self.model[holder.pk]["available"] + 500)))
        if self.model[holder.pk]["available"] >= amount:
            actions.request_withdrawal(self.shop, holder, amount)
            self.model[holder.pk]["available"] -= amount
        else:
            with pytest.raises(InsufficientBalance):
                actions.request_withdrawal(self.shop, holder, amount)

    @rule(data=st.data())
    def approve(self, data):
        withdrawal = self._withdrawal(data)
        if withdrawal is None or withdrawal.status not in (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED):
            return
        approver = self.finance if withdrawal.status == WithdrawalStatus.REQUESTED else self.finance2
        actions.approve_withdrawal(self.shop, withdrawal.pk, approver)

    @rule(data=st.data())
    def reject(self, data):
        withdrawal = self._withdrawal(data)
        if withdrawal is None or withdrawal.status not in (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED):
            return
        actions.reject_withdrawal(self.shop, withdrawal.pk, self.finance, reason="测试驳回")
        self.model[withdrawal.holder_id]["available"] += withdrawal.amount_fen

    @rule(data=st.data(), success=st.booleans())
    def payout_result(self, data, success):
        """Any withdrawal, in any state: only a paying one moves, and only once."""
        withdrawal = self._withdrawal(data)
        if withdrawal is None:
            return
        paying = withdrawal.status == WithdrawalStatus.PAYING
        actions.apply_payout_result(PayoutResult(withdrawal.out_bill_no, SUCCESS if success else FAIL, "失败"))
        if paying:
            self.model[withdrawal.holder_id]["paid_out" if success else "available"] += withdrawal.amount_fen

    @precondition(lambda self: hasattr(self, "shop"))
    @invariant()
    def books_balance(self):
        accounts = list(Account.objects.filter(shop=self.shop))
        assert sum(a.balance_fen for a in accounts) == 0
        for account in accounts:
            assert account.balance_fen == ledger.entries_total(account.pk)
        for holder in self.holders:
            open_total = sum(
                Withdrawal.objects.filter(holder=holder, status__in=OPEN_WITHDRAWAL_STATUSES).values_list(
                    "amount_fen", flat=True
                )
            )
            found = ledger.holder_balances(self.shop, holder)
            assert found["in_transit"] == open_total
            assert {k: found[k] for k in ("frozen", "available", "paid_out")} == self.model[holder.pk]


@override_settings(WALLETS_SECOND_APPROVAL_ABOVE_FEN=3_000)  # some withdrawals need two approvers
def test_the_books_stay_true_under_any_sequence():
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
