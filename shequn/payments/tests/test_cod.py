"""Cash on delivery: only staff with CONFIRM_COD mark it paid, and every confirmation is audited."""

import pytest

from shequn.core.errors import NotFound, PermissionDenied
from shequn.core.models import AuditLog
from shequn.orders.enums import OrderStatus, PaymentMethod
from shequn.orders.models import OrderEvent
from shequn.payments import actions
from shequn.payments.enums import PaymentStatus
from shequn.payments.errors import NotCashOnDelivery, OrderAlreadyPaid
from shequn.payments.models import Payment
from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory
from shequn.testing.payments import make_order, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return ShopFactory.create()


@pytest.mark.parametrize("role", [StaffRole.OPERATOR, StaffRole.SERVICE])
def test_roles_without_confirm_cod_are_refused_and_nothing_is_written(sandbox, shop, role):
    order = make_order(shop=shop, payment_method=PaymentMethod.COD)
    staff = StaffFactory.create(shop=shop, role=role).user
    before = row_counts()
    with pytest.raises(PermissionDenied):
        actions.confirm_cod_payment(shop, order, staff, "10.0.0.1")
    assert row_counts() == before


@pytest.mark.parametrize("role", [StaffRole.FINANCE, StaffRole.OWNER, StaffRole.ADMIN])
def test_confirm_cod_records_the_cash_marks_paid_and_audits(sandbox, shop, role, django_capture_on_commit_callbacks):
    order = make_order(shop=shop, payment_method=PaymentMethod.COD)
    staff = StaffFactory.create(shop=shop, role=role).user
    with django_capture_on_commit_callbacks(execute=True):
        payment = actions.confirm_cod_payment(shop, order, staff, "10.0.0.2")
    assert (payment.gateway, payment.status, payment.amount_fen) == ("cod", PaymentStatus.SUCCEEDED, order.total_fen)
    assert payment.transaction_id is None
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.PAID)
    assert event.actor == staff
    audit = AuditLog.objects.get()
    assert (audit.action, audit.actor, audit.shop, audit.ip) == ("payment.confirm_cod", staff, shop, "10.0.0.2")
    assert (audit.object_type, audit.object_id) == ("orders.order", str(order.pk))
    assert audit.detail == {"amount_fen": order.total_fen}


def test_confirm_cod_twice_is_refused(sandbox, shop):
    order = make_order(shop=shop, payment_method=PaymentMethod.COD)
    staff = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    actions.confirm_cod_payment(shop, order, staff)
    with pytest.raises(OrderAlreadyPaid):
        actions.confirm_cod_payment(shop, order, staff)
    assert Payment.objects.count() == 1
    assert AuditLog.objects.count() == 1


def test_confirm_cod_refuses_online_orders_and_other_shops(sandbox, shop):
    staff = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    online = make_order(shop=shop)
    with pytest.raises(NotCashOnDelivery):
        actions.confirm_cod_payment(shop, online, staff)
    foreign = make_order(payment_method=PaymentMethod.COD)
    with pytest.raises(NotFound):
        actions.confirm_cod_payment(shop, foreign, staff)
    with pytest.raises(NotFound):
        actions.confirm_cod_payment(foreign.shop, foreign, staff)
    assert not Payment.objects.exists()


def test_cod_order_shipped_before_the_cash_is_confirmed(sandbox, shop):
    from shequn.orders.actions import ship_order
    from shequn.orders.enums import Fulfilment

    order = make_order(shop=shop, payment_method=PaymentMethod.COD, fulfilment=Fulfilment.DELIVERY)
    owner = StaffFactory.create(shop=shop, role=StaffRole.OWNER).user
    ship_order(shop, order.pk, owner, tracking_company="顺丰", tracking_number="SF123")
    actions.confirm_cod_payment(shop, order, owner)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.paid_at is not None
