"""The member's inbox page."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import actions, selectors

PAGE_SIZE = 20


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "unread": selectors.unread_count(request.user)})


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    actions.mark_read(request.user)
    return redirect("notifications:inbox")


@require_POST
@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one message read and follow its link (links are paths inside shequn)."""
    notification = selectors.access_notification(request.user, notification_id)
    actions.mark_read(request.user, [notification.pk])
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts=None) and link.startswith("/"):
        return redirect(link)
    return redirect("notifications:inbox")
