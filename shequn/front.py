"""The thin front: an ASGI application that answers the crowd moments' gate attempts itself and
hands every other request to Django (docs/adr/0010-gate-front.md, 0012-jielong-through-the-gate.md).

    granian --interface asgi shequn.front:application      # what `make run` and production serve

Two paths are decided here, on the event loop, when they carry their signed gate ticket (an HMAC,
no session, no SQL):

- a flash attempt, ``POST /api/v1/flashsales/items/{id}/attempts`` with ``X-Flash-Ticket``: parse
  the body, verify the ticket, one ``attempt_async`` on the Redis gate (or a direct in-memory
  attempt on the process's LocalGate), count the attempt, answer through the same schema and
  refusal words as the Django endpoint (``FlashAdmissionOut.from_admission``,
  ``actions.refusal_error``);
- a red-packet grab, ``POST /api/v1/redpackets/{id}/grabs`` with ``X-RedPacket-Ticket`` (no body):
  the ticket, one attempt, the answer (docs/adr/0018-red-packets.md);
- a 接龙 sign-up, ``POST /api/v1/groupbuy/campaigns/{id}/sign-ups`` with ``X-Jielong-Ticket``: the
  request checked against the ticket (``groupbuy.actions.ticket_request``), one attempt per item,
  and a one-item admission answered at once; refusals (their words need the campaign's facts, and
  每人限购's "你已接龙 N 件" a query) and multi-item requests (grouped for the consumer in the
  cache) are answered by ``groupbuy.actions.queued`` in a Django thread.

Both answer in the request's language, chosen as Django's LocaleMiddleware chooses it (the
language cookie, then Accept-Language), so the words match Django's in either language.

What needs the database before an answer is final (a pool the gate lost, a sold-out item with
units on their way back) runs in a Django thread too (``settle``). Everything else goes to Django
(WSGI, in a2wsgi's thread pool), including a request without a ticket (session or bearer token)
or with a body the fast path does not accept: Django routes the same paths and answers them the
same way, so with or without this front the documented API is one.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from django.db import close_old_connections
from django.http import HttpRequest, parse_cookie
from django.urls import reverse
from django.utils import translation
from pydantic import ValidationError

# isort: off
from shequn.wsgi import application as django_application  # first: it sets Django up for the models below
from shequn.core.errors import DomainError
from shequn.flashsales import actions, tickets
from shequn.flashsales.models import pool_key
from shequn.flashsales.schemas import FlashAdmissionOut, FlashAttemptIn
from shequn.gate.base import Admission
from shequn.gate.engine import get_gate
from shequn.gate.redis import RedisGate
from shequn.groupbuy import actions as groupbuy
from shequn.groupbuy import tickets as groupbuy_tickets
from shequn.groupbuy.models import pool_key as jielong_pool_key
from shequn.groupbuy.schemas import SignUpIn, SignUpTicketOut
from shequn.redpackets import actions as redpackets
from shequn.redpackets import tickets as redpacket_tickets
from shequn.redpackets.models import pool_key as redpacket_pool_key
from shequn.redpackets.schemas import RedPacketAdmissionOut

# isort: on

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

MAX_BODY = 4096  # a flash attempt is {"quantity": n}, a 接龙 sign-up ≤ 20 items; longer is Django's to judge
COUNT_EVERY_SECONDS = 1.0  # attempt counters reach the cache in batches, off the event loop
TICKET_HEADER = tickets.HEADER.lower().encode()
SIGN_UP_TICKET_HEADER = groupbuy_tickets.HEADER.lower().encode()
RED_PACKET_TICKET_HEADER = redpacket_tickets.HEADER.lower().encode()
JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8"), (b"x-content-type-options", b"nosniff")]


def _path(name: str, argument: str) -> re.Pattern[str]:
    """A URL as Django routes it, with its id as a group (one definition of the path)."""
    sample = 918273645
    before, after = reverse(name, kwargs={argument: sample}).split(str(sample))
    return re.compile(re.escape(before) + r"([1-9][0-9]{0,17})" + re.escape(after))


class AttemptCounts:
    """Attempts per item, written to the cache (``actions.count_attempts``) at most once a second
    from a thread: a cache round trip per attempt would cost the event loop as much as the attempt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}
        self._due = 0.0

    def add(self, item_id: int) -> bool:
        """Count one; True when a flush is due."""
        with self._lock:
            self._counts[item_id] = self._counts.get(item_id, 0) + 1
            now = time.monotonic()
            if now < self._due:
                return False
            self._due = now + COUNT_EVERY_SECONDS
            return True

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
        for item_id, attempts in counts.items():
            actions.count_attempts(item_id, attempts)


async def _in_django_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function`` in a thread, in the request's language (a thread does not inherit it: asgiref's
    Local keeps each thread's own)."""
    language = translation.get_language()

    def run() -> Any:
        try:
            with translation.override(language):
                return function(*args, **kwargs)
        finally:
            close_old_connections()  # as Django does at the end of a request

    return await asyncio.to_thread(run)


class Front:
    def __init__(self, django: ASGIApp) -> None:
        self.django = django
        self.counts = AttemptCounts()
        self._routes = (
            (_path("api:attempt", "item_id"), TICKET_HEADER, self._attempt),
            (_path("api:sign_up", "campaign_id"), SIGN_UP_TICKET_HEADER, self._sign_up),
            (_path("api:red_packet_grab", "packet_id"), RED_PACKET_TICKET_HEADER, self._grab),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "POST":
            for path, header, handler in self._routes:
                if found := path.fullmatch(scope["path"]):
                    token = next((value for name, value in scope["headers"] if name == header), None)
                    if token is not None:
                        with translation.override(_language(scope)):
                            await handler(scope, receive, send, int(found[1]), token.decode("latin-1"))
                        return
                    break
        await self.django(scope, _as_coroutine(receive), send)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, item_id: int, token: str) -> None:
        body, complete = await _read_body(receive)
        try:
            if not complete:
                raise ValueError("too long for an attempt")
            quantity = FlashAttemptIn.model_validate_json(body).quantity
        except (ValueError, ValidationError):
            # Django answers what the fast path does not take, in its own words (422 invalid_input).
            await self.django(scope, _replay(body, complete, receive), send)
            return
        try:
            ticket = tickets.verify(token, item_id)
        except DomainError as error:
            await _answer(send, error.status, error.as_dict())
            return
        if self.counts.add(item_id):
            asyncio.get_running_loop().run_in_executor(None, self.counts.flush)
        client_ip = _client_ip(scope)
        key = pool_key(item_id)
        admission = await _ask_gate(key, ticket.member_id, quantity, client_ip)
        # A lost pool (Django rebuilds it) or a sold-out item with units on their way back.
        if actions.needs_settling(admission, item_id):
            admission = await _in_django_thread(
                actions.settle,
                admission,
                ticket.member_id,
                item_id,
                quantity,
                client_ip=client_ip,
            )
        if admission.admitted:
            await _answer(send, 202, FlashAdmissionOut.from_admission(admission).model_dump())
            return
        assert admission.refusal is not None
        refused = actions.refusal_error(admission.refusal, cap=ticket.cap)
        await _answer(send, refused.status, refused.as_dict())

    async def _sign_up(self, scope: Scope, receive: Receive, send: Send, campaign_id: int, token: str) -> None:
        body, complete = await _read_body(receive)
        try:
            if not complete:
                raise ValueError("too long for a sign-up")
            wanted = SignUpIn.model_validate_json(body)
        except (ValueError, ValidationError):
            await self.django(scope, _replay(body, complete, receive), send)  # 422 in Django's words
            return
        try:
            ticket = groupbuy_tickets.verify(token, campaign_id)
            request = groupbuy.ticket_request(ticket, wanted.quantity_map(), wanted.leader_id)
        except DomainError as error:
            await _answer(send, error.status, error.as_dict())
            return
        if request.notes_leader:
            await _in_django_thread(groupbuy.note_leader, request)
        client_ip = _client_ip(scope)
        admissions: list[Admission] = []
        for item_id, count in sorted(request.wanted.items()):
            admission = await _ask_gate(jielong_pool_key(item_id), request.member_id, count, client_ip)
            if groupbuy.needs_settling(admission, item_id):
                admission = await _in_django_thread(
                    groupbuy.settle,
                    admission,
                    request.member_id,
                    item_id,
                    count,
                    client_ip=client_ip,
                )
            admissions.append(admission)
        queued = groupbuy.queued_at_once(admissions)
        if queued is None:
            try:
                queued = await _in_django_thread(groupbuy.queued, request, admissions)
            except DomainError as error:
                await _answer(send, error.status, error.as_dict())
                return
        assert queued is not None
        await _answer(send, 202, SignUpTicketOut.from_queued(queued).model_dump())

    async def _grab(self, scope: Scope, receive: Receive, send: Send, packet_id: int, token: str) -> None:
        """A red-packet grab carries no body: the ticket, one attempt, the answer."""
        try:
            ticket = redpacket_tickets.verify(token, packet_id)
        except DomainError as error:
            await _answer(send, error.status, error.as_dict())
            return
        client_ip = _client_ip(scope)
        admission = await _ask_gate(redpacket_pool_key(packet_id), ticket.member_id, 1, client_ip)
        if redpackets.needs_settling(admission):  # a lost pool: Django rebuilds it from the tables
            admission = await _in_django_thread(
                redpackets.settle, admission, ticket.member_id, packet_id, client_ip=client_ip
            )
        if admission.admitted:
            await _answer(send, 202, RedPacketAdmissionOut.from_admission(admission).model_dump())
            return
        assert admission.refusal is not None
        refused = redpackets.refusal_error(admission.refusal)
        await _answer(send, refused.status, refused.as_dict())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.counts.flush)
                gate = get_gate()
                if isinstance(gate, RedisGate):
                    await gate.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _language(scope: Scope) -> str:
    """The language LocaleMiddleware would choose for this request: its cookie, then Accept-Language."""
    request = HttpRequest()
    cookies = [value.decode("latin-1") for name, value in scope["headers"] if name == b"cookie"]
    request.COOKIES = parse_cookie("; ".join(cookies))
    for name, value in scope["headers"]:
        if name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
    return translation.get_language_from_request(request)


def _client_ip(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


async def _ask_gate(key: str, member_id: int, quantity: int, client_ip: str | None) -> Admission:
    gate = get_gate()
    if isinstance(gate, RedisGate):
        return await gate.attempt_async(key, member_id, quantity, client_ip=client_ip)
    # The embedded LocalGate lives in this process: a few microseconds under its lock.
    return gate.attempt(key, member_id, quantity, client_ip=client_ip)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, or its first MAX_BODY-odd bytes and False when it is longer."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY:
            return b"".join(chunks), False


def _as_coroutine(receive: Receive) -> Receive:
    """a2wsgi hands ``receive()`` to ``asyncio.run_coroutine_threadsafe``, which takes coroutines
    only; granian's ``receive()`` returns another awaitable."""

    async def coroutine() -> Message:
        return await receive()

    return coroutine


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A receive that gives back what the front already read, then the rest of the request."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return again


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()  # as django-ninja renders (ASCII-escaped, same separators)
    headers = [*JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


# Django's requests run in a2wsgi's threads (WEB_THREADS, as granian's --blocking-threads in WSGI).
# (django-stubs and a2wsgi type the WSGI callable's return differently; it is a WSGI application.)
application = Front(WSGIMiddleware(cast(Any, django_application), workers=int(os.environ.get("WEB_THREADS", "8"))))
