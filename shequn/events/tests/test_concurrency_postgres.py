"""Races only a real engine shows (PostgreSQL pass): simultaneous RSVPs never overbook and
get distinct waitlist places; simultaneous cancellations promote each waitlisted member once."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.events import actions
from shequn.events.enums import RegistrationStatus
from shequn.events.models import Event, Registration
from shequn.notifications.models import Notification
from shequn.testing.factories import CommunityFactory, MembershipFactory, ShopFactory, UserFactory
from shequn.testing.postgres import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def make_event(capacity: int, members: int) -> tuple[Event, list]:
    shop = ShopFactory.create()
    community = CommunityFactory.create(shop=shop)
    starts_at = timezone.now() + timedelta(days=2)
    data = actions.EventInput(
        title="品鉴日", venue="农场", starts_at=starts_at, ends_at=starts_at + timedelta(hours=3), capacity=capacity
    )
    event = actions.do_publish_event(shop, actions.do_create_event(shop, community, data, actor=None), actor=None)
    users = [UserFactory.create() for _ in range(members)]
    for user in users:
        MembershipFactory.create(community=community, user=user)
    return event, users


def test_twenty_simultaneous_rsvps_for_five_seats():
    event, users = make_event(capacity=5, members=20)

    def rsvp(user) -> Callable[[], str]:
        return lambda: str(actions.do_rsvp(user, event).status)

    outcomes = run_at_once([rsvp(user) for user in users])
    assert outcomes == ["confirmed"] * 5 + ["waitlisted"] * 15
    event.refresh_from_db()
    assert event.confirmed_count == 5
    assert Registration.objects.filter(event=event, status=RegistrationStatus.CONFIRMED).count() == 5
    positions = list(
        Registration.objects.filter(event=event, status=RegistrationStatus.WAITLISTED).values_list(
            "position", flat=True
        )
    )
    assert sorted(position or 0 for position in positions) == list(range(1, 16))


def test_double_taps_at_once_make_one_registration():
    event, users = make_event(capacity=5, members=3)

    def rsvp(user) -> Callable[[], str]:
        return lambda: str(actions.do_rsvp(user, event).status)

    outcomes = run_at_once([rsvp(user) for user in users for _ in (1, 2)])
    assert outcomes == ["confirmed"] * 6
    assert Registration.objects.filter(event=event).count() == 3
    event.refresh_from_db()
    assert event.confirmed_count == 3


def test_simultaneous_cancellations_promote_each_waitlisted_member_once():
    event, users = make_event(capacity=3, members=6)
    for user in users:
        actions.do_rsvp(user, event)
    confirmed, waiting = users[:3], users[3:]

    def cancel(user) -> Callable[[], str]:
        return lambda: str(actions.do_cancel_registration(user, event).status)

    outcomes = run_at_once([cancel(user) for user in confirmed])
    assert outcomes == ["cancelled"] * 3
    event.refresh_from_db()
    assert event.confirmed_count == 3
    assert set(
        Registration.objects.filter(event=event, status=RegistrationStatus.CONFIRMED).values_list("user_id", flat=True)
    ) == {user.pk for user in waiting}
    assert Notification.objects.filter(kind="events.promoted").count() == 3


def test_ten_members_ordering_tickets_at_once_for_three_seats():
    """Paid events count seats in the ticket's stock: the orders app reserves it in one statement."""
    from django.test import Client

    from shequn.events import selectors
    from shequn.testing.accounts import bearer

    shop = ShopFactory.create()
    community = CommunityFactory.create(shop=shop)
    starts_at = timezone.now() + timedelta(days=2)
    data = actions.EventInput(
        title="工坊",
        venue="活动室",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=3,
        price_fen=6800,
    )
    event = actions.do_publish_event(shop, actions.do_create_event(shop, community, data, actor=None), actor=None)
    sku = selectors.ticket_sku(event)
    assert sku is not None
    clients = []
    for _ in range(10):
        user = UserFactory.create()
        MembershipFactory.create(community=community, user=user)
        clients.append(Client(headers=bearer(user)))

    def order(client) -> Callable[[], str]:
        def call() -> str:
            response = client.post(
                "/api/v1/orders",
                {"sku_id": sku.pk, "quantity": 1, "fulfilment": "none", "payment_method": "sandbox"},
                content_type="application/json",
            )
            return str(response.status_code) if response.status_code == 201 else response.json()["code"]

        return call

    outcomes = run_at_once([order(client) for client in clients])
    assert outcomes.count("201") == 3
    assert len(outcomes) == 10
    assert set(outcomes) - {"201"} <= {"sold_out", "event_full"}
    sku.refresh_from_db()
    assert sku.stock == 0
