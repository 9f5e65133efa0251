"""The language a person reads: pages pick it per request, texts sent later use the stored one.

Members and staff choose Simplified Chinese (the default) or English with the language switch
(Django's cookie) and, once signed in, the choice is also stored on the account
(``User.language``) so texts built later for that person (SMS, inbox, subscribe messages) come out
in it: ``with in_language_of(member): text = _("…")``. Takes any object with a ``language``
attribute so every app, ``core`` included, can use it without importing accounts.
"""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import translation


def language_of(person: Any) -> str:
    """The person's stored language, or the site's default (Chinese) when they never chose.

    A person loaded without it (a batch's ``only("id", …)``) gets the default rather than a query
    per person: batch code that sends texts loads ``language`` with the rest."""
    deferred = getattr(person, "get_deferred_fields", None)
    if deferred is not None and "language" in deferred():
        return settings.LANGUAGE_CODE
    language = getattr(person, "language", "") or ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def in_language_of(person: Any) -> translation.override:
    """Render the texts built inside the block in the person's language."""
    return translation.override(language_of(person))


def readers_by_language(path: str) -> Iterator[tuple[str, Q]]:
    """Each site language with the filter of the people who read it, for set-based fan-outs that
    insert one text per language (``path`` leads to the person's ``language``, e.g.
    ``"user__language"``). Whoever never chose, or chose a language no longer offered, reads the
    default, so the filters split everyone exactly once."""
    others = [code for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
    yield settings.LANGUAGE_CODE, ~Q(**{f"{path}__in": others})
    for code in others:
        yield code, Q(**{path: code})


def keep_choice_at_sign_in(request: HttpRequest, person: Any) -> None:
    """Signing in on a browser where the switch was used makes that choice the account's (the
    language cookie exists only once someone chose); without it the account's choice applies."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in dict(settings.LANGUAGES) and chosen != person.language:
        person.language = chosen
        person.save(update_fields=["language"])
