"""Paid events through the real order API and the sandbox cashier, as a member does it: a ticket
confirms the seat, a full event waitlists without paying, a refund frees the seat and offers it
to the first waitlisted member, an unpaid offer lapses to the next, an abandoned order gives the
seat back, and the refund window (24 h before the start, any time once cancelled)."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine

from shequn.catalog.models import Sku
from shequn.events import actions, selectors
from shequn.events.enums import RegistrationStatus
from shequn.events.errors import InvalidEvent, TicketRequired
from shequn.events.models import Event, Registration
from shequn.notifications.models import Notification
from shequn.testing.payments import run_scheduled_tasks, sandbox, sandbox_key_dir

from .conftest import api_client, login, make_event, make_members

pytestmark = pytest.mark.django_db

__all__ = ["sandbox", "sandbox_key_dir"]

JSON = "application/json"
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


def order_ticket(user, event: Event, quantity: int = 1):
    return api_client(user).post(
        "/api/v1/orders",
        {"sku_id": sku_of(event).pk, "quantity": quantity, "fulfilment": "none", "payment_method": "sandbox"},
        content_type=JSON,
    )


def pay(user, number: str, commit):
    """Start paying and confirm on the sandbox cashier page, as the member does."""
    pay_url = api_client(user).post(f"/api/v1/payments/orders/{number}/pay").json()["pay_url"]
    with commit():
        return login(user).post(urlsplit(pay_url).path, {"action": "confirm"})


def buy(user, event: Event, commit) -> dict:
    created = order_ticket(user, event)
    assert created.status_code == 201, created.content
    pay(user, created.json()["number"], commit)
    return api_client(user).get(f"/api/v1/orders/{created.json()['number']}").json()


def ask_refund(user, order: dict, commit):
    with commit():
        return api_client(user).post(
            f"/api/v1/orders/{order['number']}/refunds",
            {"line_id": order["lines"][0]["id"], "amount_fen": PRICE, "reason": "临时有事"},
            content_type=JSON,
        )


def refunds_of(user) -> list[tuple[str, str]]:
    return [(row["status"], row["reason"]) for row in api_client(user).get("/api/v1/orders/refunds").json()["items"]]


def registration(event: Event, user) -> Registration:
    return Registration.objects.filter(event=event, user=user).latest("id")


def test_ticket_refund_offers_the_seat_to_the_waitlist_in_order(sandbox, commit, workshop, members):
    buyer, first_waiting, second_waiting = members
    assert workshop.ticket_product is not None
    assert workshop.ticket_product.kind == "ticket"
    assert (sku_of(workshop).price_fen, sku_of(workshop).stock) == (PRICE, 1)
    with pytest.raises(TicketRequired):
        actions.do_rsvp(buyer, workshop)  # seats left: buy instead

    created = order_ticket(buyer, workshop)
    assert created.status_code == 201
    returned = pay(buyer, created.json()["number"], commit)
    assert returned["Location"] == f"/c/{workshop.community_id}/events/{workshop.pk}/"  # the landing page
    order = api_client(buyer).get(f"/api/v1/orders/{created.json()['number']}").json()
    assert (order["kind"], order["status"]) == ("ticket", "completed")
    ticket = registration(workshop, buyer)
    assert ticket.status == RegistrationStatus.CONFIRMED
    assert ticket.order_id is not None
    twice = order_ticket(buyer, workshop)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_registered")

    full = order_ticket(first_waiting, workshop)
    assert (full.status_code, full.json()["code"]) == (409, "event_full")
    assert actions.do_rsvp(first_waiting, workshop).status == RegistrationStatus.WAITLISTED
    assert actions.do_rsvp(second_waiting, workshop).status == RegistrationStatus.WAITLISTED

    assert ask_refund(buyer, order, commit).status_code == 201
    assert refunds_of(buyer) == [("refunded", "临时有事")]  # approved by rule, more than 24 h before the start
    ticket.refresh_from_db()
    assert ticket.status == RegistrationStatus.REFUNDED
    assert sku_of(workshop).stock == 1
    offered = registration(workshop, first_waiting)
    assert offered.status == RegistrationStatus.OFFERED
    assert offered.offer_expires_at is not None
    told = Notification.objects.get(user=first_waiting, kind="events.offered")
    assert told.link == f"/c/{workshop.community_id}/events/{workshop.pk}/"
    assert registration(workshop, second_waiting).status == RegistrationStatus.WAITLISTED

    kept = order_ticket(second_waiting, workshop)  # the seat is kept for the first in line
    assert (kept.status_code, kept.json()["code"]) == (409, "event_full")
    page = login(first_waiting).get(f"/c/{workshop.community_id}/events/{workshop.pk}/").content.decode()
    assert f'href="/checkout/?sku={sku_of(workshop).pk}&quantity=1" data-testid="buy-button"' in page

    buy(first_waiting, workshop, commit)
    offered.refresh_from_db()
    assert (offered.status, offered.offer_expires_at) == (RegistrationStatus.CONFIRMED, None)
    workshop.refresh_from_db()
    assert (workshop.confirmed_count, sku_of(workshop).stock) == (1, 0)


def test_an_unpaid_offer_lapses_to_the_next_in_line(sandbox, commit, workshop, members):
    buyer, first_waiting, second_waiting = members
    order = buy(buyer, workshop, commit)
    actions.do_rsvp(first_waiting, workshop)
    actions.do_rsvp(second_waiting, workshop)
    ask_refund(buyer, order, commit)
    offer = registration(workshop, first_waiting)
    assert offer.status == RegistrationStatus.OFFERED
    assert offer.offer_expires_at is not None
    with time_machine.travel(offer.offer_expires_at + timedelta(minutes=1)):
        assert actions.expire_due_offers() == 1
        assert actions.expire_due_offers() == 0
        late = order_ticket(first_waiting, workshop)
        assert (late.status_code, late.json()["code"]) == (409, "event_full")
    offer.refresh_from_db()
    assert offer.status == RegistrationStatus.CANCELLED
    assert Notification.objects.filter(user=first_waiting, kind="events.offer_lapsed").count() == 1
    assert registration(workshop, second_waiting).status == RegistrationStatus.OFFERED


def test_an_abandoned_order_gives_the_seat_back(workshop, members):
    created = order_ticket(members[0], workshop)
    assert sku_of(workshop).stock == 0
    assert order_ticket(members[1], workshop).json()["code"] == "event_full"
    cancelled = api_client(members[0]).post(f"/api/v1/orders/{created.json()['number']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert sku_of(workshop).stock == 1
    assert not Registration.objects.filter(event=workshop).exists()
    assert order_ticket(members[1], workshop).status_code == 201  # the seat is for sale again


def test_no_refund_by_rule_within_24_hours_and_a_cancelled_event_refunds_every_ticket_once(
    sandbox, commit, shop, operator, workshop, members
):
    order = buy(members[0], workshop, commit)
    with time_machine.travel(workshop.starts_at - timedelta(hours=23)):
        refused = ask_refund(members[0], order, commit)
        assert refused.status_code == 409
        assert refused.json()["message"] == "活动开始前 24 小时内不能退票，如有特殊情况请联系商家"
        with commit():
            actions.do_cancel_event(shop, workshop, actor=operator, reason="场地维修")
        told = Notification.objects.get(user=members[0], kind="events.cancelled")
        assert "门票款将全额原路退回" in told.body
        # Refunded in full without anyone asking; asking again finds nothing left.
        assert refunds_of(members[0]) == [("refunded", "活动「手作果酱工坊」已取消，门票全额退款")]
        again = ask_refund(members[0], order, commit)
        assert again.status_code == 422
    refunded = api_client(members[0]).get(f"/api/v1/orders/{order['number']}").json()
    assert refunded["refunded_fen"] == PRICE
    assert registration(workshop, members[0]).status == RegistrationStatus.REFUNDED
    assert Notification.objects.filter(user=members[0], kind="refund.refunded").count() == 1


def test_paying_for_a_cancelled_event_is_refunded_at_once(sandbox, commit, shop, operator, workshop, members):
    created = order_ticket(members[0], workshop)
    actions.do_cancel_event(shop, workshop, actor=operator)
    pay(members[0], created.json()["number"], commit)
    assert refunds_of(members[0]) == [("refunded", "活动已取消，门票款将原路退回")]
    assert registration(workshop, members[0]).status == RegistrationStatus.REFUNDED
    assert sku_of(workshop).stock == 1


def test_outsiders_cannot_buy_and_members_buy_one_ticket(workshop, outsider, community):
    refused = order_ticket(outsider, workshop)
    assert (refused.status_code, refused.json()["code"]) == (404, "event_not_found")
    member = make_members(community, 1, prefix="新人")[0]
    two = order_ticket(member, workshop, quantity=2)
    assert (two.status_code, two.json()["message"]) == (422, "每人限购 1 张门票")
    assert sku_of(workshop).stock == 1
    assert api_client(member).get("/api/v1/orders").json()["count"] == 0


def test_a_declined_offer_passes_on_and_a_lapse_runs_from_its_scheduled_task(sandbox, commit, workshop, members):
    buyer, first_waiting, second_waiting = members
    order = buy(buyer, workshop, commit)
    actions.do_rsvp(first_waiting, workshop)
    actions.do_rsvp(second_waiting, workshop)
    ask_refund(buyer, order, commit)  # the ETA task for the offer's deadline is scheduled after commit
    with commit():  # the next offer's deadline task is scheduled after commit
        assert actions.do_cancel_registration(first_waiting, workshop).status == RegistrationStatus.CANCELLED
    offer = registration(workshop, second_waiting)
    assert offer.status == RegistrationStatus.OFFERED
    assert offer.offer_expires_at is not None
    with time_machine.travel(offer.offer_expires_at + timedelta(seconds=1)):
        assert run_scheduled_tasks() == 2  # both offers' deadline tasks; the declined one does nothing
    offer.refresh_from_db()
    assert offer.status == RegistrationStatus.CANCELLED
    assert Notification.objects.filter(user=second_waiting, kind="events.offer_lapsed").count() == 1
    # Nobody left in line: the seat is for sale to anyone.
    workshop.refresh_from_db()
    assert (selectors.seats_left(workshop), sku_of(workshop).stock) == (1, 1)


def test_changing_capacity_moves_ticket_stock_around_held_seats(shop, operator, workshop, members):
    order_ticket(members[0], workshop)  # unpaid, but holds the only seat
    assert sku_of(workshop).stock == 0
    data = actions.EventInput(
        title=workshop.title,
        venue=workshop.venue,
        starts_at=workshop.starts_at,
        ends_at=workshop.ends_at,
        capacity=3,
        price_fen=6800,
    )
    actions.do_update_event(shop, workshop, data, actor=operator)
    assert (sku_of(workshop).stock, sku_of(workshop).price_fen) == (2, 6800)
    assert order_ticket(members[1], workshop).status_code == 201
    data.capacity = 1  # two seats are held by orders
    with pytest.raises(InvalidEvent) as shrink:
        actions.do_update_event(shop, workshop, data, actor=operator)
    assert shrink.value.message == "名额不能少于已售出和待支付的门票数"
    data.capacity, data.price_fen = 3, 0
    with pytest.raises(InvalidEvent) as switch:
        actions.do_update_event(shop, workshop, data, actor=operator)
    assert switch.value.details["fields"] == {"price_fen": "活动发布后不能在免费和收费之间切换"}
    workshop.refresh_from_db()
    assert (workshop.capacity, workshop.price_fen, sku_of(workshop).stock) == (3, 6800, 1)
