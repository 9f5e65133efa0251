"""Domain errors carry a stable machine code, a human message and an HTTP status.

Actions raise them; the API layer and the page middleware turn them into JSON
``{"code": ..., "message": ...}`` or a friendly page. Codes never change once shipped.
"""

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class NotFound(DomainError):
    """Also used for objects of another shop: foreign ids look exactly like missing ones."""

    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


class InvalidTransition(DomainError):
    """A state machine was asked for a move it does not allow."""

    status = 409
    code = "invalid_transition"
