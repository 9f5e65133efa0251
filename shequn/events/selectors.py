"""Reads for events.

Member reads go through ``access_member_*``: only active members of an active community see
its events; everyone else gets 404 (members-only content is invisible, not forbidden).
Console reads go through ``access_*(shop, id)`` scoped to the caller's shop.
"""

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.catalog.models import Sku
from shequn.communities import selectors as community_selectors
from shequn.communities.enums import SubGroupKind
from shequn.communities.models import Community, SubGroup
from shequn.core.errors import NotFound
from shequn.shops.models import Shop

from .enums import LIVE_STATUSES, EventStatus, RegistrationStatus
from .errors import EventNotFound, TicketNotFound
from .models import Event, Registration

EVENT_NOT_FOUND = gettext_noop("活动不存在或仅对社群成员开放")


# --- members -----------------------------------------------------------------------


def access_member_community(user: Any, community_id: int) -> Community:
    """An active community ``user`` actively belongs to; 404 for everyone else."""
    try:
        community = community_selectors.active_community(community_id)
    except NotFound:
        raise EventNotFound(_(EVENT_NOT_FOUND)) from None
    if not community_selectors.is_community_member(user, community):
        raise EventNotFound(_(EVENT_NOT_FOUND))
    return community


def _events() -> QuerySet[Event]:
    return Event.objects.select_related("community", "sub_group", "shop")


def community_events(community: Community, *, past: bool = False) -> QuerySet[Event]:
    """Published and cancelled events members see: upcoming (not yet ended) soonest first, or past ones."""
    events = _events().filter(community=community, status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED])
    now = timezone.now()
    if past:
        return events.filter(ends_at__lte=now).order_by("-starts_at", "-id")
    return events.filter(ends_at__gt=now).order_by("starts_at", "id")


def access_member_event(user: Any, community_id: int, event_id: int) -> Event:
    community = access_member_community(user, community_id)
    event = (
        _events()
        .filter(community=community, pk=event_id, status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED])
        .first()
    )
    if event is None:
        raise EventNotFound(_(EVENT_NOT_FOUND))
    return event


def live_registration(user: Any, event: Event) -> Registration | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Registration.objects.filter(event=event, user=user, status__in=LIVE_STATUSES).first()


def my_registration(user: Any, event: Event) -> Registration | None:
    """The member's live registration, else their latest one (cancelled, refunded) for the record."""
    if not getattr(user, "is_authenticated", False):
        return None
    return live_registration(user, event) or (
        Registration.objects.filter(event=event, user=user).order_by("-created_at", "-id").first()
    )


def waitlist_rank(registration: Registration) -> int | None:
    """1 for the first in line; None unless waitlisted."""
    if registration.status != RegistrationStatus.WAITLISTED or registration.position is None:
        return None
    ahead = Registration.objects.filter(
        event_id=registration.event_id, status=RegistrationStatus.WAITLISTED, position__lt=registration.position
    ).count()
    return ahead + 1


def waitlist_count(event: Event) -> int:
    return Registration.objects.filter(event=event, status=RegistrationStatus.WAITLISTED).count()


def ticket_sku(event: Event) -> Sku | None:
    if event.ticket_product_id is None:
        return None
    return Sku.objects.filter(product_id=event.ticket_product_id, is_active=True).order_by("position", "id").first()


def open_offers(event: Event, *, now: Any = None) -> int:
    """Seats offered to waitlisted members of a paid event whose deadline has not passed."""
    return Registration.objects.filter(
        event=event, status=RegistrationStatus.OFFERED, offer_expires_at__gt=now or timezone.now()
    ).count()


def seats_left(event: Event) -> int:
    """Seats anyone may still take now: free events count confirmed RSVPs; paid events count the
    ticket stock (seats held by no order) minus seats offered to the waitlist."""
    if not event.is_paid:
        return max(0, event.capacity - event.confirmed_count)
    sku = ticket_sku(event)
    if sku is None:
        return 0
    return max(0, sku.stock - open_offers(event))


def my_events(user: Any) -> QuerySet[Registration]:
    """The member's registrations (live first, then history), newest event first."""
    if not getattr(user, "is_authenticated", False):
        return Registration.objects.none()
    return (
        Registration.objects.select_related("event", "event__community")
        .filter(user=user, event__status__in=[EventStatus.PUBLISHED, EventStatus.CANCELLED])
        .order_by("-event__starts_at", "-id")
    )


# --- console (staff of one shop) ---------------------------------------------------


def shop_events(shop: Shop, *, status: str = "") -> QuerySet[Event]:
    events = _events().filter(shop=shop)
    if status:
        events = events.filter(status=status)
    return events.order_by("-starts_at", "-id")


def access_event(shop: Shop, event_id: int) -> Event:
    event = _events().filter(shop=shop, pk=event_id).first()
    if event is None:
        raise EventNotFound(_("活动不存在"))
    return event


def access_community(shop: Shop, community_id: int) -> Community:
    return community_selectors.access_community(shop, community_id)


def shop_communities(shop: Shop) -> QuerySet[Community]:
    return Community.objects.filter(shop=shop, is_active=True).order_by("id")


def shop_chapters(shop: Shop) -> QuerySet[SubGroup]:
    """City chapters (sub-groups of kind chapter) of the shop's communities, for the event form."""
    return (
        SubGroup.objects.select_related("community")
        .filter(community__shop=shop, kind=SubGroupKind.CHAPTER, is_active=True)
        .order_by("community_id", "id")
    )


_STATUS_ORDER = Case(
    When(status=RegistrationStatus.CONFIRMED, then=Value(0)),
    When(status=RegistrationStatus.OFFERED, then=Value(1)),
    When(status=RegistrationStatus.WAITLISTED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def attendees(event: Event, *, status: str = "") -> QuerySet[Registration]:
    """Confirmed first (by time confirmed), then offers, then the waitlist in order, then history."""
    rows = Registration.objects.select_related("user", "checked_in_by").filter(event=event)
    if status:
        rows = rows.filter(status=status)
    return rows.annotate(status_order=_STATUS_ORDER).order_by("status_order", "position", "confirmed_at", "id")


def attendance_counts(event: Event) -> dict[str, int]:
    rows = Registration.objects.filter(event=event)
    return {
        "confirmed": rows.filter(status=RegistrationStatus.CONFIRMED).count(),
        "waitlisted": rows.filter(status=RegistrationStatus.WAITLISTED).count(),
        "offered": rows.filter(status=RegistrationStatus.OFFERED).count(),
        "checked_in": rows.filter(status=RegistrationStatus.CONFIRMED, checked_in_at__isnull=False).count(),
    }


def access_registration_by_token(shop: Shop, token: str) -> Registration:
    """The registration a ticket's QR code names; a token of another shop looks absent."""
    token = (token or "").strip()
    registration = (
        Registration.objects.select_related("event", "user", "event__community")
        .filter(checkin_token=token, event__shop=shop)
        .first()
        if token
        else None
    )
    if registration is None:
        raise TicketNotFound(_("票不存在或不属于本店"))
    return registration
