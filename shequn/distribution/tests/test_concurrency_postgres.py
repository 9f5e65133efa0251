"""Races only a real engine shows (PostgreSQL pass): simultaneous settlement sweeps settle each
commission once, and simultaneous arrivals of one visitor leave one binding."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from shequn.distribution import actions, commissions
from shequn.distribution.enums import CommissionStatus
from shequn.distribution.models import Binding, Commission
from shequn.orders import actions as order_actions
from shequn.testing.factories import AddressFactory, ShopFactory, UserFactory
from shequn.testing.orders import make_sku, make_staff, paid_order
from shequn.testing.postgres import run_at_once
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account

from .helpers import approved_promoter

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_settlement_sweeps_settle_each_commission_once():
    shop = ShopFactory.create()
    staff = make_staff(shop)
    actions.do_save_rule(staff, shop, {"scope": "shop", "kind": "percent", "tier1_value": 1000})
    promoter = approved_promoter(shop)
    sku = make_sku(shop, price_fen=5000, stock=50)
    for _ in range(6):
        buyer = UserFactory.create()
        AddressFactory.create(user=buyer)
        actions.do_bind(promoter, buyer)
        order = paid_order(buyer, sku)
        order_actions.ship_order(shop, order.pk, staff, tracking_company="顺丰", tracking_number="SF")
        order_actions.mark_delivered(shop, order.pk, staff)
    later = timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 1)
    assert order_actions.auto_complete_orders(now=later) == 6

    def sweep() -> Callable[[], str]:
        def call() -> str:
            return str(commissions.settle_completed())

        return call

    outcomes = run_at_once([sweep() for _ in range(4)])
    assert sum(int(n) for n in outcomes) == 6
    assert Commission.objects.filter(status=CommissionStatus.SETTLED).count() == 6
    found = ledger.holder_balances(shop, promoter.user)
    assert (found.get(AccountKind.FROZEN, 0), found.get(AccountKind.AVAILABLE, 0)) == (0, 3000)
    accounts = Account.objects.filter(shop=shop)
    assert sum(accounts.values_list("balance_fen", flat=True)) == 0
    assert all(account.balance_fen == ledger.entries_total(account.pk) for account in accounts)


def test_simultaneous_arrivals_leave_one_binding():
    shop = ShopFactory.create()
    promoters = [approved_promoter(shop) for _ in range(4)]
    visitor = UserFactory.create()

    def arrive(promoter) -> Callable[[], str]:
        def call() -> str:
            actions.record_visit(promoter.code, visitor, device="d")
            return "ok"

        return call

    assert run_at_once([arrive(p) for p in promoters]) == ["ok"] * 4
    assert Binding.objects.filter(customer=visitor).count() == 1
