"""Stable error codes of prepaid packages."""

from shequn.core.errors import Conflict, InvalidInput, NotFound


class PackageInvalid(InvalidInput):
    """A package the console or the API tried to save breaks a rule (``details["field"]`` names it)."""

    code = "package_invalid"


class PackageNotFound(NotFound):
    code = "package_not_found"


class PortionsShort(Conflict):
    """Fewer portions left than asked for (another counter drew them first)."""

    code = "package_portions_short"


class PackageNotRedeemable(Conflict):
    """Expired, refunded, or waiting for a gift's claim."""

    code = "package_not_redeemable"


class PackageNotRefundable(Conflict):
    """The package's rule refunds nothing, or nothing is left to refund."""

    code = "package_not_refundable"
