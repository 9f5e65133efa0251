"""Paying from one balance under concurrency. Run with scripts/with-postgres (SQLite serialises
every writer, so only PostgreSQL shows the race)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.models import Order
from shequn.payments import actions as payment_actions
from shequn.payments.models import Payment
from shequn.storedvalue import selectors
from shequn.storedvalue.models import BalanceCharge
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_shop, make_sku
from shequn.testing.storedvalue import make_plan, paid_top_up
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PRICE = 3_500
CHECKOUTS = 20
AFFORDED = 7


def test_twenty_parallel_checkouts_from_a_balance_that_affords_seven_pay_exactly_seven(sandbox):
    assert connection.vendor == "postgresql"
    shop = make_shop()
    member = make_member()
    plan = make_plan(shop, principal_fen=PRICE * AFFORDED, bonus_fen=0)
    paid_top_up(member, plan)
    assert selectors.member_balances(shop, member).usable_fen == PRICE * AFFORDED
    sku = make_sku(shop, price_fen=PRICE, stock=100)
    point = PickupPointFactory.create(shop=shop)

    def checkout(_: int) -> str:
        try:
            order = order_actions.create_order(
                member,
                sku_id=sku.pk,
                fulfilment=Fulfilment.PICKUP,
                pickup_point_id=point.pk,
                payment_method=PaymentMethod.SANDBOX,
            )
            payment_actions.start_payment(order, member, use_balance=True)
            order.refresh_from_db()
            return order.status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=CHECKOUTS) as pool:
        statuses = list(pool.map(checkout, range(CHECKOUTS)))  # any exception fails the test here

    assert statuses.count(OrderStatus.PAID) == AFFORDED
    assert statuses.count(OrderStatus.PENDING_PAYMENT) == CHECKOUTS - AFFORDED
    bought = Order.objects.filter(shop=shop, kind="goods")
    assert BalanceCharge.objects.filter(order__in=bought).count() == AFFORDED
    assert Payment.objects.filter(order__in=bought, gateway="balance", amount_fen=0).count() == AFFORDED
    # The rest wait for WeChat Pay for the whole amount: the balance had nothing left for them.
    assert set(Payment.objects.filter(order__in=bought, gateway="sandbox").values_list("amount_fen", flat=True)) == {
        PRICE
    }
    assert selectors.member_balances(shop, member).usable_fen == 0
    assert ledger.balance(shop, AccountKind.BALANCE_SALES) == PRICE * AFFORDED
    assert selectors.books_balance(shop) == []
