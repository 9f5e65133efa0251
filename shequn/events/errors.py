"""Stable error codes of events. Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, NotFound


class EventNotFound(NotFound):
    """Events of a community the caller does not belong to look absent (members-only content)."""

    code = "event_not_found"


class RegistrationNotFound(NotFound):
    code = "registration_not_found"


class TicketNotFound(NotFound):
    """A check-in token of another shop (or none at all)."""

    code = "ticket_not_found"


class InvalidEvent(InvalidInput):
    code = "invalid_event"


class RegistrationClosed(Conflict):
    """Sign-up is not possible now: not published, started, past the deadline, cancelled."""

    code = "registration_closed"


class AlreadyRegistered(Conflict):
    code = "already_registered"


class TicketRequired(Conflict):
    """A paid event with seats free: the member buys a ticket instead of an RSVP."""

    code = "ticket_required"


class CannotCancel(Conflict):
    code = "cannot_cancel"


class CheckInRefused(Conflict):
    """Waitlisted or cancelled registrations, tickets of another event, cancelled events."""

    code = "check_in_refused"


class InvalidEventTransition(Conflict):
    code = "invalid_event_transition"


class EventFull(Conflict):
    """Paid events: no seat to buy (the waitlist takes sign-ups)."""

    code = "event_full"
