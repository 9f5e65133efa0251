"""Stable error codes of the members' board. Codes never change once shipped."""

from shequn.core.errors import InvalidInput, NotFound, PermissionDenied, RateLimited


class BoardNotFound(NotFound):
    """The board of a community the caller does not belong to looks absent (members-only content)."""

    code = "board_not_found"


class ThreadNotFound(NotFound):
    code = "thread_not_found"


class CommentNotFound(NotFound):
    code = "comment_not_found"


class CategoryNotFound(NotFound):
    code = "category_not_found"


class ReportNotFound(NotFound):
    code = "report_not_found"


class MemberMuted(PermissionDenied):
    code = "member_muted"


class PromotionLimitReached(RateLimited):
    code = "promotion_limit_reached"


class InvalidThread(InvalidInput):
    code = "invalid_thread"
