"""Small helpers every app's page views share: reading query values, form errors, queue polls."""

from typing import Any

from django import forms

from .errors import DomainError


def int_or_none(value: Any) -> int | None:
    """``"12"`` → 12; empty, missing or malformed → None (a bad filter value is ignored, not a 500)."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# Polls (one a second) after which a queue page (a flash claim, a 接龙 sign-up) whose claim is still
# not written tells the member it was probably lost: admissions still in the gate's queue when its
# Redis died never reach the database (ADR 0009). Consumers drain a big sale's 150,000 claims in
# about a minute, so three minutes is patient enough.
QUEUE_PATIENCE = 180


def queue_polls(request: Any) -> tuple[int, bool]:
    """The page's poll count so far (``?n=``, bounded) and whether it is time to give up."""
    polls = max(0, min(int_or_none(request.GET.get("n")) or 0, QUEUE_PATIENCE))
    return polls, polls >= QUEUE_PATIENCE


def field_errors(error: DomainError) -> dict[str, str]:
    """Per-field messages of a validation error (``details["fields"]``), for re-rendering a form."""
    fields = error.details.get("fields") if error.details else None
    return dict(fields) if isinstance(fields, dict) else {}


def form_errors(form: forms.Form) -> dict[str, str]:
    """The first message of each field of a bound form that did not validate, by field name:
    the same shape as ``field_errors``, so a page shows both the same way."""
    return {name: str(messages[0]) for name, messages in form.errors.items()}
