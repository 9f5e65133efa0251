"""Stable error codes of coupons."""

from shequn.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class CouponInvalid(InvalidInput):
    """A template the console or the API tried to save breaks a rule (``details["field"]`` names it)."""

    code = "coupon_invalid"


class CouponNotFound(NotFound):
    code = "coupon_not_found"


class CouponSoldOut(Conflict):
    """Every coupon of the template has been claimed or issued."""

    code = "coupon_sold_out"


class CouponLimitReached(Conflict):
    """The member holds as many coupons of the template as one person may."""

    code = "coupon_limit_reached"


class CouponNotClaimable(Conflict):
    """Not claimable now: stopped, past its dates, or not offered to members to claim themselves."""

    code = "coupon_not_claimable"


class CouponMembersOnly(PermissionDenied):
    code = "coupon_members_only"


class CouponNotApplicable(Conflict):
    """The chosen coupon does not apply to this checkout; the message says why."""

    code = "coupon_not_applicable"
