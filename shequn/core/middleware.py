"""Page middleware: domain errors become a friendly page with the right status; the language."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation

from .errors import DomainError
from .i18n import language_of


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if request.path.startswith("/api/") or request.headers.get("Accept") == "application/json":
            return JsonResponse(exception.as_dict(), status=exception.status)
        # Inside the console (a console view has set the shop) the page keeps the console's
        # layout and menu; elsewhere it is the member site's.
        template = "console/error.html" if getattr(request, "console_shop", None) is not None else "error.html"
        return render(request, template, {"error": exception}, status=exception.status)


class LanguageMiddleware(LocaleMiddleware):
    """Pages are Chinese unless the person chose English; the API also honours Accept-Language.

    The product is Chinese-first (docs/adr/0016-english.md): a browser whose Accept-Language says
    English still sees Chinese pages until its user flips the language switch (cookie), or signs
    in to an account that stored English. API clients have no cookie, so ``/api/`` answers in the
    Accept-Language they send. Sits after AuthenticationMiddleware to read the stored choice.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request)
        else:
            language = _page_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def _page_language(request: HttpRequest) -> str:
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return language_of(user)
    return settings.LANGUAGE_CODE
