"""Idempotency-Key handling (Stripe semantics, IETF draft).

Same key and same body → the first response again; same key, other body → 422;
a retry while the first request still runs → 409. The key row is claimed in its own
short transaction so a concurrent retry sees it at once.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .errors import Conflict, DomainError, InvalidInput
from .models import IdempotencyKey


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(
    *, user: Any, scope: str, key: str | None, payload: Any, handler: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run ``handler`` (returning ``(status, body)``) at most once per ``key``.

    Domain errors from the handler are stored and replayed like successes; any other
    exception frees the key so the client can retry.
    """
    if not key:
        return handler()
    if len(key) > 255:
        raise InvalidInput(_("Idempotency-Key 不能超过 255 个字符"), code="idempotency_key_too_long")
    digest = fingerprint(payload)
    try:
        row = _claim(user=user, scope=scope, key=key, fingerprint=digest)
    except IntegrityError:
        existing = IdempotencyKey.objects.get(user=user, scope=scope, key=key)
        if existing.fingerprint != digest:
            raise InvalidInput(
                _("同一个 Idempotency-Key 不能用于不同的请求内容"), code="idempotency_key_reused"
            ) from None
        if existing.status == IdempotencyKey.Status.IN_PROGRESS:
            raise Conflict(_("相同的请求正在处理中，请稍后重试"), code="idempotency_in_progress") from None
        return existing.response_status or 200, existing.response_body
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


def _claim(**fields: Any) -> IdempotencyKey:
    """The key's row, committed at once: in a request (autocommit) the INSERT is a transaction of
    its own (one round trip, no BEGIN/COMMIT); inside a caller's transaction, a savepoint keeps a
    duplicate key from breaking it."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return IdempotencyKey.objects.create(**fields)
    return IdempotencyKey.objects.create(**fields)
