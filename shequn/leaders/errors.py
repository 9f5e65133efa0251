"""Stable error codes of the leaders app. Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied


class LeaderNotFound(NotFound):
    """Missing ids and other shops' leaders look the same."""

    code = "leader_not_found"


class NotAShopMember(NotFound):
    """Only current members of one of the shop's communities may apply (others see a 404)."""

    code = "not_a_member"


class ApplicationExists(Conflict):
    code = "leader_application_exists"


class InvalidApplication(InvalidInput):
    code = "invalid_leader_application"


class InvalidCommissionRate(InvalidInput):
    code = "invalid_commission_rate"


class LeaderTransitionRefused(InvalidTransition):
    code = "leader_invalid_transition"


class NotALeader(PermissionDenied):
    code = "not_a_leader"
