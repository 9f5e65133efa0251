"""Stable error codes of flash sales."""

from shequn.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
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


REFUSAL_CODES = {
    Refusal.NOT_READY: "flash_busy",
    Refusal.NOT_OPEN: "flash_not_open",
    Refusal.CLOSED: "flash_closed",
    Refusal.PAUSED: "flash_paused",
    Refusal.PRIORITY_ONLY: "flash_priority_only",
    Refusal.OVER_CAP: "flash_over_cap",
    Refusal.SOLD_OUT: "flash_sold_out",
}
