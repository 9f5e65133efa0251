"""接龙 sign-ups through the thin front (shequn/front.py) with a gate ticket, on the LocalGate and on
Redis: each situation is asked of the front and of the Django endpoint (the same path, the same
ticket, Django's test client), and the status and the JSON must be the same. The front hands what
needs SQL to Django threads, so these tests commit (transaction=True) for those threads to see
the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from shequn.front import Front, application
from shequn.gate.base import Gate, RateLimits
from shequn.groupbuy import actions, selectors, tickets
from shequn.groupbuy.models import SignUp, SignUpClaim, pool_key
from shequn.groupbuy.tests.conftest import ItemInput, join, operator, shop, world
from shequn.orders.models import Order
from shequn.testing.gate import engine_in_use
from shequn.testing.orders import auth_headers

from .test_front import answer, ask_front

__all__ = ["operator", "shop", "world"]

pytestmark = pytest.mark.django_db(transaction=True)

LIMITS = RateLimits(per_member=50, per_ip=1_000, window_ms=60_000)


@pytest.fixture(params=["local", "redis"])
def gate(request: pytest.FixtureRequest) -> Iterator[Gate]:
    with engine_in_use(request, request.param, LIMITS) as engine:
        yield engine


@pytest.fixture
def front() -> Front:
    return Front(application.django)


def path(campaign_id: int) -> str:
    return f"/api/v1/groupbuy/campaigns/{campaign_id}/sign-ups"


def body(quantities: dict[int, int], leader_id: int | None = None) -> bytes:
    rows = [{"item_id": item_id, "quantity": count} for item_id, count in quantities.items()]
    return json.dumps({"quantities": rows, **({"leader_id": leader_id} if leader_id else {})}).encode()


def headers(ticket: str) -> dict[str, str]:
    return {tickets.HEADER: ticket, "Content-Type": "application/json"}


def by_front(front: Front, campaign_id: int, ticket: str, payload: bytes) -> tuple[int, Any]:
    return answer(ask_front(front, ("POST", path(campaign_id), headers(ticket), payload))[0])


def by_django(campaign_id: int, ticket: str, payload: bytes) -> tuple[int, Any]:
    return answer(Client().post(path(campaign_id), payload, content_type="application/json", headers=headers(ticket)))


def ticket_for(member: Any, campaign: Any) -> str:
    return actions.issue_ticket(member, campaign.pk).token


def limited(world: Any, stock: int, cap: int | None) -> tuple[Any, Any]:
    campaign = world.open_campaign(
        items=[ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=stock, per_person_cap=cap)]
    )
    return campaign, campaign.items.get()


def test_a_sign_up_through_the_front_is_written_and_refusals_match_django(front, world, gate):
    campaign, item = limited(world, stock=2, cap=1)
    wang, li, zhang = world.members["王小明"], world.members["李阿姨"], world.members["张三"]
    one = body({item.pk: 1})

    status, queued = by_front(front, campaign.pk, ticket_for(wang, campaign), one)
    assert status == 202
    assert (queued["state"], queued["state_label"], queued["refused"], queued["sign_up"]) == (
        "queued",
        "排队中",
        [],
        None,
    )
    # The Django endpoint admits the same way, in the same shape (for the second member).
    status, also = by_django(campaign.pk, ticket_for(li, campaign), one)
    assert (status, set(also)) == (202, set(queued))
    assert actions.materialise_claims() == actions.Materialised(signed_up=2)
    assert SignUp.objects.get(user=wang).order.total_fen == 5900
    assert SignUpClaim.objects.get(claim_id=queued["ticket"]).sign_up.user_id == wang.pk

    cases = {
        # 每人限购: the count of what the member holds needs SQL (a Django thread for the front).
        (wang, json.dumps({"quantities": [{"item_id": item.pk, "quantity": 1}]}).encode()): (
            409,
            {
                "code": "campaign_cap_exceeded",
                "message": "「三文鱼 500g」每人限购 1 件，你已接龙 1 件",
                "details": {"item_id": item.pk, "cap": 1},
            },
        ),
        (zhang, one): (
            409,
            {
                "code": "campaign_sold_out",
                "message": "「三文鱼 500g」已接满",
                "details": {"item_id": item.pk, "left": 0},
            },
        ),
        (zhang, body({item.pk + 1_000: 1})): (
            422,
            {"code": "campaign_invalid", "message": "商品不在本次接龙中", "details": {"field": "quantities"}},
        ),
        (zhang, body({item.pk: 1}, leader_id=world.leader_east.pk + 1_000)): (
            404,
            {"code": "leader_not_found", "message": "请选择你的团长"},
        ),
    }
    for (member, payload), expected in cases.items():
        ticket = ticket_for(member, campaign)
        assert by_front(front, campaign.pk, ticket, payload) == expected, expected
        assert by_django(campaign.pk, ticket, payload) == expected, expected
    assert SignUp.objects.count() == 2
    assert selectors.reconcile(item).ok


def test_forged_expired_and_other_campaigns_tickets_are_refused_like_django_does(front, world, gate):
    campaign, item = limited(world, stock=5, cap=None)
    other, _ = limited(world, stock=5, cap=None)
    member = world.members["王小明"]
    valid = ticket_for(member, campaign)
    expired = actions.issue_ticket(member, campaign.pk, now=1_000_000).token
    forged = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")
    cases = {
        expired: (401, "campaign_ticket_expired", "接龙凭证已过期，请刷新页面"),
        forged: (403, "campaign_ticket_invalid", "接龙凭证无效，请刷新页面"),
        "1.2.3.4-5.6.9999999999.not-a-signature": (403, "campaign_ticket_invalid", "接龙凭证无效，请刷新页面"),
        "garbage": (403, "campaign_ticket_invalid", "接龙凭证无效，请刷新页面"),
        ticket_for(member, other): (403, "campaign_ticket_invalid", "接龙凭证与活动不符，请刷新页面"),
    }
    for token, (status, code, message) in cases.items():
        refused = by_front(front, campaign.pk, token, body({item.pk: 1}))
        assert refused == (status, {"code": code, "message": message}), token
        assert refused == by_django(campaign.pk, token, body({item.pk: 1})), token
    assert gate.state(pool_key(item.pk)).admitted_units == 0
    # A body the fast path does not take goes to Django, which answers it (ticket valid, quantity 0).
    invalid = by_front(front, campaign.pk, valid, body({item.pk: 0}))
    assert invalid == by_django(campaign.pk, valid, body({item.pk: 0}))
    assert (invalid[0], invalid[1]["code"]) == (422, "invalid_input")


def test_a_request_for_two_items_through_the_front_is_one_sign_up_with_the_chosen_leader(front, world, gate):
    campaign = world.open_campaign(
        items=[
            ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=5),
            ItemInput(sku_id=world.shrimp.pk, price_fen=3900, stock_limit=1),
        ]
    )
    salmon, shrimp = campaign.items.order_by("pk")
    wang, li = world.members["王小明"], world.members["李阿姨"]
    west = world.leader_west.pk  # not 王小明's default (he lives in 东苑)
    status, first = by_front(front, campaign.pk, ticket_for(wang, campaign), body({salmon.pk: 2, shrimp.pk: 1}, west))
    assert (status, first["refused"]) == (202, [])
    # The shrimp is gone: the salmon stays queued and the answer says why the shrimp is not in.
    status, second = by_front(front, campaign.pk, ticket_for(li, campaign), body({salmon.pk: 1, shrimp.pk: 1}))
    assert status == 202
    assert second["refused"] == [{"code": "campaign_sold_out", "message": "「基围虾 1斤」已接满"}]
    actions.materialise_claims()  # (the sold-out answer may have written the queue already)
    assert (SignUp.objects.count(), SignUpClaim.objects.filter(sign_up__isnull=False).count()) == (2, 3)
    entry = SignUp.objects.get(user=wang)
    assert (entry.leader_id, entry.units, entry.order.total_fen) == (west, 3, 2 * 5900 + 3900)
    assert sorted(entry.lines.values_list("item_id", "units")) == [(salmon.pk, 2), (shrimp.pk, 1)]
    assert Order.objects.filter(user=wang).count() == 1
    assert SignUp.objects.get(user=li).units == 1


def test_without_a_ticket_django_answers_and_the_ticket_endpoint_issues_one(front, world, gate):
    campaign, item = limited(world, stock=5, cap=1)
    member = world.members["王小明"]
    bearer = auth_headers(member)
    no_ticket = {**bearer, "Content-Type": "application/json"}
    signed_up, again, issued = ask_front(
        front,
        ("POST", path(campaign.pk), no_ticket, body({item.pk: 1})),
        ("POST", path(campaign.pk), no_ticket, body({item.pk: 1})),
        ("POST", f"/api/v1/groupbuy/campaigns/{campaign.pk}/ticket", bearer, b""),
    )
    assert (signed_up.status_code, signed_up.json()["state"]) == (202, "queued")
    assert answer(again) == (
        409,
        {
            "code": "campaign_cap_exceeded",
            "message": "「三文鱼 500g」每人限购 1 件",
            "details": {"item_id": item.pk, "cap": 1},
        },
    )
    assert issued.status_code == 200
    ticket = tickets.verify(issued.json()["ticket"], campaign.pk)
    assert (ticket.member_id, ticket.item_ids) == (member.pk, (item.pk,))
    assert (ticket.default_leader_id, set(ticket.leader_ids)) == (
        world.leader_east.pk,
        {world.leader_east.pk, world.leader_west.pk},
    )
    # Not signed in, no ticket: Django's 401.
    anonymous = ask_front(front, ("POST", path(campaign.pk), {"Content-Type": "application/json"}, b"{}"))[0]
    assert answer(anonymous) == (401, {"code": "not_authenticated", "message": "请先登录"})


def test_tickets_are_not_issued_outside_the_campaigns_communities(world, gate):
    from shequn.testing.factories import CommunityFactory

    campaign, _ = limited(world, stock=5, cap=None)
    outsider = join(CommunityFactory.create(shop=world.shop), "路人")
    refused = Client(headers=auth_headers(outsider)).post(f"/api/v1/groupbuy/campaigns/{campaign.pk}/ticket")
    assert answer(refused) == (404, {"code": "campaign_not_found", "message": selectors.CAMPAIGN_NOT_FOUND})
    anonymous = Client().post(f"/api/v1/groupbuy/campaigns/{campaign.pk}/ticket")
    assert anonymous.status_code == 401


def test_a_pool_the_gate_lost_is_rebuilt_through_the_front(front, world, gate):
    campaign, item = limited(world, stock=2, cap=None)
    member = world.members["王小明"]
    gate.forget(pool_key(item.pk))  # Redis lost its data, or the process restarted
    status, _ = by_front(front, campaign.pk, ticket_for(member, campaign), body({item.pk: 1}))
    assert status == 202
    assert gate.state(pool_key(item.pk)).ready
    assert actions.materialise_claims() == actions.Materialised(signed_up=1)
    assert selectors.reconcile(item).ok


def test_refusals_through_the_front_are_in_the_requests_language_like_django(front, world, gate):
    campaign, item = limited(world, stock=2, cap=1)
    wang, li, zhang = world.members["王小明"], world.members["李阿姨"], world.members["张三"]
    one = body({item.pk: 1})
    for member in (wang, li):
        assert by_front(front, campaign.pk, ticket_for(member, campaign), one)[0] == 202
    assert actions.materialise_claims() == actions.Materialised(signed_up=2)
    english = {"Accept-Language": "en"}

    def both(member: Any) -> tuple[Any, Any]:
        ticket = ticket_for(member, campaign)
        request = ("POST", path(campaign.pk), {**headers(ticket), **english}, one)
        by_django = Client(headers=english).post(
            path(campaign.pk), one, content_type="application/json", headers=headers(ticket)
        )
        return answer(ask_front(front, request)[0]), answer(by_django)

    # 每人限购's words need SQL, so the front asks a Django thread: it answers in English too.
    over_cap, django_over_cap = both(wang)
    assert over_cap == django_over_cap
    assert over_cap[1]["message"] == "“三文鱼 500g”: limit 1 per person; you already have 1"
    sold_out, django_sold_out = both(zhang)
    assert sold_out == django_sold_out
    assert sold_out[1]["message"] == "“三文鱼 500g” is sold out"
