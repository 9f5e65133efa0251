"""Tables of events: members-only offline events of a community (or of one of its city
chapters), and the members' registrations for them (seat, waitlist place, ticket, check-in)."""

from django.conf import settings
from django.db import models

from .enums import LIVE_STATUSES, EventStatus, RegistrationStatus

DEFAULT_REMINDER_HOURS = 24


class Event(models.Model):
    """An offline event. ``price_fen`` 0 is free (RSVP); otherwise a ticket product of kind
    ``ticket`` is sold through the ordinary order flow and its SKU stock counts the seats
    not held by any order.

    ``confirmed_count`` moves only through single-statement conditional updates and a check
    constraint keeps it within ``capacity``, so concurrent RSVPs never overbook.
    ``waitlist_sequence`` hands out waitlist positions (one ``F()`` increment each).
    """

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="events")
    # A city chapter (sub-group of kind chapter) running the event under the brand; None = the community.
    sub_group = models.ForeignKey(
        "communities.SubGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    title = models.CharField(max_length=60)
    description = models.TextField(blank=True)  # plain text; templates escape it
    venue = models.CharField(max_length=60)  # e.g. 崇明有机农场
    address = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    price_fen = models.PositiveIntegerField(default=0)  # 0 = free
    ticket_product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rsvp_deadline = models.DateTimeField(null=True, blank=True)  # None: until the event starts
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.DRAFT)
    reminder_hours = models.PositiveSmallIntegerField(default=DEFAULT_REMINDER_HOURS)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)  # set once, by the reminder run that sent it
    confirmed_count = models.PositiveIntegerField(default=0)
    waitlist_sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confirmed_count__lte=models.F("capacity")), name="event_within_capacity"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status", "starts_at"]),
            models.Index(fields=["status", "reminder_sent_at", "starts_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_paid(self) -> bool:
        return self.price_fen > 0


class Registration(models.Model):
    """One member's place at one event. Cancelled and refunded rows stay as history; a member
    holds at most one live row (confirmed, waitlisted or offered) per event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations")
    status = models.CharField(max_length=16, choices=RegistrationStatus.choices)
    # Waitlist order (from the event's sequence); kept after promotion for the record.
    position = models.PositiveIntegerField(null=True, blank=True)
    # Paid events: the order that bought the ticket (the orders app's id; no FK across layers).
    order_id = models.PositiveBigIntegerField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)  # OFFERED: pay before this
    # Unguessable, in the ticket's QR code; staff scan it at the door.
    checkin_token = models.CharField(max_length=32, unique=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="one_live_registration_per_member",
            ),
            models.UniqueConstraint(
                fields=["event", "position"],
                condition=models.Q(position__isnull=False),
                name="unique_waitlist_position",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "position"]),
            models.Index(fields=["user", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.user_id}:{self.status}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


__all__ = ["Event", "EventStatus", "Registration", "RegistrationStatus"]
