"""Spending one member's points from many checkouts at once. Run with scripts/with-postgres
(SQLite serialises every writer, so only PostgreSQL shows the race)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from shequn.loyalty import actions as loyalty_actions
from shequn.loyalty.enums import PointsAccountKind as K
from shequn.loyalty.errors import InsufficientPoints, PointsNotApplicable
from shequn.orders.models import Order
from shequn.testing.loyalty import balances, books_ok, give_points, make_program
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff, place_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_checkouts_spending_points_that_afford_seven_make_exactly_seven_orders():
    assert connection.vendor == "postgresql"
    shop = make_shop()
    make_program(shop, make_staff(shop))
    sku = make_sku(shop, price_fen=3500, stock=100)  # each order may take up to 700 points (20 %)
    member = make_member()
    loyalty_actions.open_card(member, shop)
    give_points(shop, member, 700)

    def attempt(_index: int) -> str:
        try:
            place_order(member, sku, 1, points=100)
            return "ordered"
        except (InsufficientPoints, PointsNotApplicable):
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))  # any other exception fails the test here

    assert outcomes.count("ordered") == 7
    assert Order.objects.filter(user=member, points_used=100).count() == 7
    assert balances(shop, member) == {K.PENDING: 0, K.AVAILABLE: 0}
    assert books_ok(shop)
