"""The scaled-out engine: the gate's state in Redis, each attempt decided by one Lua script.

Keys (``P`` is the owner's pool key; ``{P}`` is a hash tag, so a Redis Cluster would keep a
pool's keys on one node)::

    gate:{P}:pool       hash  units, cap, opens, closes, priority_until (-1: none), paused, closed,
                              admitted, run (random per configure), seq (claims under this run)
    gate:{P}:held       hash  member id -> units held (field deleted at 0)
    gate:{P}:priority   set   member ids admitted during the priority window
    gate:claims         stream of admitted claims, one consumer group ``consumers``
    gate:rate:member:M  counter of member M's attempts in the current window (PEXPIRE)
    gate:rate:ip:A      counter of address A's attempts in the current window (PEXPIRE)

The pool hash is the pool's existence: when it is missing (never configured, forgotten, or gone
with a Redis that lost its data) every attempt answers ``not_ready`` until the owner rebuilds it
from the database with ``configure``.

Claim ids are ``<run>-<seq>``: ``run`` is 96 random bits drawn by ``configure`` and ``seq``
counts the claims admitted under it. Whatever Redis forgets, the pool is not ready again until
``configure`` draws a new run, so an id can never be handed out twice, and the consumer's unique
``claim_id`` can never swallow a second order as a duplicate of the first.

Times are epoch milliseconds. An attempt without ``now`` reads the Redis server's ``TIME`` inside
the script: every web process judges the window by the same clock.

The attempt script touches the pool's keys, the rate counters and the one claims stream; on a
single Redis (the deployment today) that is one atomic step. A Redis Cluster would need the
stream and counters per hash tag; see docs/adr/0009-admission-gate.md.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import weakref
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ResponseError
from redis.retry import Retry

from .base import Admission, Claim, PoolSpec, PoolState, RateLimits, Refusal, check_pool_key, owner_of

logger = logging.getLogger(__name__)

GROUP = "consumers"
CHUNK = 5_000  # members per command when (re)building big held maps and priority sets
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STAGING_TTL_MS = 600_000
ASYNC_CONNECTIONS = 64  # per event loop (per worker of an asyncio front)

# KEYS: pool, held, priority, stream, member counter, address counter (or a dummy key)
# ARGV: pool key, member, quantity, now ms ('' = server TIME), member limit, address limit
#       (0 = no limit), window ms
# Returns {admitted 0/1, claim id or refusal code, units left or -1}.
ATTEMPT = """
local window = tonumber(ARGV[7])
if window > 0 then
    local over = false
    local member_limit = tonumber(ARGV[5])
    if member_limit > 0 then
        local n = redis.call('INCR', KEYS[5])
        if n == 1 then redis.call('PEXPIRE', KEYS[5], window) end
        if n > member_limit then over = true end
    end
    local address_limit = tonumber(ARGV[6])
    if address_limit > 0 then
        local n = redis.call('INCR', KEYS[6])
        if n == 1 then redis.call('PEXPIRE', KEYS[6], window) end
        if n > address_limit then over = true end
    end
    if over then return {0, 'rate_limited', -1} end
end
local pool = redis.call('HMGET', KEYS[1], 'units', 'cap', 'opens', 'closes', 'priority_until',
                        'paused', 'closed', 'run')
if not pool[1] then return {0, 'not_ready', -1} end
local member = ARGV[2]
local quantity = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
if now < tonumber(pool[3]) then return {0, 'not_open', -1} end
if pool[7] == '1' or now >= tonumber(pool[4]) then return {0, 'closed', -1} end
if pool[6] == '1' then return {0, 'paused', -1} end
local priority_until = tonumber(pool[5])
if priority_until >= 0 and now < priority_until and redis.call('SISMEMBER', KEYS[3], member) == 0 then
    return {0, 'priority_only', -1}
end
local held = tonumber(redis.call('HGET', KEYS[2], member) or '0')
if held + quantity > tonumber(pool[2]) then return {0, 'over_cap', -1} end
local units = tonumber(pool[1])
if units < quantity then return {0, 'sold_out', units} end
units = redis.call('HINCRBY', KEYS[1], 'units', -quantity)
redis.call('HINCRBY', KEYS[1], 'admitted', quantity)
redis.call('HINCRBY', KEYS[2], member, quantity)
local claim = pool[8] .. '-' .. redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[4], '*', 'claim', claim, 'pool', ARGV[1], 'member', member,
           'quantity', quantity, 'at', now)
return {1, claim, units}
"""

# KEYS: pool, held. ARGV: member, quantity.
RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'units', tonumber(ARGV[2]))
local held = redis.call('HINCRBY', KEYS[2], ARGV[1], -tonumber(ARGV[2]))
if held <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
"""

# KEYS: pool. ARGV: field, value. Only a pool that exists: a lone field would look like a pool.
SET_FIELD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# KEYS: pool, priority. ARGV: member ids.
ADD_PRIORITY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], unpack(ARGV))
return 1
"""


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("the gate needs aware datetimes")
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def stream_of(owner: str) -> str:
    """The claims stream of one owner (``base.owner_of``)."""
    return f"gate:claims:{owner}"


def _keys(pool_key: str) -> tuple[str, str, str]:
    prefix = f"gate:{{{pool_key}}}"
    return f"{prefix}:pool", f"{prefix}:held", f"{prefix}:priority"


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class GateServerUnsafe(RuntimeError):
    """The gate's Redis could come back from a restart with an older pool, or drop keys under
    memory pressure: admitting from it could oversell (docs/adr/0009-admission-gate.md)."""


def server_risks(client: redis.Redis) -> list[str]:
    """What in this Redis server's configuration breaks "a lost pool is a missing pool"."""
    config = client.config_get("maxmemory-policy", "save", "appendonly", "appendfsync")
    risks = []
    if config.get("maxmemory-policy", "noeviction") != "noeviction":
        risks.append(
            f"maxmemory-policy is {config['maxmemory-policy']}: an evicted holding forgets a member's cap, "
            "an evicted stream loses claims (set noeviction)"
        )
    if (config.get("save") or "").strip():
        risks.append(
            f'RDB snapshots are on (save {config["save"]!r}): a restart would load an older pool (set save "")'
        )
    if config.get("appendonly") == "yes" and config.get("appendfsync") != "always":
        risks.append(
            f"the append-only file is synced {config.get('appendfsync')}: a crash loses its last writes and a "
            "restart loads an older pool (appendonly no, or appendfsync always)"
        )
    return risks


class RedisGate:
    def __init__(self, url: str, *, limits: RateLimits | None = None, strict: bool = False) -> None:
        """``strict`` (production): refuse to configure pools on a Redis whose settings could bring
        an older pool back after a restart or evict gate keys; otherwise such a server is logged."""
        # No silent retries: an attempt whose answer was lost with the connection may have been
        # admitted, and sending it again would admit the same tap twice (or answer over_cap for
        # a claim that exists). The caller sees the error and the member decides to try again.
        self._client: redis.Redis = redis.Redis.from_url(url, decode_responses=True, retry=Retry(NoBackoff(), 0))
        self._limits = limits
        # redis-py's Script sends EVALSHA and loads the script again when the server answers
        # NOSCRIPT (a restarted Redis has no scripts).
        self._attempt = self._client.register_script(ATTEMPT)
        self._release = self._client.register_script(RELEASE)
        self._set_field = self._client.register_script(SET_FIELD)
        self._add_priority = self._client.register_script(ADD_PRIORITY)
        self._url = url
        self._strict = strict
        self._server_checked = False
        # redis.asyncio clients belong to the event loop that made them: one per loop.
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[redis.asyncio.Redis, AsyncScript]]
        self._async = weakref.WeakKeyDictionary()

    def close_connections(self) -> None:
        self._client.close()

    async def aclose(self) -> None:
        """Close this event loop's asyncio connections (call before the loop ends)."""
        pair = self._async.pop(asyncio.get_running_loop(), None)
        if pair is not None:
            await pair[0].aclose()

    # --- pools ----------------------------------------------------------------------------

    def configure(
        self,
        spec: PoolSpec,
        *,
        held_by_member: Mapping[int, int] | None = None,
        priority_members: Iterable[int] = (),
    ) -> None:
        check_pool_key(spec.key)
        self._check_server()
        pool, held, priority = _keys(spec.key)
        run = secrets.token_hex(12)
        # Big maps are built under staging names first (not atomically, nobody reads them), then
        # swapped in with the pool hash in one MULTI/EXEC: attempts see the old pool or the new
        # one, never a half-built one, and Redis is never blocked for the whole build.
        staging_held, staging_priority = f"{held}:{run}", f"{priority}:{run}"
        holdings = [(member, units) for member, units in (held_by_member or {}).items() if units > 0]
        members = list(dict.fromkeys(priority_members))
        with self._client.pipeline(transaction=False) as fill:
            for part in _chunks(holdings):
                fill.hset(staging_held, mapping=dict(part))
            for part in _chunks(members):
                fill.sadd(staging_priority, *part)
            # Staging keys left by a configure that died half way expire on their own.
            fill.pexpire(staging_held, STAGING_TTL_MS)
            fill.pexpire(staging_priority, STAGING_TTL_MS)
            fill.execute()
        with self._client.pipeline(transaction=True) as swap:
            swap.delete(pool, held, priority)
            if holdings:  # RENAME carries the staging TTL over: PERSIST drops it
                swap.rename(staging_held, held)
                swap.persist(held)
            if members:
                swap.rename(staging_priority, priority)
                swap.persist(priority)
            swap.hset(
                pool,
                mapping={
                    "units": max(0, spec.units),
                    "cap": spec.per_member_cap,
                    "opens": epoch_ms(spec.opens_at),
                    "closes": epoch_ms(spec.closes_at),
                    "priority_until": -1 if spec.priority_until is None else epoch_ms(spec.priority_until),
                    "paused": int(spec.paused),
                    "closed": 0,
                    "admitted": 0,
                    "run": run,
                    "seq": 0,
                },
            )
            swap.execute()

    def _check_server(self) -> None:
        """Once per gate (and again after a refusal): is this Redis safe to admit from?"""
        if self._server_checked:
            return
        try:
            risks = server_risks(self._client)
        except ResponseError as error:  # CONFIG disabled (managed Redis): cannot tell
            logger.warning("cannot read the gate's Redis settings (%s); see docs/adr/0009-admission-gate.md", error)
            risks = []
        if risks and self._strict:
            raise GateServerUnsafe("the admission gate's Redis is unsafe for admissions: " + "; ".join(risks))
        for risk in risks:
            logger.warning("the admission gate's Redis: %s", risk)
        self._server_checked = True

    def add_priority_members(self, pool_key: str, member_ids: Iterable[int]) -> None:
        pool, _, priority = _keys(pool_key)
        for part in _chunks(list(member_ids)):
            self._add_priority(keys=[pool, priority], args=part)

    def set_paused(self, pool_key: str, paused: bool) -> None:
        self._set_field(keys=[_keys(pool_key)[0]], args=["paused", int(paused)])

    def close(self, pool_key: str) -> None:
        self._set_field(keys=[_keys(pool_key)[0]], args=["closed", 1])

    def forget(self, pool_key: str) -> None:
        self._client.delete(*_keys(pool_key))

    def state(self, pool_key: str) -> PoolState:
        pool, held = _keys(pool_key)[:2]
        with self._client.pipeline(transaction=True) as read:
            read.hmget(pool, "units", "paused", "admitted")
            read.hgetall(held)
            (units, paused, admitted), holdings = read.execute()
        if units is None:
            return PoolState(key=pool_key, ready=False, units_left=0, paused=False, admitted_units=0)
        return PoolState(
            key=pool_key,
            ready=True,
            units_left=int(units),
            paused=paused == "1",
            admitted_units=int(admitted),
            held_by_member={int(member): int(count) for member, count in holdings.items()},
        )

    # --- attempts -------------------------------------------------------------------------

    def _attempt_call(
        self, pool_key: str, member_id: int, quantity: int, now: datetime | None, client_ip: str | None
    ) -> tuple[list[str], list[Any]]:
        if quantity < 1:
            raise ValueError("quantity must be positive")
        pool, held, priority = _keys(pool_key)
        limits = self._limits
        member_counter = f"gate:rate:member:{member_id}"
        address_counter = f"gate:rate:ip:{client_ip}" if client_ip else member_counter
        keys = [pool, held, priority, stream_of(owner_of(pool_key)), member_counter, address_counter]
        args: list[Any] = [
            pool_key,
            member_id,
            quantity,
            "" if now is None else epoch_ms(now),
            limits.per_member if limits else 0,
            limits.per_ip if limits and client_ip else 0,
            limits.window_ms if limits else 0,
        ]
        return keys, args

    @staticmethod
    def _admission(answer: list[Any]) -> Admission:
        admitted, text, units = int(answer[0]), str(answer[1]), int(answer[2])
        if admitted:
            return Admission(admitted=True, claim_id=text, units_left=units)
        return Admission(admitted=False, refusal=Refusal(text), units_left=units if units >= 0 else None)

    def attempt(
        self,
        pool_key: str,
        member_id: int,
        quantity: int = 1,
        *,
        now: datetime | None = None,
        client_ip: str | None = None,
    ) -> Admission:
        keys, args = self._attempt_call(pool_key, member_id, quantity, now, client_ip)
        return self._admission(self._attempt(keys=keys, args=args))

    async def attempt_async(
        self,
        pool_key: str,
        member_id: int,
        quantity: int = 1,
        *,
        now: datetime | None = None,
        client_ip: str | None = None,
    ) -> Admission:
        """``attempt`` for an asyncio front (a thin ASGI/RSGI handler): the same script, the same
        answer, through redis.asyncio on the running loop."""
        keys, args = self._attempt_call(pool_key, member_id, quantity, now, client_ip)
        loop = asyncio.get_running_loop()
        pair = self._async.get(loop)
        if pair is None:
            # A front may have thousands of attempts in flight: they queue for one of a few dozen
            # connections (a script call takes Redis ~11 µs) rather than failing or opening thousands.
            connections = redis.asyncio.BlockingConnectionPool.from_url(
                self._url,
                max_connections=ASYNC_CONNECTIONS,
                timeout=None,
                decode_responses=True,
                retry=AsyncRetry(NoBackoff(), 0),
            )
            client = redis.asyncio.Redis.from_pool(connections)  # closing the client closes the pool
            pair = self._async[loop] = (client, client.register_script(ATTEMPT))
        return self._admission(await pair[1](keys=keys, args=args))

    def release(self, pool_key: str, member_id: int, quantity: int) -> bool:
        if quantity < 1:
            raise ValueError("quantity must be positive")
        pool, held, _ = _keys(pool_key)
        # A pool that is gone is rebuilt from the database, which counts the released units.
        return bool(self._release(keys=[pool, held], args=[member_id, quantity]))

    # --- the claim stream -----------------------------------------------------------------

    def _ensure_group(self, stream: str) -> None:
        try:
            # From id 0: claims appended before the group existed (or after Redis lost it) are read.
            self._client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def _with_group(self, stream: str, command: Any) -> Any:
        try:
            return command()
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
        self._ensure_group(stream)  # first use, or the stream vanished with Redis's data
        return command()

    def read_claims(self, owner: str, consumer: str, *, count: int = 100, block_ms: int = 0) -> list[Claim]:
        stream = stream_of(owner)
        answer = self._with_group(
            stream,
            lambda: self._client.xreadgroup(
                GROUP, consumer, {stream: ">"}, count=count, block=block_ms if block_ms > 0 else None
            ),
        )
        return [_claim(entry_id, fields) for _, entries in answer or [] for entry_id, fields in entries]

    def pending_claims(self, owner: str, consumer: str, *, idle_ms: int = 30_000, count: int = 100) -> list[Claim]:
        stream = stream_of(owner)
        claims: list[Claim] = []
        cursor = "0-0"
        while len(claims) < count:
            answer = self._with_group(
                stream,
                lambda start=cursor: self._client.xautoclaim(
                    stream, GROUP, consumer, min_idle_time=idle_ms, start_id=start, count=count - len(claims)
                ),
            )
            cursor, entries = answer[0], answer[1]
            # An entry deleted from the stream while pending comes back empty (and leaves the PEL).
            claims.extend(_claim(entry_id, fields) for entry_id, fields in entries if fields)
            if cursor == "0-0":
                break
        return claims

    def unacknowledged(self, owner: str) -> list[Claim]:
        # An acknowledged claim is deleted from the stream (``ack``): the stream is the answer.
        entries: Any = self._client.xrange(stream_of(owner), "-", "+")
        return [_claim(entry_id, fields) for entry_id, fields in entries if fields]

    def ack(self, claims: Iterable[Claim]) -> None:
        by_stream: dict[str, list[str]] = {}
        for claim in claims:
            if claim.delivery_id:
                by_stream.setdefault(stream_of(owner_of(claim.pool_key)), []).append(claim.delivery_id)
        if not by_stream:
            return
        # XACK then XDEL, in one transaction: with a single consumer group an acknowledged claim is
        # needed by nobody, so the stream holds exactly the claims not yet safely in the database.
        # A MAXLEN/MINID trim could cut claims a slow consumer has not read yet.
        with self._client.pipeline(transaction=True) as done:
            for stream, ids in by_stream.items():
                done.xack(stream, GROUP, *ids)
                done.xdel(stream, *ids)
            done.execute()


def _claim(entry_id: str, fields: Mapping[str, str]) -> Claim:
    return Claim(
        claim_id=fields["claim"],
        pool_key=fields["pool"],
        member_id=int(fields["member"]),
        quantity=int(fields["quantity"]),
        admitted_at=from_epoch_ms(int(fields["at"])),
        delivery_id=entry_id,
    )
