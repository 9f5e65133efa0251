import pytest

from shequn.core.errors import Conflict, InvalidInput, NotFound
from shequn.core.idempotency import run_idempotent
from shequn.core.models import IdempotencyKey
from shequn.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_same_key_and_body_replays_the_first_response():
    user = UserFactory.create()
    calls = []

    def handler():
        calls.append(1)
        return 201, {"order": len(calls)}

    first = run_idempotent(user=user, scope="t", key="k1", payload={"a": 1}, handler=handler)
    second = run_idempotent(user=user, scope="t", key="k1", payload={"a": 1}, handler=handler)
    assert first == second == (201, {"order": 1})
    assert len(calls) == 1


def test_same_key_with_another_body_is_refused():
    user = UserFactory.create()
    run_idempotent(user=user, scope="t", key="k1", payload={"a": 1}, handler=lambda: (201, {}))
    with pytest.raises(InvalidInput) as error:
        run_idempotent(user=user, scope="t", key="k1", payload={"a": 2}, handler=lambda: (201, {}))
    assert error.value.status == 422


def test_retry_while_the_first_runs_gets_409():
    user = UserFactory.create()
    IdempotencyKey.objects.create(user=user, scope="t", key="k1", fingerprint=_fp({"a": 1}))
    with pytest.raises(Conflict) as error:
        run_idempotent(user=user, scope="t", key="k1", payload={"a": 1}, handler=lambda: (201, {}))
    assert error.value.status == 409


def test_domain_errors_are_stored_and_replayed():
    user = UserFactory.create()

    def failing():
        raise NotFound("没有这个商品", code="product_not_found")

    first = run_idempotent(user=user, scope="t", key="k", payload={}, handler=failing)
    second = run_idempotent(user=user, scope="t", key="k", payload={}, handler=lambda: (201, {"x": 1}))
    assert first == second == (404, {"code": "product_not_found", "message": "没有这个商品"})


def test_unexpected_errors_free_the_key():
    user = UserFactory.create()

    def crash():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_idempotent(user=user, scope="t", key="k", payload={}, handler=crash)
    assert run_idempotent(user=user, scope="t", key="k", payload={}, handler=lambda: (201, {"ok": 1})) == (
        201,
        {"ok": 1},
    )


def test_keys_are_per_user():
    alice, bob = UserFactory.create(), UserFactory.create()
    run_idempotent(user=alice, scope="t", key="k", payload={"a": 1}, handler=lambda: (201, {"who": "alice"}))
    assert run_idempotent(user=bob, scope="t", key="k", payload={"a": 2}, handler=lambda: (201, {"who": "bob"})) == (
        201,
        {"who": "bob"},
    )


def _fp(payload):
    from shequn.core.idempotency import fingerprint

    return fingerprint(payload)
