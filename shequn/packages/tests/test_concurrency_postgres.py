"""Races only a real engine shows (PostgreSQL pass): two counters redeeming a package's last
portion at once, exactly one succeeds; the ledger, the orders and the stock agree."""

import pytest

from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.orders.models import Order
from shequn.packages import actions, selectors
from shequn.packages.enums import Channel
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff
from shequn.testing.postgres import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def bought_package(portions: int):
    shop = make_shop()
    operator = make_staff(shop)
    crayfish = make_sku(shop, price_fen=8000, stock=50)
    plan = actions.do_save_plan(
        shop,
        actions.PlanInput(
            title="小龙虾套餐",
            item_sku_id=crayfish.pk,
            portions=portions,
            price_fen=800_000,
            validity_days=365,
            stock=5,
        ),
        actor=operator,
    )
    member = make_member()
    order = order_actions.create_order(
        member,
        sku_id=selectors.plan_sku_id(plan),
        quantity=1,
        fulfilment=Fulfilment.NONE,
        payment_method=PaymentMethod.SANDBOX,
    )
    order_actions.mark_paid(order)
    return shop, crayfish, selectors.my_packages(member).get()


def at_the_counter(shop, package, staff, point, portions):
    def call() -> str:
        actions.redeem(
            staff,
            selectors.access_shop_package(shop, package.pk),
            portions=portions,
            fulfilment=Fulfilment.PICKUP,
            pickup_point_id=point.pk,
            channel=Channel.COUNTER,
        )
        return "ok"

    return call


def test_two_counters_redeeming_the_last_portion_at_once_one_succeeds():
    shop, crayfish, package = bought_package(portions=3)
    point = PickupPointFactory.create(shop=shop)
    at_the_counter(shop, package, make_staff(shop), point, 2)()
    counters = [make_staff(shop, role="owner") for _ in range(2)]
    outcomes = run_at_once([at_the_counter(shop, package, staff, point, 1) for staff in counters])
    assert outcomes == ["ok", "package_portions_short"]
    package.refresh_from_db()
    assert (package.portions_left, package.value_left_fen) == (0, 0)
    assert Order.objects.filter(user=package.owner, payment_method=PaymentMethod.PREPAID).count() == 2
    crayfish.refresh_from_db()
    assert crayfish.stock == 50 - 3
    assert selectors.books_balance() == []


def test_a_crowd_of_counters_draws_exactly_the_portions_left():
    shop, crayfish, package = bought_package(portions=7)
    point = PickupPointFactory.create(shop=shop)
    counters = [make_staff(shop) for _ in range(12)]
    outcomes = run_at_once([at_the_counter(shop, package, staff, point, 1) for staff in counters])
    assert outcomes == ["ok"] * 7 + ["package_portions_short"] * 5
    package.refresh_from_db()
    assert package.portions_left == 0
    assert sum(entry.portions for entry in package.entries.all()) == 0
    crayfish.refresh_from_db()
    assert crayfish.stock == 50 - 7
    assert selectors.books_balance() == []
