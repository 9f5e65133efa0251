"""Stable error codes of gifts."""

from shequn.core.errors import Conflict, InvalidInput, NotFound


class GiftNotFound(NotFound):
    code = "gift_not_found"


class NotGiftable(InvalidInput):
    """What was chosen cannot be sent as a gift (only kinds whose app registered gift rules)."""

    code = "gift_not_giftable"


class GiftNotClaimable(Conflict):
    """Claimed already, refunded, not paid yet, past its claim time, or the buyer's own gift."""

    code = "gift_not_claimable"
