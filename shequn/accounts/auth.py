"""API authentication: ``Authorization: Bearer <token>``; tokens are stored hashed."""

import hashlib
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        # Record use at most once a minute: a write on every API request would cost every request.
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


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
