"""Stable error codes of the shops app."""

from shequn.core.errors import PermissionDenied


class ShopUnavailable(PermissionDenied):
    """The platform suspended or closed the shop: its member pages and checkout refuse with
    403 (not 423 Locked, a WebDAV status clients and proxies treat oddly; docs/adr/0014), its
    data stays, and its console is read-only."""

    code = "shop_suspended"
