"""The admission gate: who gets one of a limited number of units when a crowd claims at once.

Flash sales, red packets, instant-win draws, 接龙 bursts and crowdfunding pledges are the same
moment: many members claim a limited thing in the same second. The gate decides each attempt in
memory, atomically and without SQL (Redis with one Lua script per attempt when ``REDIS_URL`` is
set; ``LocalGate`` in one process otherwise), records every admitted claim in an append-only
stream, and answers at once. Consumers read the stream in batches and turn claims into rows
(orders, entries, pledges) through the owning app's actions; the database stays the truth.

A *pool* is one limited thing (a flash SKU in one session, a red packet's shares). The owning app
names it (``"flash:12:34"``) and (re)builds it from its own tables with ``configure``: units left,
what each member already holds, who may claim during the priority window. A pool the gate does
not know (never configured, or lost when Redis restarted) admits nobody (``not_ready``) until the
owner rebuilds it from the database, so a lost gate can never oversell.

Engines differ only in where the state lives; both follow this module's contract, and the same
tests run against both (``shequn/gate/tests``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class Refusal(StrEnum):
    """Why an attempt was not admitted. Stable codes: pages and the API show their own words."""

    NOT_READY = "not_ready"  # the pool is unknown to the gate (not configured, or lost): rebuild first
    NOT_OPEN = "not_open"  # before opens_at
    CLOSED = "closed"  # at or after closes_at, or ended early
    PAUSED = "paused"  # the operator paused it
    PRIORITY_ONLY = "priority_only"  # inside the priority window and the member is not in the priority set
    OVER_CAP = "over_cap"  # the member would hold more than per_member_cap
    SOLD_OUT = "sold_out"  # fewer units left than asked for
    # Too many attempts from this member or this client address in the limiter's window (bots
    # hammering the gate); checked first, so a refused flood costs one counter and nothing else.
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class RateLimits:
    """Attempts allowed per member and per client address in one window, counted before anything
    else (refused attempts count too). An engine built without limits never answers rate_limited."""

    per_member: int = 10
    per_ip: int = 200
    window_ms: int = 1_000


POOL_KEY = re.compile(r"[A-Za-z0-9:_-]{1,100}")


def owner_of(pool_key: str) -> str:
    """The app that owns a pool: its key up to the first colon ("flash" for "flash:12"). Each owner's
    claims go to a stream of their own, so one owner's consumers never hold up another's claims."""
    return pool_key.split(":", 1)[0]


def check_pool_key(key: str) -> None:
    """Engines refuse other names at configure (Redis builds key names and a hash tag from it)."""
    if not POOL_KEY.fullmatch(key):
        raise ValueError(f"pool key must be 1-100 characters of [A-Za-z0-9:_-], not {key!r}")


@dataclass(frozen=True)
class PoolSpec:
    """One limited thing at the gate, as its owner's tables say it is now."""

    key: str  # the owner's name for it, e.g. "flash:12:34"; at most 100 characters of [A-Za-z0-9:_-]
    units: int  # units left to admit now (the quantity less what live claims and orders hold)
    per_member_cap: int  # most units one member may hold from this pool (admitted and not released)
    opens_at: datetime
    closes_at: datetime
    # Until this moment only members in the priority set (e.g. those who reserved) are admitted.
    priority_until: datetime | None = None
    paused: bool = False


@dataclass(frozen=True)
class Admission:
    """The gate's answer to one attempt."""

    admitted: bool
    refusal: Refusal | None = None
    claim_id: str | None = None  # unique across the gate; the consumer's idempotency key
    units_left: int | None = None  # after this attempt (admitted or sold out); None when not known


@dataclass(frozen=True)
class Claim:
    """An admitted attempt, as a consumer reads it from the stream."""

    claim_id: str
    pool_key: str
    member_id: int
    quantity: int
    admitted_at: datetime
    delivery_id: str = field(default="", compare=False)  # the engine's handle, passed back to ack()


@dataclass(frozen=True)
class PoolState:
    """What the gate holds for a pool now (for the console and the reconciler)."""

    key: str
    ready: bool  # False: unknown to the gate; rebuild before admitting
    units_left: int
    paused: bool
    admitted_units: int  # units admitted since the pool was last configured
    held_by_member: Mapping[int, int] = field(default_factory=dict)


class Gate(Protocol):
    """The one interface every engine implements."""

    def configure(
        self,
        spec: PoolSpec,
        *,
        held_by_member: Mapping[int, int] | None = None,
        priority_members: Iterable[int] = (),
    ) -> None:
        """(Re)build the pool from the owner's truth, replacing whatever the gate held for it."""

    def add_priority_members(self, pool_key: str, member_ids: Iterable[int]) -> None:
        """Let these members claim during the priority window (e.g. they reserved)."""

    def set_paused(self, pool_key: str, paused: bool) -> None: ...

    def close(self, pool_key: str) -> None:
        """End the pool now: no further admissions (the claims already made stay)."""

    def attempt(
        self,
        pool_key: str,
        member_id: int,
        quantity: int = 1,
        *,
        now: datetime | None = None,
        client_ip: str | None = None,
    ) -> Admission:
        """Decide one attempt atomically: rate limits (when the engine has them; the per-address one
        only when ``client_ip`` is given), open, not paused, priority rule, cap, units; on success
        take the units, record the member's holding and append the claim to the stream.

        ``now`` is for tests and replays; without it the engine's own clock decides (Redis: the
        server's TIME, one clock for every web process)."""

    def release(self, pool_key: str, member_id: int, quantity: int) -> bool:
        """Give ``quantity`` units back to the pool and lower the member's holding (an unpaid order
        closed, a claim that could not become an order). The caller makes sure it happens once.

        False (and nothing changed) when this gate does not know the pool: it was lost (the
        owner's rebuild counts the units instead), or, for the in-process engine, it lives in
        another process (a task consumer closing an order); the owner keeps the release pending
        and gives it to the gate that holds the pool."""

    def read_claims(self, owner: str, consumer: str, *, count: int = 100, block_ms: int = 0) -> list[Claim]:
        """Up to ``count`` of ``owner``'s claims (pools named ``owner:…``) not yet delivered to any of
        its consumers, oldest first."""

    def pending_claims(self, owner: str, consumer: str, *, idle_ms: int = 30_000, count: int = 100) -> list[Claim]:
        """``owner``'s claims delivered but not acknowledged for at least ``idle_ms`` (a consumer died):
        handed to ``consumer`` to process again. Processing must be idempotent by claim_id."""

    def ack(self, claims: Iterable[Claim]) -> None:
        """The claims are safely in the database; the stream may forget them."""

    def unacknowledged(self, owner: str) -> list[Claim]:
        """Every claim of ``owner`` not acknowledged yet, delivered to a consumer or not: what the
        database may not hold yet. A pool rebuilt from the tables while its pool lives counts
        these as taken too (a claim written but not yet acknowledged is counted twice until it
        is: the gate then admits fewer, never more)."""

    def state(self, pool_key: str) -> PoolState: ...

    def forget(self, pool_key: str) -> None:
        """Drop the pool's state (tests, and a sale deleted before it ran)."""
