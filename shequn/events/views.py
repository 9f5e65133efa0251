"""Member pages of events (community list, event page with RSVP and ticket QR, my events) and
their console pages (list, create, edit, publish, cancel, attendees, check-in). Thin: parse,
call one action, render."""

import io
from datetime import datetime
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.money import format_yuan_input, parse_yuan
from shequn.core.pages import field_errors, int_or_none
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import EventStatus, RegistrationStatus
from .errors import RegistrationNotFound
from .models import Event

PAGE_SIZE = 20
ATTENDEE_PAGE_SIZE = 50


def _login(request: HttpRequest) -> HttpResponse:
    return redirect_to_login(request.get_full_path())


# --- members -----------------------------------------------------------------------


@require_GET
def community_events(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _login(request)
    community = selectors.access_member_community(request.user, community_id)
    past = request.GET.get("past") == "1"
    return render(
        request,
        "events/community_events.html",
        {
            "community": community,
            "page_obj": Paginator(selectors.community_events(community, past=past), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "past": past,
        },
    )


def _render_event(request: HttpRequest, event: Event, status: int = 200) -> HttpResponse:
    registration = selectors.my_registration(request.user, event)
    sku = selectors.ticket_sku(event) if event.is_paid else None
    now = timezone.now()
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "community": event.community,
            "registration": registration,
            "waitlist_rank": selectors.waitlist_rank(registration) if registration else None,
            "seats_left": selectors.seats_left(event),
            "waitlist_count": selectors.waitlist_count(event),
            "sku": sku,
            "is_open": event.status == EventStatus.PUBLISHED
            and now < event.starts_at
            and (event.rsvp_deadline is None or now <= event.rsvp_deadline),
            "has_started": now >= event.starts_at,
            "offer_open": registration is not None
            and registration.status == RegistrationStatus.OFFERED
            and registration.offer_expires_at is not None
            and registration.offer_expires_at > now,
        },
        status=status,
    )


@require_GET
def event_detail(request: HttpRequest, community_id: int, event_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _login(request)
    return _render_event(request, selectors.access_member_event(request.user, community_id, event_id))


@require_POST
def event_rsvp(request: HttpRequest, community_id: int, event_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("events:event_detail", args=[community_id, event_id]))
    event = selectors.access_member_event(request.user, community_id, event_id)
    try:
        registration = actions.do_rsvp(request.user, event)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if registration.status == RegistrationStatus.CONFIRMED:
            messages.success(request, _("报名成功"))
        else:
            messages.success(
                request,
                _("名额已满，你已加入候补（第 %(registration)s 位）")
                % {"registration": selectors.waitlist_rank(registration)},
            )
    return redirect("events:event_detail", community_id=community_id, event_id=event_id)


@require_POST
def event_cancel(request: HttpRequest, community_id: int, event_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("events:event_detail", args=[community_id, event_id]))
    event = selectors.access_member_event(request.user, community_id, event_id)
    try:
        actions.do_cancel_registration(request.user, event)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已取消报名"))
    return redirect("events:event_detail", community_id=community_id, event_id=event_id)


def ticket_qr_svg(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=True, title=_("签到二维码"))
    return buffer.getvalue()


@require_GET
def ticket_qr(request: HttpRequest, community_id: int, event_id: int) -> HttpResponse:
    """The member's own check-in QR (confirmed registrations only)."""
    if not request.user.is_authenticated:
        return _login(request)
    event = selectors.access_member_event(request.user, community_id, event_id)
    registration = selectors.live_registration(request.user, event)
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        raise RegistrationNotFound(_("你还没有本活动的有效门票"))
    response = HttpResponse(ticket_qr_svg(actions.checkin_url(registration)), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def my_events(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _login(request)
    return render(
        request,
        "events/my_events.html",
        {"page_obj": Paginator(selectors.my_events(request.user), PAGE_SIZE).get_page(request.GET.get("page"))},
    )


# --- console -----------------------------------------------------------------------


def _datetime(value: str | None) -> datetime | None:
    """``<input type="datetime-local">`` gives local wall time without a zone."""
    parsed = parse_datetime((value or "").strip())
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _form_input(request: HttpRequest) -> actions.EventInput:
    post = request.POST
    price_fen = parse_yuan(post.get("price"), max_fen=actions.PRICE_MAX_FEN, required=False, field="price_fen")
    return actions.EventInput(
        title=post.get("title") or "",
        venue=post.get("venue") or "",
        address=post.get("address") or "",
        description=post.get("description") or "",
        starts_at=_datetime(post.get("starts_at")),
        ends_at=_datetime(post.get("ends_at")),
        rsvp_deadline=_datetime(post.get("rsvp_deadline")),
        capacity=int_or_none(post.get("capacity")),
        price_fen=price_fen or 0,  # blank is free
        sub_group_id=int_or_none(post.get("sub_group")),
        reminder_hours=int_or_none(post.get("reminder_hours")) or 0,
    )


def _local_input(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _form_values(event: Event | None, request: HttpRequest | None = None) -> dict[str, Any]:
    if request is not None and request.method == "POST":
        return {key: request.POST.get(key) or "" for key in request.POST}
    if event is None:
        return {"reminder_hours": "24", "capacity": "", "price": ""}
    return {
        "community": str(event.community_id),
        "title": event.title,
        "venue": event.venue,
        "address": event.address,
        "description": event.description,
        "starts_at": _local_input(event.starts_at),
        "ends_at": _local_input(event.ends_at),
        "rsvp_deadline": _local_input(event.rsvp_deadline),
        "capacity": str(event.capacity),
        "price": format_yuan_input(event.price_fen) if event.price_fen else "",
        "sub_group": str(event.sub_group_id or ""),
        "reminder_hours": str(event.reminder_hours),
    }


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_events(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    status = request.GET.get("status") or ""
    if status not in EventStatus.values:
        status = ""
    return render(
        request,
        "events/console/events.html",
        {
            "page_obj": Paginator(selectors.shop_events(shop, status=status), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "status": status,
            "statuses": EventStatus.choices,
        },
    )


def _render_form(
    request: HttpRequest, event: Event | None, errors: dict[str, str], error_message: str, status: int = 200
) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    return render(
        request,
        "events/console/event_form.html",
        {
            "event": event,
            "values": _form_values(event, request),
            "errors": errors,
            "error_message": error_message,
            "communities": selectors.shop_communities(shop),
            "chapters": selectors.shop_chapters(shop),
        },
        status=status,
    )


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_event_new(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            community = selectors.access_community(shop, int_or_none(request.POST.get("community")) or 0)
            event = actions.do_create_event(
                shop, community, _form_input(request), actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            errors = field_errors(error) or {"community": error.message}
            return _render_form(request, None, errors, error.message, status=error.status)
        messages.success(request, _("活动已保存为草稿，发布后成员可见"))
        return redirect("events:console_event", event_id=event.pk)
    return _render_form(request, None, {}, "")


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_event_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    event = selectors.access_event(shop, event_id)
    if request.method == "POST":
        try:
            actions.do_update_event(shop, event, _form_input(request), actor=request.user, ip=client_ip(request))
        except DomainError as error:
            return _render_form(request, event, field_errors(error), error.message, status=error.status)
        messages.success(request, _("活动已保存"))
        return redirect("events:console_event", event_id=event.pk)
    return _render_form(request, event, {}, "")


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_event(request: HttpRequest, event_id: int) -> HttpResponse:
    """The event with its attendee list: confirmed, offers, the waitlist in order, history."""
    shop = request.console_shop  # type: ignore[attr-defined]
    event = selectors.access_event(shop, event_id)
    status = request.GET.get("status") or ""
    if status not in RegistrationStatus.values:
        status = ""
    return render(
        request,
        "events/console/event.html",
        {
            "event": event,
            "counts": selectors.attendance_counts(event),
            "seats_left": selectors.seats_left(event),
            "status": status,
            "statuses": RegistrationStatus.choices,
            "page_obj": Paginator(selectors.attendees(event, status=status), ATTENDEE_PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_event_publish(request: HttpRequest, event_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    event = selectors.access_event(shop, event_id)
    try:
        actions.do_publish_event(shop, event, actor=request.user, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("活动已发布，社群成员可以报名了"))
    return redirect("events:console_event", event_id=event.pk)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    event = selectors.access_event(shop, event_id)
    try:
        actions.do_cancel_event(
            shop, event, actor=request.user, reason=request.POST.get("reason") or "", ip=client_ip(request)
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("活动已取消，已通知所有报名成员"))
    return redirect("events:console_event", event_id=event.pk)


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_checkin(request: HttpRequest, event_id: int) -> HttpResponse:
    """The door of one event: scan or paste a ticket; another event's ticket is refused."""
    shop = request.console_shop  # type: ignore[attr-defined]
    event = selectors.access_event(shop, event_id)
    result: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        try:
            registration = selectors.access_registration_by_token(
                shop, actions.ticket_token(request.POST.get("token") or "")
            )
            registration, newly = actions.do_check_in(
                shop, registration, event=event, actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            result, status = {"ok": False, "message": error.message}, error.status
        else:
            result = {
                "ok": True,
                "newly": newly,
                "message": actions.check_in_message(registration, newly),
                "registration": registration,
            }
    return render(
        request,
        "events/console/checkin.html",
        {
            "event": event,
            "result": result,
            "counts": selectors.attendance_counts(event),
            "recent": selectors.attendees(event, status=RegistrationStatus.CONFIRMED)
            .filter(checked_in_at__isnull=False)
            .order_by("-checked_in_at")[:10],
        },
        status=status,
    )


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_checkin_token(request: HttpRequest, token: str) -> HttpResponse:
    """What a ticket's QR code opens on the staff's phone: who it is, and a button to confirm."""
    shop = request.console_shop  # type: ignore[attr-defined]
    registration = selectors.access_registration_by_token(shop, token)
    result: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        try:
            registration, newly = actions.do_check_in(shop, registration, actor=request.user, ip=client_ip(request))
        except DomainError as error:
            result, status = {"ok": False, "message": error.message}, error.status
        else:
            result = {"ok": True, "newly": newly, "message": actions.check_in_message(registration, newly)}
    return render(
        request,
        "events/console/checkin_token.html",
        {"registration": registration, "event": registration.event, "result": result},
        status=status,
    )
