"""API authentication: ``Authorization: Bearer <token>``; tokens are stored hashed.

A token found is kept in the shared cache for a minute (Redis when configured, else the one
process's local memory), so an API request reads no table to know its caller. Revoking a token
(``forget_tokens``) deletes its entry for every process at once; so does any change to the
person (``User.save``, ``do_set_language``), so a request never sees a stale nickname or a
deactivated account. The minute is also how often a token's ``last_used_at`` is written.
"""

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from shequn.core.events import on_commit

from .models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cache_key(token_hash: str) -> str:
    return f"apitoken:{token_hash}"


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        token_hash = hash_token(token)
        user = cache.get(_cache_key(token_hash))
        if user is None:
            row = (
                ApiToken.objects.select_related("user")
                .filter(token_hash=token_hash, revoked_at__isnull=True, user__is_active=True)
                .first()
            )
            if row is None:
                return None
            now = timezone.now()
            # Record use at most once a minute: a write on every API request would cost every request.
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
                ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
            user = row.user
            cache.set(_cache_key(token_hash), user, timeout=LAST_USED_RESOLUTION.total_seconds())
        request.user = user
        return user


def forget_tokens(token_hashes: Iterable[str]) -> None:
    """Drop these tokens' cached callers, now and again once the caller's transaction commits (a
    request reading the row before the commit may have cached it again meanwhile)."""
    keys = [_cache_key(token_hash) for token_hash in token_hashes]
    if keys:
        cache.delete_many(keys)
        on_commit(cache.delete_many, keys)


def forget_user_tokens(user_id: int) -> None:
    """``forget_tokens`` for every token of a person whose row changed."""
    forget_tokens(ApiToken.objects.filter(user_id=user_id).values_list("token_hash", flat=True))


class SessionCookieAuth(SessionAuth):
    """The H5 site's own calls ride the Django session and are CSRF-checked.

    A request without the session cookie cannot be riding a session, so there is nothing to
    forge: it is simply not signed in (401), not a CSRF failure (403) as ninja's SessionAuth
    answers to every unsafe request from an app that signs in with a bearer token or not at all.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)
