"""Console plumbing: every operator page runs inside one shop, with a permission check.

The current shop lives in the session (``console_shop_id``); staff of one shop land there
directly. A view decorated with ``@console_view(permission)`` gets ``request.console_shop``
and ``request.staff`` and may assume the permission holds.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from shequn.core.errors import InvalidInput, NotFound

from .errors import ShopUnavailable
from .models import Shop
from .selectors import check_role_allows, require_permission, staff_membership, staff_shops

SESSION_KEY = "console_shop_id"
# Reads only: a suspended or closed shop's staff may look, not change (``check_console_write``).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PLATFORM_HOME = "/platform/"


def current_console_shop(request: HttpRequest) -> Shop | None:
    shops = staff_shops(request.user)
    shop_id = request.session.get(SESSION_KEY)
    shop = shops.filter(pk=shop_id).first() if shop_id else None
    return shop or shops.first()


def set_console_shop(request: HttpRequest, shop_id: int) -> Shop:
    """Switch the console to another shop the caller works for; a foreign shop looks absent (404)."""
    shop = staff_shops(request.user).filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    request.session[SESSION_KEY] = shop.pk
    return shop


def console_view(
    permission: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), login_url="/console/login/")
            shop = current_console_shop(request)
            if shop is None:
                if getattr(request.user, "is_staff", False):  # a platform admin works in the platform console
                    return redirect(PLATFORM_HOME)
                return redirect_to_login(request.get_full_path(), login_url="/console/login/")
            staff = staff_membership(request.user, shop)
            # Set before the role check: a refusal renders in the console layout, with the menu
            # of the pages this role may open (core.middleware.DomainErrorMiddleware).
            request.staff = staff  # type: ignore[attr-defined]
            request.console_shop = shop  # type: ignore[attr-defined]
            check_role_allows(staff, permission)
            check_console_write(request, shop)
            return view(request, *args, **kwargs)

        wrapper.console_permission = permission  # type: ignore[attr-defined]  # read by the console menu
        return wrapper

    return decorator


def api_console_shop(request: HttpRequest, permission: str, shop_id: int | None = None) -> Shop:
    """Which shop an operator API call acts in, authorised for ``permission``.

    The shop comes from ``shop_id`` (a path parameter) when given, else from the
    ``X-Shop`` header (the shop's slug); staff of exactly one shop may leave both out.
    A shop the caller does not work for looks absent (404); a weak role is a 403.
    """
    user: Any = request.user
    shops = staff_shops(user)
    slug = (request.headers.get("X-Shop") or "").strip()
    if shop_id is not None:
        shop = shops.filter(pk=shop_id).first()
    elif slug:
        shop = shops.filter(slug=slug).first()
    else:
        found = list(shops[:2])
        if len(found) > 1:
            raise InvalidInput(_("你在多个店铺任职，请用 X-Shop 请求头指定店铺"), code="shop_required")
        shop = found[0] if found else None
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    require_permission(user, shop, permission)
    check_console_write(request, shop)
    return shop


def check_console_write(request: HttpRequest, shop: Shop) -> None:
    """A shop the platform suspended or closed keeps its console for reading (with a banner,
    console/base.html); every change is refused with ShopUnavailable (403)."""
    if not shop.is_open and request.method not in READ_METHODS:
        raise ShopUnavailable(
            _("店铺%(status)s，控制台只读，不能修改。如有疑问请联系平台。") % {"status": shop.get_status_display()},
            code=f"shop_{shop.status}",
        )
