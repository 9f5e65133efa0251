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
from shequn.storedvalue import actions, selectors
from shequn.storedvalue.errors import NothingToRefund
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


def test_paying_and_asking_the_principal_back_at_once_never_spend_a_fen_twice(sandbox):
    shop = make_shop()
    member = make_member()
    paid_top_up(member, make_plan(shop, principal_fen=10_000, bonus_fen=1_000))
    sku = make_sku(shop, price_fen=PRICE, stock=100)
    point = PickupPointFactory.create(shop=shop)
    orders = [
        order_actions.create_order(
            member, sku_id=sku.pk, fulfilment=Fulfilment.PICKUP, pickup_point_id=point.pk, payment_method="sandbox"
        )
        for _ in range(5)
    ]

    def attempt(index: int) -> str:
        try:
            if index % 2:
                return f"asked {actions.do_request_principal_refund(member, shop)}"
            payment_actions.start_payment(orders[index // 2], member, use_balance=True)
            return "paid"
        except NothingToRefund:
            return "nothing to ask"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))

    asked = [int(outcome.split()[1]) for outcome in outcomes if outcome.startswith("asked")]
    assert len(asked) <= 1  # the first ask takes all the principal left; the others find none
    spent = sum(charge.amount_fen for charge in BalanceCharge.objects.filter(shop=shop))
    forfeited = ledger.balance(shop, AccountKind.PROMOTION_EXPENSE) + 1_000  # the bonus given, less what came back
    assert spent + sum(asked) + forfeited == 11_000  # every fen spent, asked back or forfeited, once
    after = selectors.member_balances(shop, member)
    assert (after.principal_fen, after.bonus_fen) == (0, 0)
    assert selectors.books_balance(shop) == []
