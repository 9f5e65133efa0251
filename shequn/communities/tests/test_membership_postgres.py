"""The capacity of a paid community under simultaneous payments (PostgreSQL pass).

Seats are not held at checkout (the fee SKUs have ample stock): every member who may join can
start paying, and the capacity is decided when the payment lands, under the community's row
lock. Twelve sandbox payments confirmed at once for five seats: five members, seven fees
refunded in full automatically.
"""

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.test import Client

from shequn.communities import actions, selectors
from shequn.communities.enums import JoinPolicy
from shequn.communities.models import CommunityMembership, MemberCount, MembershipTerm
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import api_token_for
from shequn.testing.factories import CommunityFactory, StaffFactory, UserFactory
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.postgres import run_at_once

__all__ = ["sandbox", "sandbox_key_dir"]

FEE = 9900
JSON = "application/json"


def api(user) -> Client:
    return Client(headers=api_token_for(user, token=f"pg-{user.pk}-{uuid.uuid4().hex}"))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twelve_simultaneous_payments_for_five_seats(sandbox):
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
    buyers = [UserFactory.create() for _ in range(12)]
    cashiers = []
    for user in buyers:
        created = api(user).post(
            "/api/v1/orders",
            {"sku_id": sku_id, "quantity": 1, "fulfilment": "none", "payment_method": "sandbox"},
            content_type=JSON,
        )
        assert created.status_code == 201, created.content  # every one sees seats left
        pay_url = api(user).post(f"/api/v1/payments/orders/{created.json()['number']}/pay").json()["pay_url"]
        cashiers.append((user, created.json()["number"], urlsplit(pay_url).path))
    start = threading.Barrier(len(cashiers))

    def confirm(cashier) -> int:
        user, _, path = cashier
        client = signed_in(user)
        try:
            start.wait(timeout=30)
            return client.post(path, {"action": "confirm"}).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(cashiers)) as pool:
        statuses = list(pool.map(confirm, cashiers))
    assert statuses == [302] * 12
    assert selectors.current_member_count(community) == 5
    assert CommunityMembership.objects.filter(community=community).count() == 5
    assert MembershipTerm.objects.filter(membership__community=community).count() == 5
    members = set(CommunityMembership.objects.filter(community=community).values_list("user_id", flat=True))
    outcomes = []
    for user, number, _ in cashiers:
        order = api(user).get(f"/api/v1/orders/{number}").json()
        refunds = [(r["status"], r["amount_fen"]) for r in api(user).get("/api/v1/orders/refunds").json()["items"]]
        outcomes.append((user.pk in members, order["status"], order["refunded_fen"], refunds))
    assert (
        sorted(outcomes, key=lambda row: not row[0])
        == [(True, "completed", 0, [])] * 5 + [(False, "completed", FEE, [("refunded", FEE)])] * 7
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twelve_simultaneous_free_joins_for_five_places():
    operator = StaffFactory.create(role=StaffRole.OPERATOR)
    community = CommunityFactory.create(shop=operator.shop)
    actions.do_update_membership_settings(
        operator.shop, community, join_policy=JoinPolicy.OPEN, fee_fen=0, capacity=5, actor=operator.user
    )
    users = [UserFactory.create() for _ in range(12)]
    start = threading.Barrier(len(users))

    def join(user) -> str:
        try:
            start.wait(timeout=30)
            actions.do_join(community, user)
            return "joined"
        except Exception as error:  # the outcome is what the test asserts
            return getattr(error, "code", repr(error))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        outcomes = sorted(pool.map(join, users))
    assert outcomes == ["community_full"] * 7 + ["joined"] * 5
    assert selectors.current_member_count(community) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forty_simultaneous_joins_and_removals_keep_the_member_count_exact():
    """The member count pages read (``MemberCount``, kept by statement-level triggers) under
    concurrent writers: forty joins at once, then twenty removals at once while twenty more join."""
    operator = StaffFactory.create(role=StaffRole.OPERATOR)
    community = CommunityFactory.create(shop=operator.shop)

    def join(user) -> Callable[[], str]:
        return lambda: "joined" if actions.do_join(community, user)[1] else "already"

    def remove(target) -> Callable[[], str]:
        return lambda: actions.do_remove_member(community, target, actor=operator.user).status

    assert run_at_once([join(UserFactory.create()) for _ in range(40)]) == ["joined"] * 40
    assert selectors.current_member_count(community) == 40
    assert MemberCount.objects.get(community=community).active == 40
    leaving = CommunityMembership.objects.filter(community=community).order_by("pk")[:20]
    outcomes = run_at_once([remove(target) for target in leaving] + [join(UserFactory.create()) for _ in range(20)])
    assert outcomes == ["joined"] * 20 + ["removed"] * 20
    assert selectors.current_member_count(community) == 40
    assert MemberCount.objects.get(community=community).active == 40
    assert CommunityMembership.objects.filter(community=community, status="active").count() == 40
