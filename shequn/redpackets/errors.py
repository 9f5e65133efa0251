"""Stable error codes of red packets."""

from shequn.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied, RateLimited
from shequn.gate.base import Refusal


class RedPacketInvalid(InvalidInput):
    code = "red_packet_invalid"


class RedPacketNotFound(NotFound):
    code = "red_packet_not_found"


class NotInAudience(PermissionDenied):
    """The member is not in the packet's audience (the community, or the event's attendees)."""

    code = "red_packet_audience_only"


class GrabRefused(Conflict):
    """The gate did not admit the grab; ``code`` says why."""

    code = "red_packet_refused"


class GrabRateLimited(RateLimited):
    code = "red_packet_rate_limited"


class TicketExpired(NotAuthenticated):
    code = "red_packet_ticket_expired"


class TicketInvalid(PermissionDenied):
    code = "red_packet_ticket_invalid"


REFUSAL_CODES = {
    Refusal.NOT_READY: "red_packet_busy",
    Refusal.NOT_OPEN: "red_packet_not_open",
    Refusal.CLOSED: "red_packet_closed",
    Refusal.PAUSED: "red_packet_busy",
    Refusal.PRIORITY_ONLY: "red_packet_busy",
    Refusal.OVER_CAP: "red_packet_already_grabbed",
    Refusal.SOLD_OUT: "red_packet_all_grabbed",
    Refusal.RATE_LIMITED: "red_packet_rate_limited",
}
