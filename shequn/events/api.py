"""Events API: members list, read, RSVP, cancel and fetch their ticket under
/communities/{id}/events/...; operators create, edit, publish, cancel, list attendees and
check members in under /console/."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import EventStatus, RegistrationStatus
from .errors import RegistrationNotFound
from .schemas import (
    AttendeeOut,
    CheckInIn,
    CheckInOut,
    ConsoleEventOut,
    EventCancelIn,
    EventDetailOut,
    EventIn,
    EventOut,
    EventQuery,
    MyEventOut,
    RegistrationOut,
    StatusQuery,
    TicketOut,
)

router = Router(tags=["events"])
console = Router(tags=["events console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 404, 409, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get("/communities/{int:community_id}/events", response={200: Page[EventOut], **READ_ERRORS})
def events(request: HttpRequest, community_id: Id, query: Query[EventQuery]) -> dict:
    """Upcoming events soonest first (``past=true``: ended ones, latest first). Members only."""
    community = selectors.access_member_community(request.user, community_id)
    page = paginate(selectors.community_events(community, past=query.past), query.page, query.page_size)
    page["items"] = [EventOut.from_model(e) for e in page["items"]]
    return page


@router.get("/communities/{int:community_id}/events/{int:event_id}", response={200: EventDetailOut, **READ_ERRORS})
def event(request: HttpRequest, community_id: Id, event_id: Id) -> EventDetailOut:
    found = selectors.access_member_event(request.user, community_id, event_id)
    return EventDetailOut.from_model(found, request.user)


@router.post(
    "/communities/{int:community_id}/events/{int:event_id}/rsvp", response={200: RegistrationOut, **WRITE_ERRORS}
)
def rsvp(request: HttpRequest, community_id: Id, event_id: Id) -> RegistrationOut:
    """Confirmed when a seat is free, else waitlisted; a repeat returns the same registration.
    409 ``ticket_required`` for a paid event with seats left (buy ``ticket_sku_id`` instead),
    409 ``registration_closed`` when not open."""
    found = selectors.access_member_event(request.user, community_id, event_id)
    return RegistrationOut.from_model(actions.do_rsvp(request.user, found))


@router.post(
    "/communities/{int:community_id}/events/{int:event_id}/cancel", response={200: RegistrationOut, **WRITE_ERRORS}
)
def cancel(request: HttpRequest, community_id: Id, event_id: Id) -> RegistrationOut:
    """Leave the event or the waitlist; a free seat goes to the first waitlisted member.
    409 ``cannot_cancel`` for paid tickets (refund the order) or once the event started."""
    found = selectors.access_member_event(request.user, community_id, event_id)
    return RegistrationOut.from_model(actions.do_cancel_registration(request.user, found))


@router.get("/communities/{int:community_id}/events/{int:event_id}/ticket", response={200: TicketOut, **READ_ERRORS})
def ticket(request: HttpRequest, community_id: Id, event_id: Id) -> TicketOut:
    """The caller's ticket: the check-in URL its QR code encodes (confirmed registrations only)."""
    found = selectors.access_member_event(request.user, community_id, event_id)
    registration = selectors.live_registration(request.user, found)
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        raise RegistrationNotFound(_("你还没有本活动的有效门票"))
    return TicketOut.from_model(registration, reverse("events:ticket_qr", args=[community_id, event_id]))


@router.get("/mine", response={200: Page[MyEventOut], **error_responses(401, 422)})
def mine(request: HttpRequest, query: Query[PageQuery]) -> dict:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    page = paginate(selectors.my_events(request.user), query.page, query.page_size)
    page["items"] = [MyEventOut.from_model(r) for r in page["items"]]
    return page


# --- operator console ----------------------------------------------------------------


@console.get("/events", response={200: Page[ConsoleEventOut], **CONSOLE_ERRORS})
def console_events(request: HttpRequest, query: Query[StatusQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    status = query.status if query.status in EventStatus.values else ""
    page = paginate(selectors.shop_events(shop, status=status), query.page, query.page_size)
    page["items"] = [ConsoleEventOut.from_model(e) for e in page["items"]]
    return page


@console.post("/events", response={201: ConsoleEventOut, **CONSOLE_ERRORS})
def console_create_event(request: HttpRequest, body: EventIn) -> Status[ConsoleEventOut]:
    """A draft; ``price_fen`` > 0 creates its ticket product (kind ``ticket``)."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, body.community_id or 0)
    created = actions.do_create_event(shop, community, body.to_input(), actor=request.user, ip=client_ip(request))
    return Status(201, ConsoleEventOut.from_model(selectors.access_event(shop, created.pk)))


@console.get("/events/{int:event_id}", response={200: ConsoleEventOut, **CONSOLE_ERRORS})
def console_event(request: HttpRequest, event_id: Id) -> ConsoleEventOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ConsoleEventOut.from_model(selectors.access_event(shop, event_id))


@console.put("/events/{int:event_id}", response={200: ConsoleEventOut, **CONSOLE_ERRORS})
def console_update_event(request: HttpRequest, event_id: Id, body: EventIn) -> ConsoleEventOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_event(shop, event_id)
    actions.do_update_event(shop, found, body.to_input(), actor=request.user, ip=client_ip(request))
    return ConsoleEventOut.from_model(selectors.access_event(shop, event_id))


@console.post("/events/{int:event_id}/publish", response={200: ConsoleEventOut, **CONSOLE_ERRORS})
def console_publish_event(request: HttpRequest, event_id: Id) -> ConsoleEventOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_publish_event(shop, selectors.access_event(shop, event_id), actor=request.user, ip=client_ip(request))
    return ConsoleEventOut.from_model(selectors.access_event(shop, event_id))


@console.post("/events/{int:event_id}/cancel", response={200: ConsoleEventOut, **CONSOLE_ERRORS})
def console_cancel_event(request: HttpRequest, event_id: Id, body: EventCancelIn) -> ConsoleEventOut:
    """Everyone signed up is notified; paid tickets are refunded by rule when members ask."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_cancel_event(
        shop, selectors.access_event(shop, event_id), actor=request.user, reason=body.reason, ip=client_ip(request)
    )
    return ConsoleEventOut.from_model(selectors.access_event(shop, event_id))


@console.get("/events/{int:event_id}/attendees", response={200: Page[AttendeeOut], **CONSOLE_ERRORS})
def console_attendees(request: HttpRequest, event_id: Id, query: Query[StatusQuery]) -> dict:
    """Confirmed first, then offers, the waitlist in order, then cancelled and refunded."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_event(shop, event_id)
    status = query.status if query.status in RegistrationStatus.values else ""
    page = paginate(selectors.attendees(found, status=status), query.page, query.page_size)
    page["items"] = [AttendeeOut.from_model(r) for r in page["items"]]
    return page


@console.post("/events/{int:event_id}/checkin", response={200: CheckInOut, **CONSOLE_ERRORS})
def console_check_in(request: HttpRequest, event_id: Id, body: CheckInIn) -> CheckInOut:
    """Once per ticket: a repeat answers ``newly_checked_in: false`` and 已签到（HH:MM）.
    404 ``ticket_not_found`` for another shop's token; 409 ``check_in_refused`` for another
    event's ticket, a waitlisted or cancelled registration."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_event(shop, event_id)
    registration = selectors.access_registration_by_token(shop, actions.ticket_token(body.token))
    registration, newly = actions.do_check_in(
        shop, registration, event=found, actor=request.user, ip=client_ip(request)
    )
    return CheckInOut(
        attendee=AttendeeOut.from_model(registration),
        event_id=registration.event_id,
        newly_checked_in=newly,
        message=actions.check_in_message(registration, newly),
    )


router.add_router("/console", console)
