"""The capacity of a paid community under simultaneous payments (PostgreSQL pass).

Seats are not held at checkout (the fee SKUs have ample stock): every member who may join can
start paying, and the capacity is decided when the payment lands, under the community's row
lock. Twelve payments landing at once for five seats: five members, seven fees refunded in full
automatically.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from shequn.communities import actions, selectors
from shequn.communities.enums import JoinPolicy
from shequn.communities.models import CommunityMembership, MembershipTerm
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.models import Order, RefundRequest
from shequn.shops.enums import StaffRole
from shequn.testing.factories import CommunityFactory, StaffFactory, UserFactory

FEE = 9900


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twelve_simultaneous_payments_for_five_seats():
    operator = StaffFactory.create(role=StaffRole.OPERATOR)
    community = CommunityFactory.create(shop=operator.shop)
    actions.do_update_membership_settings(
        operator.shop,
        community,
        join_policy=JoinPolicy.OPEN,
        fee_fen=FEE,
        validity_days=365,
        capacity=5,
        refund_days=3,
        actor=operator.user,
    )
    sku_id = selectors.fee_skus(community)["入会"].pk
    orders = [
        order_actions.create_order(
            UserFactory.create(), sku_id=sku_id, quantity=1, fulfilment="none", payment_method=PaymentMethod.SANDBOX
        )
        for _ in range(12)
    ]
    start = threading.Barrier(len(orders))

    def run(order: Order) -> str:
        try:
            start.wait(timeout=30)
            order_actions.mark_paid(Order.objects.get(pk=order.pk))
            return "paid"
        except Exception as error:  # the outcome is what the test asserts
            return f"error: {error!r}"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        outcomes = list(pool.map(run, orders))
    assert outcomes == ["paid"] * 12
    assert selectors.current_member_count(community) == 5
    assert CommunityMembership.objects.filter(community=community).count() == 5
    assert MembershipTerm.objects.filter(membership__community=community).count() == 5
    refunds = RefundRequest.objects.filter(order__in=orders)
    assert refunds.count() == 7
    assert {(refund.status, refund.amount_fen) for refund in refunds} == {(RefundStatus.APPROVED, FEE)}
    members = set(CommunityMembership.objects.filter(community=community).values_list("user_id", flat=True))
    refunded = set(refunds.values_list("order__user_id", flat=True))
    assert len(members | refunded) == 12
    assert not members & refunded
    assert Order.objects.filter(pk__in=[o.pk for o in orders], status=OrderStatus.COMPLETED).count() == 12
