"""Paid events through the real order and sandbox payment flow: a ticket confirms the seat,
a full event waitlists without paying, a refund frees the seat and offers it to the first
waitlisted member, an unpaid offer lapses to the next, and the refund window."""

from datetime import timedelta

import pytest
import time_machine

from shequn.catalog.models import Sku
from shequn.core.errors import InvalidInput
from shequn.events import actions, selectors
from shequn.events.enums import RegistrationStatus
from shequn.events.errors import AlreadyRegistered, EventFull, EventNotFound, TicketRequired
from shequn.events.models import Event, Registration
from shequn.notifications.models import Notification
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus, PaymentMethod, RefundStatus
from shequn.orders.models import Order, RefundRequest
from shequn.orders.selectors import after_payment_url
from shequn.payments import actions as payment_actions
from shequn.payments.sandbox import server
from shequn.testing.payments import sandbox, sandbox_key_dir

from .conftest import login, make_event, make_members

pytestmark = pytest.mark.django_db

__all__ = ["sandbox", "sandbox_key_dir"]

PRICE = 5000


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def workshop(shop, community, operator):
    return make_event(shop, community, operator, title="手作果酱工坊", capacity=1, price_fen=PRICE)


def sku_of(event: Event) -> Sku:
    sku = selectors.ticket_sku(event)
    assert sku is not None
    return sku


def buy(user, event: Event):
    return order_actions.create_order(
        user, sku_id=sku_of(event).pk, quantity=1, fulfilment="none", payment_method=PaymentMethod.SANDBOX
    )


def pay(order, commit):
    url = payment_actions.start_payment(order, order.user)
    with commit():
        server.confirm(url.rstrip("/").rsplit("/", 1)[-1])
    order.refresh_from_db()
    return order


def refund(order, commit):
    with commit():
        request = order_actions.request_refund(
            order.user, order.number, order.lines.get().pk, amount_fen=PRICE, reason="临时有事"
        )
    request.refresh_from_db()
    return request


def test_ticket_refund_offers_the_seat_to_the_waitlist_in_order(sandbox, commit, workshop, members):
    buyer, first_waiting, second_waiting = members
    assert workshop.ticket_product.kind == "ticket"
    assert (sku_of(workshop).price_fen, sku_of(workshop).stock) == (PRICE, 1)
    with pytest.raises(TicketRequired):
        actions.do_rsvp(buyer, workshop)  # seats left: buy instead

    order = pay(buy(buyer, workshop), commit)
    assert order.status == OrderStatus.COMPLETED
    ticket = Registration.objects.get(event=workshop, user=buyer)
    assert (ticket.status, ticket.order_id) == (RegistrationStatus.CONFIRMED, order.pk)
    assert after_payment_url(order) == f"/c/{workshop.community_id}/events/{workshop.pk}/"
    with pytest.raises(AlreadyRegistered):
        buy(buyer, workshop)

    with pytest.raises(EventFull):
        buy(first_waiting, workshop)
    assert actions.do_rsvp(first_waiting, workshop).status == RegistrationStatus.WAITLISTED
    assert actions.do_rsvp(second_waiting, workshop).status == RegistrationStatus.WAITLISTED

    request = refund(order, commit)
    assert request.status == RefundStatus.REFUNDED  # approved by rule, more than 24 h before the start
    assert request.decided_by is None
    ticket.refresh_from_db()
    assert ticket.status == RegistrationStatus.REFUNDED
    assert sku_of(workshop).stock == 1
    offered = Registration.objects.get(event=workshop, user=first_waiting)
    assert offered.status == RegistrationStatus.OFFERED
    assert offered.offer_expires_at is not None
    told = Notification.objects.get(user=first_waiting, kind="events.offered")
    assert told.link == f"/c/{workshop.community_id}/events/{workshop.pk}/"
    assert Registration.objects.get(event=workshop, user=second_waiting).status == RegistrationStatus.WAITLISTED

    with pytest.raises(EventFull):
        buy(second_waiting, workshop)  # the seat is kept for the first in line
    page = login(first_waiting).get(f"/c/{workshop.community_id}/events/{workshop.pk}/").content.decode()
    assert f'href="/checkout/?sku={sku_of(workshop).pk}&quantity=1" data-testid="buy-button"' in page

    pay(buy(first_waiting, workshop), commit)
    offered.refresh_from_db()
    assert (offered.status, offered.offer_expires_at) == (RegistrationStatus.CONFIRMED, None)
    workshop.refresh_from_db()
    assert (workshop.confirmed_count, sku_of(workshop).stock) == (1, 0)


def test_an_unpaid_offer_lapses_to_the_next_in_line(sandbox, commit, workshop, members):
    buyer, first_waiting, second_waiting = members
    order = pay(buy(buyer, workshop), commit)
    actions.do_rsvp(first_waiting, workshop)
    actions.do_rsvp(second_waiting, workshop)
    refund(order, commit)
    offer = Registration.objects.get(event=workshop, user=first_waiting)
    assert offer.status == RegistrationStatus.OFFERED
    assert offer.offer_expires_at is not None
    with time_machine.travel(offer.offer_expires_at + timedelta(minutes=1)):
        assert actions.expire_due_offers() == 1
        assert actions.expire_due_offers() == 0
        with pytest.raises(EventFull):
            buy(first_waiting, workshop)
    offer.refresh_from_db()
    assert offer.status == RegistrationStatus.CANCELLED
    assert Notification.objects.filter(user=first_waiting, kind="events.offer_lapsed").count() == 1
    assert Registration.objects.get(event=workshop, user=second_waiting).status == RegistrationStatus.OFFERED


def test_an_abandoned_order_gives_the_seat_back(workshop, members):
    order = buy(members[0], workshop)
    assert sku_of(workshop).stock == 0
    with pytest.raises(EventFull):
        buy(members[1], workshop)
    assert order_actions.close_unpaid_order(order.pk, now=order.expires_at + timedelta(seconds=1))
    assert sku_of(workshop).stock == 1
    assert not Registration.objects.filter(event=workshop, status=RegistrationStatus.CONFIRMED).exists()
    buy(members[1], workshop)  # the seat is for sale again


def test_no_refund_by_rule_within_24_hours_unless_cancelled(sandbox, commit, shop, operator, workshop, members):
    order = pay(buy(members[0], workshop), commit)
    line = order.lines.get()
    with time_machine.travel(workshop.starts_at - timedelta(hours=23)):
        refusal = order_actions.refund_refusal(order, line)
        assert refusal is not None
        assert refusal.message == "活动开始前 24 小时内不能退票，如有特殊情况请联系商家"
        actions.do_cancel_event(shop, workshop, actor=operator, reason="场地维修")
        assert order_actions.refund_refusal(order, line) is None
        told = Notification.objects.get(user=members[0], kind="events.cancelled")
        assert "门票款请在订单中申请退款，系统会自动同意" in told.body
        request = refund(order, commit)
    assert request.status == RefundStatus.REFUNDED
    assert Registration.objects.get(event=workshop, user=members[0]).status == RegistrationStatus.REFUNDED
    assert RefundRequest.objects.filter(order=order).count() == 1


def test_paying_for_a_cancelled_event_is_refunded_at_once(sandbox, commit, shop, operator, workshop, members):
    order = buy(members[0], workshop)
    actions.do_cancel_event(shop, workshop, actor=operator)
    order = pay(order, commit)
    automatic = RefundRequest.objects.get(order=order)
    assert (automatic.status, automatic.reason) == (RefundStatus.REFUNDED, "活动已取消，门票款将原路退回")
    assert Registration.objects.get(event=workshop, user=members[0]).status == RegistrationStatus.REFUNDED
    assert sku_of(workshop).stock == 1


def test_outsiders_cannot_buy_and_members_buy_one_ticket(workshop, outsider, community):
    with pytest.raises(EventNotFound):
        buy(outsider, workshop)
    member = make_members(community, 1, prefix="新人")[0]
    with pytest.raises(InvalidInput, match="每人限购 1 张门票"):
        order_actions.create_order(
            member, sku_id=sku_of(workshop).pk, quantity=2, fulfilment="none", payment_method=PaymentMethod.SANDBOX
        )
    assert (Order.objects.count(), sku_of(workshop).stock) == (0, 1)
