"""Turn domain errors raised from page views into a friendly page with the right status."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .errors import DomainError


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
