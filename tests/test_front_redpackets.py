"""Red-packet grabs through the thin front (shequn/front.py) with a gate ticket, on the LocalGate and
on Redis: each situation is asked of the front and of the Django endpoint (the same path, the same
ticket), and the status and the JSON must be the same. Committed rows (transaction=True): the
front's Django threads must see them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from shequn.front import Front, application
from shequn.gate.base import Gate, RateLimits
from shequn.redpackets import actions, tickets
from shequn.redpackets.models import RedPacketGrab, pool_key
from shequn.redpackets.tests.conftest import commit, community, fund, member_of, owner
from shequn.testing.gate import engine_in_use
from shequn.testing.two_shops import shop

from .test_front import answer, ask_front

__all__ = ["commit", "community", "owner", "shop"]

pytestmark = pytest.mark.django_db(transaction=True)

LIMITS = RateLimits(per_member=50, per_ip=1_000, window_ms=60_000)


@pytest.fixture(params=["local", "redis"])
def gate(request: pytest.FixtureRequest) -> Iterator[Gate]:
    with engine_in_use(request, request.param, LIMITS) as engine:
        yield engine


@pytest.fixture
def front() -> Front:
    return Front(application.django)


def path(packet_id: int) -> str:
    return f"/api/v1/redpackets/{packet_id}/grabs"


def by_front(front: Front, packet_id: int, ticket: str) -> tuple[int, Any]:
    return answer(ask_front(front, ("POST", path(packet_id), {tickets.HEADER: ticket}, b""))[0])


def by_django(packet_id: int, ticket: str) -> tuple[int, Any]:
    return answer(Client().post(path(packet_id), headers={tickets.HEADER: ticket}))


def ticket_for(member: Any, packet: Any) -> str:
    return actions.issue_ticket(member, packet.pk).token


def test_a_grab_through_the_front_is_written_and_refusals_match_django(front, shop, owner, community, commit, gate):
    packet = fund(shop, owner, commit, community, count=2)
    wang, li, late = (member_of(community, name) for name in ("王小明", "李雷", "韩梅梅"))

    status, body = by_front(front, packet.pk, ticket_for(wang, packet))
    assert status == 202
    assert body["status"] == "queued"
    assert by_django(packet.pk, ticket_for(li, packet))[0] == 202
    actions.materialise_grabs()
    assert RedPacketGrab.objects.filter(packet=packet).count() == 2

    for ticket, code in (
        (ticket_for(wang, packet), "red_packet_already_grabbed"),
        (ticket_for(late, packet), "red_packet_all_grabbed"),
    ):
        from_front, from_django = by_front(front, packet.pk, ticket), by_django(packet.pk, ticket)
        assert from_front == from_django
        assert from_front[0] == 409
        assert from_front[1]["code"] == code


def test_forged_expired_and_other_packets_tickets_are_refused_like_django_does(
    front, shop, owner, community, commit, gate
):
    packet = fund(shop, owner, commit, community)
    other = fund(shop, owner, commit, community)
    wang = member_of(community, "王小明")
    good = ticket_for(wang, packet)
    expired = tickets.sign(wang.pk, packet.pk, now=0).token

    for ticket, status, code in (
        (good[:-2] + "xx", 403, "red_packet_ticket_invalid"),
        (ticket_for(wang, other), 403, "red_packet_ticket_invalid"),
        (expired, 401, "red_packet_ticket_expired"),
    ):
        from_front = by_front(front, packet.pk, ticket)
        assert from_front == by_django(packet.pk, ticket)
        assert (from_front[0], from_front[1]["code"]) == (status, code)
    assert not RedPacketGrab.objects.exists()


def test_a_pool_the_gate_lost_is_rebuilt_through_the_front(front, shop, owner, community, commit, gate):
    packet = fund(shop, owner, commit, community, count=2)
    wang, li = member_of(community, "王小明"), member_of(community, "李雷")
    assert by_front(front, packet.pk, ticket_for(wang, packet))[0] == 202
    actions.materialise_grabs()
    gate.forget(pool_key(packet.pk))

    assert by_front(front, packet.pk, ticket_for(wang, packet))[1]["code"] == "red_packet_already_grabbed"
    assert by_front(front, packet.pk, ticket_for(li, packet))[0] == 202
    assert gate.state(pool_key(packet.pk)).units_left == 0
