"""Stable error codes of paid membership and joining rules. Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class RecruitmentClosed(Conflict):
    """New members join only inside a recruitment window (renewals are always open)."""

    code = "recruitment_closed"


class CommunityFull(Conflict):
    code = "community_full"


class InviteRequired(PermissionDenied):
    """An invite-only community admits only through a member's personal link or a channel link."""

    code = "invite_required"


class ApprovalRequired(PermissionDenied):
    """The community reviews applications: apply first, join (or pay) once approved."""

    code = "approval_required"


class PaymentRequired(Conflict):
    """A paid community is joined by paying its fee through the checkout, not by this call."""

    code = "payment_required"


class AlreadyMember(Conflict):
    code = "already_member"


class MemberBanned(PermissionDenied):
    code = "member_banned"


class RenewalNotAllowed(Conflict):
    code = "renewal_not_allowed"


class RefundWindowClosed(Conflict):
    code = "refund_window_closed"


class RefundNotAllowed(Conflict):
    code = "refund_not_allowed"


class InvalidMembershipSettings(InvalidInput):
    code = "invalid_membership_settings"


class InvalidWindow(InvalidInput):
    code = "invalid_window"


class WindowNotFound(NotFound):
    code = "window_not_found"


class JoinRequestNotFound(NotFound):
    code = "join_request_not_found"


class JoinRequestDecided(Conflict):
    code = "join_request_decided"
