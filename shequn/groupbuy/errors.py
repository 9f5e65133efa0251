"""Stable error codes of group buying (接龙). Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied, RateLimited


class CampaignNotFound(NotFound):
    """Also what members outside the taking-part communities and other shops' staff see."""

    code = "campaign_not_found"


class SignUpNotFound(NotFound):
    code = "sign_up_not_found"


class LeaderNotFound(NotFound):
    code = "leader_not_found"


class CampaignInvalid(InvalidInput):
    code = "campaign_invalid"


class CampaignNotOpen(Conflict):
    """Not open for sign-ups: a draft, not started, past its deadline, or closed."""

    code = "campaign_not_open"


class CampaignSoldOut(Conflict):
    code = "campaign_sold_out"


class PerPersonCapExceeded(Conflict):
    code = "campaign_cap_exceeded"


class SignUpNotChangeable(Conflict):
    code = "sign_up_not_changeable"


class NotALeader(PermissionDenied):
    code = "not_a_leader"


class PickupPointFull(Conflict):
    code = "pickup_point_full"


class CampaignBusy(RateLimited):
    """The gate is rebuilding the campaign's pool, or this member or address tried too often."""

    code = "campaign_busy"


class TicketNotFound(NotFound):
    """A queue ticket that is not the caller's looks absent."""

    code = "sign_up_ticket_not_found"


class ClaimReleased(Conflict):
    """An admitted claim could not become a sign-up; ``code`` is the stored reason's code."""

    code = "sign_up_released"


class SignUpPassExpired(NotAuthenticated):
    """The 接龙 gate ticket's lifetime is over: the page (or the ticket endpoint) issues a fresh one."""

    code = "campaign_ticket_expired"


class SignUpPassInvalid(PermissionDenied):
    """A 接龙 gate ticket that is malformed, not signed by this site, or for another campaign."""

    code = "campaign_ticket_invalid"
