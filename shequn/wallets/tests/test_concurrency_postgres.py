"""Races only a real engine shows (PostgreSQL pass): simultaneous withdrawals never overdraw, and
a failure callback delivered twice at once returns the money once."""

from collections.abc import Callable

import pytest

from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory, UserFactory
from shequn.testing.postgres import run_at_once
from shequn.wallets import actions, flows, ledger, payouts
from shequn.wallets.enums import WithdrawalStatus
from shequn.wallets.models import Account, Withdrawal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_simultaneous_withdrawals_take_exactly_what_the_balance_affords():
    shop, holder = ShopFactory.create(), UserFactory.create()
    flows.credit_available(shop, holder, 10_000, reference="seed")

    def withdraw() -> Callable[[], str]:
        def call() -> str:
            actions.request_withdrawal(shop, holder, 700)
            return "ok"

        return call

    outcomes = run_at_once([withdraw() for _ in range(20)])
    assert outcomes == ["insufficient_balance"] * 6 + ["ok"] * 14  # 14 × ¥7 = ¥98 of ¥100
    assert ledger.holder_balances(shop, holder) == {"frozen": 0, "available": 200, "in_transit": 9_800, "paid_out": 0}
    assert Withdrawal.objects.filter(holder=holder).count() == 14
    for account in Account.objects.filter(shop=shop):
        assert account.balance_fen == ledger.entries_total(account.pk)


def test_a_failure_callback_arriving_twice_at_once_returns_the_money_once():
    shop, holder = ShopFactory.create(), UserFactory.create()
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    flows.credit_available(shop, holder, 10_000, reference="seed")
    withdrawal = actions.request_withdrawal(shop, holder, 6_000)
    actions.approve_withdrawal(shop, withdrawal.pk, finance)  # the sandbox accepts it (result later)
    headers, body = payouts.sandbox_notification(withdrawal.out_bill_no, payouts.FAIL, "收款用户账户异常")

    def callback() -> str:
        done = actions.handle_payout_notification(headers, body)
        return done.status if done else "none"

    outcomes = run_at_once([callback, callback, callback])
    assert outcomes == ["failed"] * 3
    assert ledger.holder_balances(shop, holder) == {"frozen": 0, "available": 10_000, "in_transit": 0, "paid_out": 0}
    assert Withdrawal.objects.get().status == WithdrawalStatus.FAILED
