from typing import Any

from django.http import HttpRequest

from shequn.notifications.selectors import unread_count


def shequn(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "inbox_unread": unread_count(user) if user is not None and user.is_authenticated else 0,
        "console_shop": getattr(request, "console_shop", None),
    }
