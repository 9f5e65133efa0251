"""The embedded engine: the gate's state in this process's memory, under one lock.

Correct for one process (``make run``'s single web process and its consumer thread); several
processes would each keep their own units, which is why a scaled-out deployment sets
``REDIS_URL``. Claims not yet consumed are lost with the process; the owner then rebuilds the
pool from its tables (units = quantity less what the database holds), so a restart can lose an
admission but never oversell.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.utils import timezone

from .base import Admission, Claim, PoolSpec, PoolState, RateLimits, Refusal, check_pool_key, owner_of


@dataclass
class _Pool:
    spec: PoolSpec
    units_left: int
    paused: bool
    closed: bool = False
    admitted_units: int = 0
    held: dict[int, int] = field(default_factory=dict)
    priority: set[int] = field(default_factory=set)


@dataclass
class _Delivery:
    claim: Claim
    consumer: str
    delivered_at: float  # time.monotonic()


class _Windows:
    """Fixed windows of attempts per key (``member:7``, ``ip:10.0.0.1``), in this process's memory."""

    def __init__(self, window_ms: int) -> None:
        self._window = window_ms / 1000
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (window started, attempts)
        self._next_sweep = 0.0

    def hit(self, key: str, limit: int, now: float) -> bool:
        """Count one attempt; True while the key is within its limit."""
        if now >= self._next_sweep:  # drop finished windows now and then, so idle keys do not pile up
            self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self._window}
            self._next_sweep = now + self._window
        started, count = self._counts.get(key, (now, 0))
        if now - started >= self._window:
            started, count = now, 0
        self._counts[key] = (started, count + 1)
        return count + 1 <= limit


class LocalGate:
    def __init__(self, *, limits: RateLimits | None = None) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a claim was appended: wake blocked readers
        self._limits = limits
        self._windows = _Windows(limits.window_ms) if limits else None
        self._pools: dict[str, _Pool] = {}
        # owner → claims appended, not yet delivered
        self._new: defaultdict[str, OrderedDict[str, Claim]] = defaultdict(OrderedDict)
        self._pending: dict[str, _Delivery] = {}  # delivered, not yet acknowledged

    # --- pools ----------------------------------------------------------------------------

    def configure(
        self,
        spec: PoolSpec,
        *,
        held_by_member: Mapping[int, int] | None = None,
        priority_members: Iterable[int] = (),
    ) -> None:
        check_pool_key(spec.key)
        with self._lock:
            self._pools[spec.key] = _Pool(
                spec=spec,
                units_left=max(0, spec.units),
                paused=spec.paused,
                held={member: units for member, units in (held_by_member or {}).items() if units > 0},
                priority=set(priority_members),
            )

    def add_priority_members(self, pool_key: str, member_ids: Iterable[int]) -> None:
        with self._lock:
            pool = self._pools.get(pool_key)
            if pool is not None:
                pool.priority.update(member_ids)

    def set_paused(self, pool_key: str, paused: bool) -> None:
        with self._lock:
            pool = self._pools.get(pool_key)
            if pool is not None:
                pool.paused = paused

    def close(self, pool_key: str) -> None:
        with self._lock:
            pool = self._pools.get(pool_key)
            if pool is not None:
                pool.closed = True

    def forget(self, pool_key: str) -> None:
        with self._lock:
            self._pools.pop(pool_key, None)

    def state(self, pool_key: str) -> PoolState:
        with self._lock:
            pool = self._pools.get(pool_key)
            if pool is None:
                return PoolState(key=pool_key, ready=False, units_left=0, paused=False, admitted_units=0)
            return PoolState(
                key=pool_key,
                ready=True,
                units_left=pool.units_left,
                paused=pool.paused,
                admitted_units=pool.admitted_units,
                held_by_member=dict(pool.held),
            )

    # --- attempts -------------------------------------------------------------------------

    def attempt(
        self,
        pool_key: str,
        member_id: int,
        quantity: int = 1,
        *,
        now: datetime | None = None,
        client_ip: str | None = None,
    ) -> Admission:
        if quantity < 1:
            raise ValueError("quantity must be positive")
        now = now or timezone.now()
        with self._lock:
            if self._rate_limited(member_id, client_ip):
                return Admission(admitted=False, refusal=Refusal.RATE_LIMITED)
            pool = self._pools.get(pool_key)
            if pool is None:
                return Admission(admitted=False, refusal=Refusal.NOT_READY)
            refusal = self._refusal(pool, member_id, quantity, now)
            if refusal is not None:
                units = pool.units_left if refusal == Refusal.SOLD_OUT else None
                return Admission(admitted=False, refusal=refusal, units_left=units)
            pool.units_left -= quantity
            pool.admitted_units += quantity
            pool.held[member_id] = pool.held.get(member_id, 0) + quantity
            claim = Claim(
                claim_id=uuid.uuid4().hex,
                pool_key=pool_key,
                member_id=member_id,
                quantity=quantity,
                admitted_at=now,
            )
            self._new[owner_of(pool_key)][claim.claim_id] = claim
            self._arrived.notify_all()
            return Admission(admitted=True, claim_id=claim.claim_id, units_left=pool.units_left)

    def _rate_limited(self, member_id: int, client_ip: str | None) -> bool:
        if self._limits is None or self._windows is None:
            return False
        tick = time.monotonic()
        member_ok = self._windows.hit(f"member:{member_id}", self._limits.per_member, tick)
        ip_ok = client_ip is None or self._windows.hit(f"ip:{client_ip}", self._limits.per_ip, tick)
        return not (member_ok and ip_ok)

    @staticmethod
    def _refusal(pool: _Pool, member_id: int, quantity: int, now: datetime) -> Refusal | None:
        spec = pool.spec
        if now < spec.opens_at:
            return Refusal.NOT_OPEN
        if pool.closed or now >= spec.closes_at:
            return Refusal.CLOSED
        if pool.paused:
            return Refusal.PAUSED
        if spec.priority_until is not None and now < spec.priority_until and member_id not in pool.priority:
            return Refusal.PRIORITY_ONLY
        if pool.held.get(member_id, 0) + quantity > spec.per_member_cap:
            return Refusal.OVER_CAP
        if pool.units_left < quantity:
            return Refusal.SOLD_OUT
        return None

    def release(self, pool_key: str, member_id: int, quantity: int) -> bool:
        if quantity < 1:
            raise ValueError("quantity must be positive")
        with self._lock:
            pool = self._pools.get(pool_key)
            if pool is None:
                return False  # lost, or held by another process: the owner keeps it pending
            pool.units_left += quantity
            held = pool.held.get(member_id, 0) - quantity
            if held > 0:
                pool.held[member_id] = held
            else:
                pool.held.pop(member_id, None)
            return True

    # --- the claim stream -----------------------------------------------------------------

    def read_claims(self, owner: str, consumer: str, *, count: int = 100, block_ms: int = 0) -> list[Claim]:
        deadline = time.monotonic() + block_ms / 1000
        with self._arrived:
            new = self._new[owner]
            while not new:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._arrived.wait(left)
            batch: list[Claim] = []
            while new and len(batch) < count:
                _, claim = new.popitem(last=False)
                delivered = replace(claim, delivery_id=claim.claim_id)
                self._pending[claim.claim_id] = _Delivery(delivered, consumer, time.monotonic())
                batch.append(delivered)
            return batch

    def pending_claims(self, owner: str, consumer: str, *, idle_ms: int = 30_000, count: int = 100) -> list[Claim]:
        now = time.monotonic()
        with self._lock:
            stale = [
                d
                for d in self._pending.values()
                if owner_of(d.claim.pool_key) == owner and (now - d.delivered_at) * 1000 >= idle_ms
            ][:count]
            for delivery in stale:
                delivery.consumer, delivery.delivered_at = consumer, now
            return [delivery.claim for delivery in stale]

    def unacknowledged(self, owner: str) -> list[Claim]:
        with self._lock:
            pending = [d.claim for d in self._pending.values() if owner_of(d.claim.pool_key) == owner]
            return pending + list(self._new[owner].values())

    def ack(self, claims: Iterable[Claim]) -> None:
        with self._lock:
            for claim in claims:
                self._pending.pop(claim.delivery_id or claim.claim_id, None)
