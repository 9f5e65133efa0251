"""API shapes for events. Text fields are plain text; clients must escape them."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Count, Fen, Id, Moment, MultilineText, PageQuery, SmallCount, Text

from . import actions, selectors
from .models import Event, Registration


class EventOut(Schema):
    id: int
    community_id: int
    sub_group_id: int | None
    sub_group_name: str | None
    title: str
    description: str
    venue: str
    address: str
    starts_at: datetime
    ends_at: datetime
    rsvp_deadline: datetime | None
    capacity: int
    price_fen: int
    status: str
    seats_left: int
    ticket_sku_id: int | None  # paid events: buy through the orders API with this SKU, quantity 1

    @staticmethod
    def from_model(event: Event) -> "EventOut":
        sku = selectors.ticket_sku(event) if event.is_paid else None
        return EventOut(
            id=event.pk,
            community_id=event.community_id,
            sub_group_id=event.sub_group_id,
            sub_group_name=event.sub_group.name if event.sub_group else None,
            title=event.title,
            description=event.description,
            venue=event.venue,
            address=event.address,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            rsvp_deadline=event.rsvp_deadline,
            capacity=event.capacity,
            price_fen=event.price_fen,
            status=event.status,
            seats_left=selectors.seats_left(event),
            ticket_sku_id=sku.pk if sku else None,
        )


class RegistrationOut(Schema):
    id: int
    event_id: int
    status: str
    waitlist_rank: int | None  # 1 = first in line (waitlisted only)
    offer_expires_at: datetime | None  # offered: pay before this
    order_id: int | None
    checked_in_at: datetime | None
    created_at: datetime

    @staticmethod
    def from_model(registration: Registration) -> "RegistrationOut":
        return RegistrationOut(
            id=registration.pk,
            event_id=registration.event_id,
            status=registration.status,
            waitlist_rank=selectors.waitlist_rank(registration),
            offer_expires_at=registration.offer_expires_at,
            order_id=registration.order_id,
            checked_in_at=registration.checked_in_at,
            created_at=registration.created_at,
        )


class EventDetailOut(EventOut):
    waitlist_count: int
    my_registration: RegistrationOut | None

    @staticmethod
    def from_model(event: Event, user: object = None) -> "EventDetailOut":
        mine = selectors.my_registration(user, event)
        return EventDetailOut(
            **EventOut.from_model(event).model_dump(),
            waitlist_count=selectors.waitlist_count(event),
            my_registration=RegistrationOut.from_model(mine) if mine else None,
        )


class TicketOut(Schema):
    registration: RegistrationOut
    checkin_url: str  # what the QR code encodes
    qr_svg_url: str

    @staticmethod
    def from_model(registration: Registration, qr_svg_url: str) -> "TicketOut":
        return TicketOut(
            registration=RegistrationOut.from_model(registration),
            checkin_url=actions.checkin_url(registration),
            qr_svg_url=qr_svg_url,
        )


class MyEventOut(Schema):
    registration: RegistrationOut
    event_id: int
    community_id: int
    title: str
    starts_at: datetime
    venue: str
    event_status: str

    @staticmethod
    def from_model(registration: Registration) -> "MyEventOut":
        event = registration.event
        return MyEventOut(
            registration=RegistrationOut.from_model(registration),
            event_id=event.pk,
            community_id=event.community_id,
            title=event.title,
            starts_at=event.starts_at,
            venue=event.venue,
            event_status=event.status,
        )


class ConsoleEventOut(EventOut):
    confirmed_count: int
    waitlisted_count: int
    checked_in_count: int
    reminder_hours: int
    reminder_sent_at: datetime | None
    ticket_product_id: int | None

    @staticmethod
    def from_model(event: Event) -> "ConsoleEventOut":
        counts = selectors.attendance_counts(event)
        return ConsoleEventOut(
            **EventOut.from_model(event).model_dump(),
            confirmed_count=counts["confirmed"],
            waitlisted_count=counts["waitlisted"],
            checked_in_count=counts["checked_in"],
            reminder_hours=event.reminder_hours,
            reminder_sent_at=event.reminder_sent_at,
            ticket_product_id=event.ticket_product_id,
        )


class AttendeeOut(Schema):
    registration_id: int
    user_id: int
    name: str
    status: str
    position: int | None  # waitlist number (kept after promotion)
    order_id: int | None
    created_at: datetime
    confirmed_at: datetime | None
    checked_in_at: datetime | None

    @staticmethod
    def from_model(registration: Registration) -> "AttendeeOut":
        return AttendeeOut(
            registration_id=registration.pk,
            user_id=registration.user_id,
            name=registration.user.display_name,
            status=registration.status,
            position=registration.position,
            order_id=registration.order_id,
            created_at=registration.created_at,
            confirmed_at=registration.confirmed_at,
            checked_in_at=registration.checked_in_at,
        )


class CheckInOut(Schema):
    attendee: AttendeeOut
    event_id: int
    newly_checked_in: bool  # False: an earlier scan already checked them in (nothing changed)
    message: str  # 签到成功：… or 已签到（HH:MM）


class EventIn(Schema):
    community_id: Id | None = None  # required to create; ignored on update
    title: Text = Field(..., max_length=60)
    venue: Text = Field(..., max_length=60)
    address: Text = Field("", max_length=200)
    description: MultilineText = ""
    starts_at: Moment
    ends_at: Moment
    rsvp_deadline: Moment | None = None
    capacity: Count
    price_fen: Fen = 0  # 0 = free
    sub_group_id: Id | None = None  # a city chapter of the community
    reminder_hours: SmallCount = 24

    def to_input(self) -> actions.EventInput:
        return actions.EventInput(
            title=self.title,
            venue=self.venue,
            address=self.address,
            description=self.description,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            rsvp_deadline=self.rsvp_deadline,
            capacity=self.capacity,
            price_fen=self.price_fen,
            sub_group_id=self.sub_group_id,
            reminder_hours=self.reminder_hours,
        )


class EventCancelIn(Schema):
    reason: MultilineText = Field("", max_length=200)


class CheckInIn(Schema):
    token: Text = Field(..., max_length=32)  # from the ticket's QR code (the whole check-in URL is accepted too)


class EventQuery(PageQuery):
    past: bool = False


class StatusQuery(PageQuery):
    status: Text = Field("", max_length=16)
