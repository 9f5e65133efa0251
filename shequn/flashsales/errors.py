"""Stable error codes of flash sales."""

from shequn.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied, RateLimited
from shequn.gate.base import Refusal


class FlashSaleInvalid(InvalidInput):
    code = "flash_sale_invalid"


class FlashSaleNotFound(NotFound):
    code = "flash_sale_not_found"


class FlashItemNotFound(NotFound):
    code = "flash_item_not_found"


class FlashClaimNotFound(NotFound):
    code = "flash_claim_not_found"


class MembersOnly(PermissionDenied):
    code = "flash_members_only"


class ReservationClosed(Conflict):
    code = "flash_reservation_closed"


class AttemptRefused(Conflict):
    """The gate (or the audience rule before it) did not admit the attempt; ``code`` says why."""

    code = "flash_refused"


class AttemptRateLimited(RateLimited):
    """Too many attempts from this member or address in the gate's window (bots hammering it)."""

    code = "flash_rate_limited"


class TicketExpired(NotAuthenticated):
    """The gate ticket's lifetime is over: the page (or the ticket endpoint) issues a fresh one."""

    code = "flash_ticket_expired"


class TicketInvalid(PermissionDenied):
    """A gate ticket that is malformed, not signed by this site, or for another item."""

    code = "flash_ticket_invalid"


REFUSAL_CODES = {
    Refusal.NOT_READY: "flash_busy",
    Refusal.NOT_OPEN: "flash_not_open",
    Refusal.CLOSED: "flash_closed",
    Refusal.PAUSED: "flash_paused",
    Refusal.PRIORITY_ONLY: "flash_priority_only",
    Refusal.OVER_CAP: "flash_over_cap",
    Refusal.SOLD_OUT: "flash_sold_out",
    Refusal.RATE_LIMITED: "flash_rate_limited",
}
