"""The /api/v1 root: one NinjaAPI, each app contributes its router."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from shequn.accounts.api import router as accounts_router
from shequn.accounts.auth import BearerTokenAuth, SessionCookieAuth
from shequn.analytics.api import router as analytics_router
from shequn.board.api import router as board_router
from shequn.catalog.api import router as catalog_router
from shequn.communities.api import router as communities_router
from shequn.content.api import router as content_router
from shequn.core.errors import DomainError
from shequn.coupons.api import router as coupons_router
from shequn.courses.api import router as courses_router
from shequn.distribution.api import router as distribution_router
from shequn.events.api import router as events_router
from shequn.flashsales.api import router as flashsales_router
from shequn.fulfilment.api import router as fulfilment_router
from shequn.gifts.api import router as gifts_router
from shequn.groupbuy.api import router as groupbuy_router
from shequn.leaders.api import router as leaders_router
from shequn.lotteries.api import router as lotteries_router
from shequn.loyalty.api import router as loyalty_router
from shequn.merchants.api import router as merchants_router
from shequn.notifications.api import router as notifications_router
from shequn.orders.api import router as orders_router
from shequn.packages.api import router as packages_router
from shequn.payments.api import router as payments_router
from shequn.privacy.api import router as privacy_router
from shequn.redpackets.api import router as redpackets_router
from shequn.shops.api import router as shops_router
from shequn.storedvalue.api import router as storedvalue_router
from shequn.teambuy.api import router as teambuy_router
from shequn.wallets.api import router as wallets_router

api = NinjaAPI(
    title="shequn API",
    version="1",
    description="Community commerce: members' shop, orders, payments and the operator console.",
    urls_namespace="api",
    # Bearer tokens for apps; the page session (with CSRF) for the H5 site's own calls.
    auth=[BearerTokenAuth(), SessionCookieAuth(csrf=True)],
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"code": "not_authenticated", "message": _("请先登录")}, status=401)


def _field_names(errors: list[dict[str, Any]]) -> list[str]:
    """The fields named by pydantic's errors, in order: the last name in each error's location."""
    names: list[str] = []
    for error in errors:
        name = next((str(part) for part in reversed(error.get("loc", ())) if isinstance(part, str)), "")
        if name and name not in names:
            names.append(name)
    return names


@api.exception_handler(NinjaValidationError)
def invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = _field_names(exc.errors)
    message = _("请求参数有误：%(fields)s") % {"fields": ", ".join(fields)} if fields else _("请求参数有误")
    return api.create_response(
        request,
        {"code": "invalid_input", "message": message, "details": {"errors": exc.errors}},
        status=422,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"code": "http_error", "message": str(exc)}, status=exc.status_code)


api.add_router("/accounts", accounts_router)
api.add_router("/shops", shops_router)
api.add_router("/catalog", catalog_router)
api.add_router("/communities", communities_router)
api.add_router("/board", board_router)
api.add_router("/content", content_router)
api.add_router("/courses", courses_router)
api.add_router("/events", events_router)
api.add_router("/orders", orders_router)
api.add_router("/payments", payments_router)
api.add_router("/notifications", notifications_router)
api.add_router("/analytics", analytics_router)
api.add_router("/leaders", leaders_router)
api.add_router("/groupbuy", groupbuy_router)
api.add_router("/fulfilment", fulfilment_router)
api.add_router("/teambuy", teambuy_router)
api.add_router("/flashsales", flashsales_router)
api.add_router("/lotteries", lotteries_router)
api.add_router("/redpackets", redpackets_router)
api.add_router("/coupons", coupons_router)
api.add_router("/packages", packages_router)
api.add_router("/gifts", gifts_router)
api.add_router("/loyalty", loyalty_router)
api.add_router("/stored-value", storedvalue_router)
api.add_router("/distribution", distribution_router)
api.add_router("/wallets", wallets_router)
api.add_router("/me", privacy_router)
api.add_router("/merchants", merchants_router)
