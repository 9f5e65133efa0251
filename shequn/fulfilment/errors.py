"""Stable error codes of group-buy fulfilment and leader settlement. Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class LeaderNotFound(NotFound):
    """The caller is not an active leader with a pickup point (or not of this shop)."""

    code = "leader_not_found"


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class TicketNotFound(NotFound):
    code = "pickup_code_not_found"


class NotYourPickupPoint(PermissionDenied):
    code = "not_your_pickup_point"


class AlreadyPickedUp(Conflict):
    code = "already_picked_up"


class NotReadyForPickup(Conflict):
    code = "not_ready_for_pickup"


class CampaignNotSucceeded(Conflict):
    code = "campaign_not_succeeded"


class GoodsAlreadyReceived(Conflict):
    code = "goods_already_received"


class InvalidReceipt(InvalidInput):
    code = "invalid_receipt"


class SettlementNotFound(NotFound):
    code = "settlement_not_found"


class InvalidPeriod(InvalidInput):
    code = "invalid_period"


class NothingToSettle(Conflict):
    code = "nothing_to_settle"


class InvalidSettlementState(Conflict):
    code = "invalid_settlement_state"


class InvalidPayout(InvalidInput):
    code = "invalid_payout"


class InvalidWeight(InvalidInput):
    """A recorded weight that is missing, not positive, or far beyond the estimate."""

    code = "invalid_weight"


class NotSoldByWeight(InvalidInput):
    code = "not_sold_by_weight"


class WeighingClosed(Conflict):
    """The order cannot be weighed now: not paid online yet, or already completed, closed or cancelled."""

    code = "weighing_closed"
