"""The member's inbox page, and their WeChat notification settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import actions, selectors
from .enums import SubscribeTemplate
from .forms import OptOutForm

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


@login_required
@require_http_methods(["GET", "POST"])
def subscribe_settings(request: HttpRequest) -> HttpResponse:
    """Which WeChat notifications the member receives; each accepted one can be turned off here."""
    if request.method == "POST":
        form = OptOutForm(request.POST)
        if form.is_valid():
            actions.opt_out(request.user, form.cleaned_data["template"])
            messages.success(
                request, _("已关闭“%(name)s”") % {"name": SubscribeTemplate(form.cleaned_data["template"]).label}
            )
            return redirect("notifications:subscribe_settings")
    return render(request, "notifications/subscribe_settings.html", {"items": selectors.subscriptions(request.user)})
