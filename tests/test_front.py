"""The thin front (shequn/front.py) through its ASGI callable, on the LocalGate and on Redis.

Each situation is asked of the front and of the Django endpoint (the same path, the same ticket,
Django's test client): the status and the JSON must be the same. Requests the front hands to
Django run in a2wsgi's threads, so these tests commit (transaction=True) for those threads to see
the rows.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine
from django.conf import settings
from django.test import Client

from shequn.flashsales import actions, selectors, tickets
from shequn.flashsales.models import FlashClaim, pool_key
from shequn.flashsales.tests.conftest import buyer, commit, item_of, make_running, sku
from shequn.front import Front, application
from shequn.gate.base import Gate, RateLimits
from shequn.gate.engine import get_gate, use_gate
from shequn.gate.local import LocalGate
from shequn.gate.redis import RedisGate
from shequn.orders.actions import close_unpaid_order
from shequn.orders.models import Order
from shequn.testing.gate import engine_in_use
from shequn.testing.orders import auth_headers
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import operator, shop

__all__ = ["commit", "operator", "sandbox", "sandbox_key_dir", "shop", "sku"]

pytestmark = pytest.mark.django_db(transaction=True)

MEMBER_LIMIT = 6  # attempts per member per minute at the gate, so one test can reach it
LIMITS = RateLimits(per_member=MEMBER_LIMIT, per_ip=1_000, window_ms=60_000)


@pytest.fixture(params=["local", "redis"])
def gate(request: pytest.FixtureRequest) -> Iterator[Gate]:
    with engine_in_use(request, request.param, LIMITS) as engine:
        yield engine


@pytest.fixture
def front() -> Front:
    return Front(application.django)  # a fresh front (its own counters) over the one Django app


@pytest.fixture
def sale(shop, operator, sku, commit, sandbox, gate) -> Any:
    """Running now: 2 units, 1 per member."""
    return make_running(shop, operator, sku, commit, quantity=2)


def path(item_id: int) -> str:
    return f"/api/v1/flashsales/items/{item_id}/attempts"


def ask_front(front: Front, *requests: tuple[str, str, dict[str, str], bytes]) -> list[httpx.Response]:
    """Send requests one after the other through the front's ASGI callable on one event loop."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=front, client=("10.0.0.7", 50_000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return [
                    await client.request(method, url, headers=headers, content=body)
                    for method, url, headers, body in requests
                ]
        finally:
            gate = get_gate()
            if isinstance(gate, RedisGate):
                await gate.aclose()  # this loop's connections end with it

    return asyncio.run(go())


def attempt_front(front: Front, item_id: int, ticket: str, body: bytes = b'{"quantity": 1}') -> httpx.Response:
    return ask_front(front, ("POST", path(item_id), ticket_headers(ticket), body))[0]


def attempt_django(item_id: int, ticket: str, body: bytes = b'{"quantity": 1}') -> Any:
    return Client().post(path(item_id), body, content_type="application/json", headers=ticket_headers(ticket))


def ticket_headers(ticket: str) -> dict[str, str]:
    return {tickets.HEADER: ticket, "Content-Type": "application/json"}


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, json.loads(response.content)


def ticket_for(member: Any, item: Any) -> str:
    return actions.issue_ticket(member, item.pk).token


def test_admitted_through_the_front_the_claim_becomes_an_order_and_refusals_match_django(front, sale, gate):
    item = item_of(sale)
    first, second, third = buyer("一号"), buyer("二号"), buyer("三号")

    status, body = answer(attempt_front(front, item.pk, ticket_for(first, item)))
    assert status == 202
    assert set(body) == {"claim_id", "status", "units_left"}
    assert (body["status"], body["units_left"]) == ("queued", 1)
    # The Django endpoint admits the same way (same shape), for the second member.
    status, by_django = answer(attempt_django(item.pk, ticket_for(second, item)))
    assert (status, set(by_django), by_django["units_left"]) == (202, set(body), 0)

    # The same refusals, in the same words, from both.
    over_cap = answer(attempt_front(front, item.pk, ticket_for(first, item)))
    assert over_cap == answer(attempt_django(item.pk, ticket_for(first, item)))
    assert over_cap == (
        409,
        {"code": "flash_over_cap", "message": "每人限购 1 件", "details": {"refusal": "over_cap"}},
    )
    sold_out = answer(attempt_front(front, item.pk, ticket_for(third, item)))
    assert sold_out == answer(attempt_django(item.pk, ticket_for(third, item)))
    assert sold_out == (409, {"code": "flash_sold_out", "message": "已抢光", "details": {"refusal": "sold_out"}})

    # The consumer turns the front's claim into an order at the flash price, like any other claim.
    assert actions.materialise_claims().ordered == 2
    order = Order.objects.get(user=first)
    assert FlashClaim.objects.get(claim_id=body["claim_id"]).order_id == order.pk
    assert order.lines.get().unit_price_fen == item.flash_price_fen
    assert actions.reconcile(item).ok
    # Every attempt was counted (the front's counts reach the cache in batches).
    front.counts.flush()
    assert selectors.attempts_seen(item.pk) == 6


def test_expired_forged_and_other_items_tickets_are_refused_like_django_does(
    front, sale, gate, shop, operator, sku, commit
):
    item = item_of(sale)
    member = buyer()
    valid = ticket_for(member, item)
    expired = actions.issue_ticket(member, item.pk, now=1_000_000).token
    forged = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")
    other_sale = make_running(shop, operator, sku, commit)
    other_item = item_of(other_sale)
    cases = {
        expired: (401, "flash_ticket_expired", "抢购凭证已过期，请刷新页面"),
        forged: (403, "flash_ticket_invalid", "抢购凭证无效，请刷新页面"),
        "12.34.1.9999999999.not-a-signature": (403, "flash_ticket_invalid", "抢购凭证无效，请刷新页面"),
        "garbage": (403, "flash_ticket_invalid", "抢购凭证无效，请刷新页面"),
        ticket_for(member, other_item): (403, "flash_ticket_invalid", "抢购凭证与商品不符，请刷新页面"),
    }
    for token, (status, code, message) in cases.items():
        by_front = answer(attempt_front(front, item.pk, token))
        assert by_front == (status, {"code": code, "message": message}), token
        assert by_front == answer(attempt_django(item.pk, token)), token
    assert gate.state(pool_key(item.pk)).admitted_units == 0
    # A body the fast path does not take goes to Django, which answers it (ticket valid, quantity 0).
    invalid = answer(attempt_front(front, item.pk, valid, b'{"quantity": 0}'))
    assert invalid == answer(attempt_django(item.pk, valid, b'{"quantity": 0}'))
    assert (invalid[0], invalid[1]["code"]) == (422, "invalid_input")


def test_a_pool_the_gate_lost_is_rebuilt_from_the_database_and_admits(front, sale, gate):
    item = item_of(sale)
    member = buyer()
    gate.forget(pool_key(item.pk))  # Redis lost its data, or the process restarted
    status, body = answer(attempt_front(front, item.pk, ticket_for(member, item)))
    assert (status, body["units_left"]) == (202, 1)
    assert gate.state(pool_key(item.pk)).ready
    assert actions.materialise_claims().ordered == 1
    assert Order.objects.filter(user=member).count() == 1


def test_the_gates_rate_limit_answers_429_in_the_same_words(front, sale, gate):
    item = item_of(sale)
    member = buyer()
    ticket = ticket_for(member, item)
    answers = [answer(attempt_front(front, item.pk, ticket)) for _ in range(MEMBER_LIMIT + 1)]
    assert [status for status, _ in answers] == [202] + [409] * (MEMBER_LIMIT - 1) + [429]
    limited = (
        429,
        {"code": "flash_rate_limited", "message": "操作太频繁，请稍后再试", "details": {"refusal": "rate_limited"}},
    )
    assert answers[-1] == limited
    assert answer(attempt_django(item.pk, ticket)) == limited


def test_everything_else_is_served_by_django_through_the_front(front, sale, gate):
    item = item_of(sale)
    member = buyer()
    bearer = auth_headers(member)
    sale_path = f"/api/v1/flashsales/sales/{sale.pk}"
    by_django = answer(Client(headers=bearer).get(sale_path))
    page, bought, refused = ask_front(
        front,
        ("GET", sale_path, bearer, b""),
        # No ticket: the bearer token signs the member in, and Django decides the attempt.
        ("POST", path(item.pk), {**bearer, "Content-Type": "application/json"}, b'{"quantity": 1}'),
        ("POST", path(item.pk), {**bearer, "Content-Type": "application/json"}, b'{"quantity": 1}'),
    )
    assert answer(page) == by_django
    assert (bought.status_code, bought.json()["units_left"]) == (202, 1)
    assert answer(refused) == (
        409,
        {"code": "flash_over_cap", "message": "每人限购 1 件", "details": {"refusal": "over_cap"}},
    )
    # Not signed in, no ticket: Django's 401.
    anonymous = ask_front(front, ("POST", path(item.pk), {"Content-Type": "application/json"}, b"{}"))[0]
    assert answer(anonymous) == (401, {"code": "not_authenticated", "message": "请先登录"})
    # The ticket endpoint: the member's ticket for this item, accepted by the front.
    issued = ask_front(front, ("POST", f"/api/v1/flashsales/items/{item.pk}/ticket", bearer, b""))[0]
    assert issued.status_code == 200
    assert tickets.verify(issued.json()["ticket"], item.pk).member_id == member.pk


def test_tickets_are_not_issued_to_outsiders_of_a_community_only_sale(shop, operator, sku, commit, sandbox, gate):
    from shequn.testing.factories import CommunityFactory, MembershipFactory

    community = CommunityFactory.create(shop=shop)
    sale = make_running(shop, operator, sku, commit, community_id=community.pk)
    item = item_of(sale)
    inside, outside = buyer("社员"), buyer("路人")
    MembershipFactory.create(community=community, user=inside)
    refused = Client(headers=auth_headers(outside)).post(f"/api/v1/flashsales/items/{item.pk}/ticket")
    assert answer(refused) == (403, {"code": "flash_members_only", "message": "本场秒杀仅限社群成员参与，请先加入社群"})
    granted = Client(headers=auth_headers(inside)).post(f"/api/v1/flashsales/items/{item.pk}/ticket")
    assert tickets.verify(granted.json()["ticket"], item.pk).member_id == inside.pk


def test_django_reads_request_bodies_from_a_server_whose_receive_is_not_a_coroutine(front, sale, gate):
    """granian's receive() returns a future, not a coroutine (a2wsgi needs the latter)."""
    item = item_of(sale)
    headers = [(name.lower().encode(), value.encode()) for name, value in auth_headers(buyer()).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path(item.pk),
        "raw_path": path(item.pk).encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"15"),
            *headers,
        ],
        "client": ("10.0.0.7", 50_000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def go() -> None:
        def receive() -> asyncio.Future[dict[str, Any]]:
            future = asyncio.get_running_loop().create_future()
            future.set_result({"type": "http.request", "body": b'{"quantity": 1}', "more_body": False})
            return future

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await front(scope, receive, send)

    asyncio.run(go())
    assert sent[0]["status"] == 202
    assert json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["units_left"] == 1


def test_a_unit_released_by_the_task_process_sells_again_through_the_front(front, sale, gate, monkeypatch):
    """make run's task consumer closes unpaid orders with its own (empty) in-process gate: the unit
    reaches the web process's gate when the front finds the item sold out (on Redis, at once)."""
    monkeypatch.setattr(actions.sold_out_checks, "seconds", 0)
    item = item_of(sale)
    first, second, third = buyer("一号"), buyer("二号"), buyer("三号")
    for member in (first, second):
        assert attempt_front(front, item.pk, ticket_for(member, item)).status_code == 202
    actions.materialise_claims()
    order = Order.objects.get(user=first)
    assert order.expires_at is not None
    web_gate = use_gate(LocalGate())  # the task consumer's process
    try:
        with time_machine.travel(order.expires_at + timedelta(seconds=1)):
            assert close_unpaid_order(order.pk)
    finally:
        use_gate(web_gate)
    status, body = answer(attempt_front(front, item.pk, ticket_for(third, item)))
    assert status == 202, body
    actions.materialise_claims()
    assert Order.objects.filter(user=third).count() == 1
    assert actions.reconcile(item).ok


def test_refusals_through_the_front_are_in_the_requests_language_like_django(front, sale, gate):
    item = item_of(sale)
    first, second, third = buyer("一号"), buyer("二号"), buyer("三号")
    for member in (first, second):
        assert answer(attempt_front(front, item.pk, ticket_for(member, item)))[0] == 202
    english = {"Accept-Language": "en"}
    by_cookie = {"Cookie": f"{settings.LANGUAGE_COOKIE_NAME}=en", "Accept-Language": "zh-hans"}

    def both(member: Any, headers: dict[str, str]) -> tuple[Any, Any]:
        ticket = ticket_for(member, item)
        by_front = ask_front(front, ("POST", path(item.pk), {**ticket_headers(ticket), **headers}, b'{"quantity": 1}'))
        by_django = Client(headers=headers).post(
            path(item.pk), b'{"quantity": 1}', content_type="application/json", headers=ticket_headers(ticket)
        )
        return answer(by_front[0]), answer(by_django)

    over_cap, django_over_cap = both(first, english)
    assert over_cap == django_over_cap
    assert over_cap[1]["message"] == "Limit 1 per person"
    sold_out, django_sold_out = both(third, by_cookie)  # the language cookie wins over the header
    assert sold_out == django_sold_out
    assert sold_out[1]["message"] == "Sold out"
    # Without either, the default language: Chinese.
    assert answer(attempt_front(front, item.pk, ticket_for(third, item)))[1]["message"] == "已抢光"
