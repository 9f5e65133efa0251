from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from shequn.catalog.models import Sku
from shequn.core.errors import InvalidTransition
from shequn.notifications.models import Notification
from shequn.orders import actions, tasks
from shequn.orders.enums import OrderStatus, PaymentMethod
from shequn.orders.models import Order, PurchaseCounter
from shequn.testing.orders import make_sku, make_staff, paid_order, place_order

pytestmark = pytest.mark.django_db


def after_expiry(order, seconds=1):
    assert order.expires_at is not None
    return order.expires_at + timedelta(seconds=seconds)


def stock(sku):
    return Sku.objects.get(pk=sku.pk).stock


def test_close_after_expiry_releases_stock_once(member, sku):
    order = place_order(member, sku, 4)
    assert stock(sku) == 6
    assert actions.close_unpaid_order(order.pk) is False  # not yet expired
    later = after_expiry(order)
    assert actions.close_unpaid_order(order.pk, now=later) is True
    assert actions.close_unpaid_order(order.pk, now=later) is False
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert order.stock_released is True
    assert stock(sku) == 10
    assert Notification.objects.filter(user=member, kind="order.closed").count() == 1
    assert order.events.filter(to_status=OrderStatus.CLOSED).count() == 1


def test_close_racing_cancel_releases_once(member, sku):
    order = place_order(member, sku, 4)
    later = after_expiry(order, 60)
    # The member cancels from a stale page while the closer runs: one wins, stock comes back once.
    actions.cancel_order_by_member(member, order.number)
    assert actions.close_unpaid_order(order.pk, now=later) is False
    with pytest.raises(InvalidTransition):
        actions.cancel_order_by_member(member, order.number)
    assert stock(sku) == 10
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_release_is_guarded_by_the_flag_even_when_called_twice(member, sku):
    order = place_order(member, sku, 3)
    first, second = Order.objects.get(pk=order.pk), Order.objects.get(pk=order.pk)
    assert actions._release_stock(first) is True
    assert actions._release_stock(second) is False
    assert stock(sku) == 10


def test_cancel_releases_purchase_counter(member, shop):
    sku = make_sku(shop, per_person_cap=5)
    order = place_order(member, sku, 5)
    assert PurchaseCounter.objects.get(user=member, product=sku.product).quantity == 5
    actions.cancel_order_by_member(member, order.number)
    assert PurchaseCounter.objects.get(user=member, product=sku.product).quantity == 0


def test_paid_and_cod_orders_are_never_closed(member, sku):
    paid = place_order(member, sku)
    actions.mark_paid(paid)
    cod = place_order(member, sku, payment_method=PaymentMethod.COD)
    far = timezone.now() + timedelta(days=3)
    assert actions.close_unpaid_order(paid.pk, now=far) is False
    assert actions.close_unpaid_order(cod.pk, now=far) is False
    assert actions.close_expired_orders(now=far) == 0
    assert stock(sku) == 8


def test_scheduled_task_and_sweeper_close_once(member, sku, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = place_order(member, sku, 2)
        place_order(member, sku, 3)
    assert stock(sku) == 5
    # Before the deadline both are no-ops.
    assert tasks.close_expired_order.call_local(first.pk) == 0
    assert tasks.sweep_expired_orders.call_local() == 0
    with time_machine.travel(after_expiry(first, 5), tick=False):
        assert tasks.close_expired_order.call_local(first.pk) == 1
        assert tasks.close_expired_order.call_local(first.pk) == 0
        assert tasks.sweep_expired_orders.call_local() == 1  # the second one
        assert tasks.sweep_expired_orders.call_local() == 0
    assert stock(sku) == 10
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CLOSED}
    assert Notification.objects.filter(user=member, kind="order.closed").count() == 2


def test_creating_an_order_schedules_its_close_at_expiry(member, sku, django_capture_on_commit_callbacks):

    HUEY.storage.flush_schedule()
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(member, sku)
    scheduled = HUEY.scheduled()
    assert [task.args for task in scheduled if task.name.endswith("close_expired_order")] == [(order.pk,)]
    HUEY.storage.flush_schedule()


def test_mark_paid_is_idempotent_and_cod_in_fulfilment_keeps_its_status(member, sku, shop):
    order = place_order(member, sku)
    assert actions.mark_paid(order) is True
    assert actions.mark_paid(order) is False
    assert order.status == OrderStatus.PAID
    assert Notification.objects.filter(user=member, kind="order.paid").count() == 1

    staff = make_staff(shop)
    cod = place_order(member, sku, payment_method=PaymentMethod.COD)
    actions.ship_order(shop, cod.pk, staff, tracking_company="顺丰", tracking_number="SF1")
    actions.mark_delivered(shop, cod.pk, staff)
    cod.refresh_from_db()
    with pytest.raises(InvalidTransition):
        actions.complete_order(shop, cod.pk, staff)
    assert actions.mark_paid(cod, actor=staff) is True
    cod.refresh_from_db()
    assert cod.status == OrderStatus.DELIVERED
    assert cod.paid_at is not None
    assert cod.events.filter(note="货到付款已确认收款", to_status=OrderStatus.DELIVERED).count() == 1
    actions.complete_order(shop, cod.pk, staff)
    assert Order.objects.get(pk=cod.pk).status == OrderStatus.COMPLETED


def test_mark_paid_refuses_closed_and_cancelled(member, sku):
    order = place_order(member, sku)
    actions.cancel_order_by_member(member, order.number)
    with pytest.raises(InvalidTransition):
        actions.mark_paid(order)


def test_late_payment_reinstates_a_closed_order_when_stock_allows(member, sku):
    order = place_order(member, sku, 4)
    actions.close_unpaid_order(order.pk, now=after_expiry(order))
    assert stock(sku) == 10
    assert actions.reinstate_closed_order(order) is True
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.stock_released is False
    assert stock(sku) == 6
    assert actions.reinstate_closed_order(order) is False
    assert stock(sku) == 6


def test_late_payment_is_not_reinstated_when_stock_is_gone(member, sku):
    order = place_order(member, sku, 4)
    actions.close_unpaid_order(order.pk, now=after_expiry(order))
    Sku.objects.filter(pk=sku.pk).update(stock=3)
    assert actions.reinstate_closed_order(order) is False
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert stock(sku) == 3


def test_delivered_orders_complete_after_the_after_sales_window(member, shop, settings):
    staff = make_staff(shop)
    sku = make_sku(shop)
    quiet = paid_order(member, sku)
    disputed = paid_order(member, sku)
    unpaid_cod = place_order(member, sku, payment_method=PaymentMethod.COD)
    for order in (quiet, disputed, unpaid_cod):
        actions.ship_order(shop, order.pk, staff, tracking_company="顺丰", tracking_number=f"SF{order.pk}")
        actions.mark_delivered(shop, order.pk, staff)
    actions.request_refund(member, disputed.number, disputed.lines.get().pk, amount_fen=100, reason="少了")
    assert tasks.complete_delivered_orders.call_local() == 0  # window still open
    later = timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS, minutes=1)
    with time_machine.travel(later, tick=False):
        assert tasks.complete_delivered_orders.call_local() == 1
        assert tasks.complete_delivered_orders.call_local() == 0
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[quiet.pk] == OrderStatus.COMPLETED
    assert statuses[disputed.pk] == OrderStatus.DELIVERED  # an open refund keeps it open
    assert statuses[unpaid_cod.pk] == OrderStatus.DELIVERED  # never completes unpaid
