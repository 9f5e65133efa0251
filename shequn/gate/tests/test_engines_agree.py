"""The two engines give the same answers: random sequences of operations (with explicit times, so
both judge the window by the same clock) applied to a LocalGate and a RedisGate side by side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.gate.base import Admission, PoolSpec
from shequn.gate.local import LocalGate
from shequn.gate.redis import RedisGate

POOL = "flash:1:1"
OPENS = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MEMBERS = st.integers(min_value=1, max_value=5)
# The window's edges (opens at 0, priority until 3 s, closes at 10 s) and moments well inside it.
MOMENTS = st.sampled_from([-1, 0, 1, 2_999, 3_000, 5_000, 6_000, 7_000, 9_999, 10_000]).map(
    lambda ms: OPENS + timedelta(milliseconds=ms)
)
ATTEMPT = st.tuples(st.just("attempt"), MEMBERS, st.integers(min_value=1, max_value=3), MOMENTS)

OPERATIONS = st.lists(
    st.one_of(
        ATTEMPT,
        ATTEMPT,
        ATTEMPT,
        st.tuples(st.just("release"), MEMBERS, st.integers(min_value=1, max_value=2)),
        st.tuples(st.just("pause"), st.booleans()),
        st.tuples(st.just("close")),
        st.tuples(st.just("priority"), st.lists(MEMBERS, max_size=3)),
        st.tuples(
            st.just("configure"),
            st.integers(min_value=0, max_value=6),
            st.integers(min_value=1, max_value=3),
            st.dictionaries(MEMBERS, st.integers(min_value=0, max_value=2), max_size=3),
        ),
    ),
    max_size=40,
)


def pool(units: int, cap: int) -> PoolSpec:
    return PoolSpec(
        key=POOL,
        units=units,
        per_member_cap=cap,
        opens_at=OPENS,
        closes_at=OPENS + timedelta(seconds=10),
        priority_until=OPENS + timedelta(seconds=3),
    )


def answer(admission: Admission) -> tuple[bool, object, object]:
    return admission.admitted, admission.refusal, admission.units_left


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_local_and_redis_engines_answer_alike(redis_url, operations):
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    local, remote = LocalGate(), RedisGate(redis_url)
    try:
        for gate in (local, remote):
            gate.configure(pool(4, 2), priority_members=[1, 2])
        for operation in operations:
            match operation:
                case ("attempt", member, quantity, now):
                    assert answer(local.attempt(POOL, member, quantity, now=now)) == answer(
                        remote.attempt(POOL, member, quantity, now=now)
                    ), operation
                case ("release", member, quantity):
                    # The caller releases what a member holds, at most (the contract's "once").
                    quantity = min(quantity, local.state(POOL).held_by_member.get(member, 0))
                    if quantity:
                        local.release(POOL, member, quantity)
                        remote.release(POOL, member, quantity)
                case ("pause", paused):
                    local.set_paused(POOL, paused)
                    remote.set_paused(POOL, paused)
                case ("close",):
                    local.close(POOL)
                    remote.close(POOL)
                case ("priority", members):
                    local.add_priority_members(POOL, members)
                    remote.add_priority_members(POOL, members)
                case ("configure", units, cap, held):
                    local.configure(pool(units, cap), held_by_member=held)
                    remote.configure(pool(units, cap), held_by_member=held)
            assert local.state(POOL) == remote.state(POOL), operation
        local_claims = local.read_claims("flash", "consumer", count=1_000)
        remote_claims = remote.read_claims("flash", "consumer", count=1_000)
        # Equal claims compare everything but the ids and the delivery handles.
        assert [(c.pool_key, c.member_id, c.quantity, c.admitted_at) for c in local_claims] == [
            (c.pool_key, c.member_id, c.quantity, c.admitted_at) for c in remote_claims
        ]
    finally:
        remote.close_connections()
