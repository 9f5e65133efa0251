"""Idempotency-Key handling (Stripe semantics, IETF draft).

Same key and same body → the first response again; same key, other body → 422;
a retry while the first request still runs → 409.

Two ways to hold a key. ``run_idempotent`` claims it in its own short transaction, so a
concurrent retry sees it at once, runs the handler, then stores the answer. ``claim_many`` and
``answer_many`` do the same for many requests inside the caller's transaction, one statement
each (group commit, docs/adr/0013): the key, the work and the answer commit together, so there
is never a key left "running" by a crash, and a request costs no write transaction of its own.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, DomainError, InvalidInput
from .models import IdempotencyKey
from .sql import insert_rows

type Answer = tuple[int, Any]  # (HTTP status, body): what a request answered and a retry gets again


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Once:
    """A request sent with an ``Idempotency-Key``: whose, for what, its key and its body's fingerprint.
    ``answer`` turns the work's result into the response stored for retries."""

    user: Any
    scope: str
    key: str
    fingerprint: str
    answer: Callable[[Any], Answer]


def once(*, user: Any, scope: str, key: str | None, payload: Any, answer: Callable[[Any], Answer]) -> Once | None:
    """The ``Once`` of a request, or None when it has no key (then nothing is remembered)."""
    if not key:
        return None
    if len(key) > 255:
        raise InvalidInput(_("Idempotency-Key 不能超过 255 个字符"), code="idempotency_key_too_long")
    return Once(user=user, scope=scope, key=key, fingerprint=fingerprint(payload), answer=answer)


def run_idempotent(*, user: Any, scope: str, key: str | None, payload: Any, handler: Callable[[], Answer]) -> Answer:
    """Run ``handler`` (returning ``(status, body)``) at most once per ``key``.

    Domain errors from the handler are stored and replayed like successes; any other
    exception frees the key so the client can retry.
    """
    request = once(user=user, scope=scope, key=key, payload=payload, answer=lambda answer: answer)
    return handler() if request is None else run_once(request, lambda: request.answer(handler()))


def run_once(request: Once, handler: Callable[[], Answer]) -> Answer:
    """``run_idempotent`` for a ``Once``: the key claimed in its own short transaction."""
    try:
        row = _claim(user=request.user, scope=request.scope, key=request.key, fingerprint=request.fingerprint)
    except IntegrityError:
        existing = IdempotencyKey.objects.get(user=request.user, scope=request.scope, key=request.key)
        return _replay(existing, request.fingerprint)
    try:
        status, body = handler()
    except DomainError as error:
        status, body = error.status, error.as_dict()
    except BaseException:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        raise
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=IdempotencyKey.Status.DONE, response_status=status, response_body=body
    )
    return status, body


def _replay(existing: IdempotencyKey, digest: str) -> Answer:
    """What a request gets whose key ``existing`` holds: its answer, or 422 (another body) or 409 (running)."""
    if existing.fingerprint != digest:
        raise InvalidInput(_("同一个 Idempotency-Key 不能用于不同的请求内容"), code="idempotency_key_reused")
    if existing.status == IdempotencyKey.Status.IN_PROGRESS:
        raise Conflict(_("相同的请求正在处理中，请稍后重试"), code="idempotency_in_progress")
    return existing.response_status or 200, existing.response_body


def _claim(**fields: Any) -> IdempotencyKey:
    """The key's row, committed at once: in a request (autocommit) the INSERT is a transaction of
    its own (one round trip, no BEGIN/COMMIT); inside a caller's transaction, a savepoint keeps a
    duplicate key from breaking it."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return IdempotencyKey.objects.create(**fields)
    return IdempotencyKey.objects.create(**fields)


@dataclass(frozen=True)
class Claimed:
    """A key ``claim_many`` took: its row, to be answered by ``answer_many`` in the same transaction."""

    request: Once
    row_id: int


def claim_many(requests: Sequence[Once]) -> list[Claimed | Answer | DomainError]:
    """Claim the keys of ``requests`` in the caller's transaction, in one
    ``INSERT … ON CONFLICT DO NOTHING``; for each request, in order: ``Claimed`` (do the work, then
    ``answer_many`` before commit), or, for a key held already, what ``run_idempotent`` would give
    a retry: the stored answer, or the 422 or 409 to raise. A key twice in ``requests`` (two
    retries in one batch): the later ones 409. A key another transaction claimed and has not
    committed yet: PostgreSQL's INSERT waits for it, then this answers as for any held key (its
    stored answer once committed, the claim once rolled back); SQLite has one writer at a time."""
    outcomes: list[Claimed | Answer | DomainError | None] = [None] * len(requests)
    first: dict[tuple[Any, str, str], int] = {}
    for index, request in enumerate(requests):
        if first.setdefault((request.user.pk, request.scope, request.key), index) != index:
            outcomes[index] = Conflict(_("相同的请求正在处理中，请稍后重试"), code="idempotency_in_progress")
    claiming = [index for index, outcome in enumerate(outcomes) if outcome is None]
    now = timezone.now()
    inserted = insert_rows(
        IdempotencyKey,
        ("user", "scope", "key", "fingerprint", "status", "created_at"),
        [
            (request.user.pk, request.scope, request.key, request.fingerprint, IdempotencyKey.Status.IN_PROGRESS, now)
            for request in (requests[index] for index in claiming)
        ],
        conflict="ON CONFLICT (user_id, scope, key) DO NOTHING",
        returning=("id", "user_id", "scope", "key"),
    )
    row_ids = {(user_id, scope, key): pk for pk, user_id, scope, key in inserted}
    held = []
    for index in claiming:
        request = requests[index]
        if (pk := row_ids.get((request.user.pk, request.scope, request.key))) is not None:
            outcomes[index] = Claimed(request=request, row_id=pk)
        else:
            held.append(index)
    if held:
        existing = {
            (row.user_id, row.scope, row.key): row
            for row in IdempotencyKey.objects.filter(
                reduce(
                    or_,
                    (Q(user_id=requests[i].user.pk, scope=requests[i].scope, key=requests[i].key) for i in held),
                )
            )
        }
        for index in held:
            request = requests[index]
            row = existing.get((request.user.pk, request.scope, request.key))
            try:
                if row is None:  # freed since (its first request failed): the client may retry
                    raise Conflict(_("相同的请求正在处理中，请稍后重试"), code="idempotency_in_progress")
                outcomes[index] = _replay(row, request.fingerprint)
            except DomainError as error:
                outcomes[index] = error
    return [outcome for outcome in outcomes if outcome is not None]


def answer_many(answered: Sequence[tuple[Claimed, Answer]]) -> None:
    """Store the answers of keys ``claim_many`` took, in one UPDATE, in the same transaction (SQL of
    its own: the ORM's ``Case``/``When`` cost more Python than the rest of the key's work)."""
    if not answered:
        return
    body = IdempotencyKey._meta.get_field("response_body")
    whens = " ".join(["WHEN %s THEN %s"] * len(answered))
    ids = [claimed.row_id for claimed, _answer in answered]
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    sql = (
        f"UPDATE {table} SET status = %s, response_status = CASE id {whens} END,"  # noqa: S608 - our table; values are parameters
        f" response_body = CASE id {whens} END WHERE id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                IdempotencyKey.Status.DONE,
                *(value for claimed, (status, _body) in answered for value in (claimed.row_id, status)),
                *(
                    value
                    for claimed, (_status, stored) in answered
                    for value in (claimed.row_id, body.get_db_prep_save(stored, connection))
                ),
                *ids,
            ],
        )


def answer_of(request: Once, outcome: Any) -> Answer:
    """What a request answers for the work's ``outcome``: ``request.answer`` of a result, a domain error's own."""
    if isinstance(outcome, DomainError):
        return outcome.status, outcome.as_dict()
    return request.answer(outcome)
