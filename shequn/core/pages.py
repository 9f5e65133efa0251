"""Small helpers every app's page views share: reading query values and form errors."""

from typing import Any

from django import forms

from .errors import DomainError


def int_or_none(value: Any) -> int | None:
    """``"12"`` → 12; empty, missing or malformed → None (a bad filter value is ignored, not a 500)."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def field_errors(error: DomainError) -> dict[str, str]:
    """Per-field messages of a validation error (``details["fields"]``), for re-rendering a form."""
    fields = error.details.get("fields") if error.details else None
    return dict(fields) if isinstance(fields, dict) else {}


def form_errors(form: forms.Form) -> dict[str, str]:
    """The first message of each field of a bound form that did not validate, by field name:
    the same shape as ``field_errors``, so a page shows both the same way."""
    return {name: str(messages[0]) for name, messages in form.errors.items()}
