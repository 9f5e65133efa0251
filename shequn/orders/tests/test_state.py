import pytest

from shequn.core.errors import InvalidTransition
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderEvent
from shequn.orders.state import ORDER_TRANSITIONS, transition
from shequn.testing.orders import place_order

pytestmark = pytest.mark.django_db

S = OrderStatus

# The moves the business allows, per (fulfilment, payment method); everything else must raise.
ALLOWED = {
    (Fulfilment.DELIVERY, PaymentMethod.SANDBOX): {
        (S.PENDING_PAYMENT, S.PAID),
        (S.PENDING_PAYMENT, S.CANCELLED),
        (S.PENDING_PAYMENT, S.CLOSED),
        (S.PAID, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
        (S.DELIVERED, S.COMPLETED),
    },
    (Fulfilment.PICKUP, PaymentMethod.SANDBOX): {
        (S.PENDING_PAYMENT, S.PAID),
        (S.PENDING_PAYMENT, S.CANCELLED),
        (S.PENDING_PAYMENT, S.CLOSED),
        (S.PAID, S.READY_FOR_PICKUP),
        (S.READY_FOR_PICKUP, S.PICKED_UP),
        (S.PICKED_UP, S.COMPLETED),
    },
    (Fulfilment.DELIVERY, PaymentMethod.COD): {
        (S.PENDING_PAYMENT, S.PAID),
        (S.PENDING_PAYMENT, S.CANCELLED),
        (S.PENDING_PAYMENT, S.SHIPPED),
        (S.PAID, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
        (S.DELIVERED, S.COMPLETED),
    },
    (Fulfilment.PICKUP, PaymentMethod.COD): {
        (S.PENDING_PAYMENT, S.PAID),
        (S.PENDING_PAYMENT, S.CANCELLED),
        (S.PENDING_PAYMENT, S.READY_FOR_PICKUP),
        (S.PAID, S.READY_FOR_PICKUP),
        (S.READY_FOR_PICKUP, S.PICKED_UP),
        (S.PICKED_UP, S.COMPLETED),
    },
}


@pytest.mark.parametrize(("fulfilment", "payment_method"), list(ALLOWED))
def test_every_move_outside_the_table_raises_and_every_move_inside_works(member, sku, fulfilment, payment_method):
    order = place_order(member, sku, fulfilment=fulfilment, payment_method=payment_method)
    for from_status in S.values:
        for to_status in S.values:
            Order.objects.filter(pk=order.pk).update(status=from_status, paid_at=order.created_at)
            order.refresh_from_db()
            events_before = OrderEvent.objects.filter(order=order).count()
            if (from_status, to_status) in ALLOWED[(fulfilment, payment_method)]:
                transition(order, to_status)
                order.refresh_from_db()
                assert order.status == to_status
                assert OrderEvent.objects.filter(order=order).count() == events_before + 1
            else:
                with pytest.raises(InvalidTransition):
                    transition(order, to_status)
                order.refresh_from_db()
                assert order.status == from_status
                assert OrderEvent.objects.filter(order=order).count() == events_before


def test_closed_order_is_reinstated_only_through_the_reinstate_path(member, sku):
    order = place_order(member, sku)
    transition(order, S.CLOSED)
    with pytest.raises(InvalidTransition):
        transition(order, S.PAID)
    transition(order, S.PAID, reinstate=True)
    assert order.status == S.PAID


def test_an_order_completes_only_when_paid(member, sku):
    order = place_order(member, sku, payment_method=PaymentMethod.COD)
    transition(order, S.SHIPPED)
    transition(order, S.DELIVERED)
    with pytest.raises(InvalidTransition):
        transition(order, S.COMPLETED)


def test_a_stale_instance_cannot_move_an_order_twice(member, sku):
    order = place_order(member, sku)
    first, second = Order.objects.get(pk=order.pk), Order.objects.get(pk=order.pk)
    transition(first, S.CANCELLED)
    with pytest.raises(InvalidTransition):
        transition(second, S.CLOSED)
    assert Order.objects.get(pk=order.pk).status == S.CANCELLED


def test_event_records_actor_note_and_stamps_time(member, sku):
    order = place_order(member, sku)
    event = transition(order, S.PAID, actor=member, note="支付成功")
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        S.PENDING_PAYMENT,
        S.PAID,
        member,
        "支付成功",
    )
    order.refresh_from_db()
    assert order.paid_at is not None


def test_table_covers_every_status():
    assert set(ORDER_TRANSITIONS) == set(S.values)
