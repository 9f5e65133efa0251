"""Reads of the platform console: who is platform staff, the shops with their figures, the
applications queue and the cross-shop audit search.

Figures are annotated per shop by subqueries, so a page of shops is one statement however many
orders the shops hold (ARCHITECTURE rule 12).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core.errors import NotAuthenticated, NotFound, PermissionDenied
from shequn.core.models import AuditLog
from shequn.orders.models import Order, RefundRequest
from shequn.shops.models import Shop

from .enums import ApplicationStatus
from .models import MerchantApplication


def is_platform_staff(user: Any) -> bool:
    """Platform staff: a superuser or an account with ``is_staff`` (accounts.User), never merely a
    shop's staff (StaffMember)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and (user.is_staff or user.is_superuser))


def check_platform_staff(user: Any) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"))
    if not is_platform_staff(user):
        raise PermissionDenied(_("仅平台管理员可以访问平台控制台"), code="platform_staff_only")


def _one_figure(rows: QuerySet[Any], expression: Any) -> Coalesce:
    """A per-shop aggregate of ``rows`` (filtered on ``shop=OuterRef("pk")``) as a subquery."""
    figure = rows.values("shop").annotate(figure=expression).values("figure")
    return Coalesce(Subquery(figure, output_field=IntegerField()), Value(0))


def platform_shops(*, status: str = "", query: str = "") -> QuerySet[Shop]:
    """Every shop with ``gmv_fen`` (orders paid, minus what was refunded, integer fen) and
    ``after_sales_count`` (after-sales requests of any status: shequn has no complaint record,
    so these stand for complaints), newest first."""
    paid = Order.objects.filter(shop=OuterRef("pk"), paid_at__isnull=False)
    refunds = RefundRequest.objects.filter(shop=OuterRef("pk"))
    rows = Shop.objects.annotate(
        gmv_fen=_one_figure(paid, Sum(F("total_fen") - F("refunded_fen"))),
        after_sales_count=_one_figure(refunds, Count("pk")),
    )
    if status:
        rows = rows.filter(status=status)
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(slug__icontains=query))
    return rows.order_by("-created_at", "-id")


def access_platform_shop(shop_id: int) -> Shop:
    shop = platform_shops().filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    return shop


def applications(*, status: str = "") -> QuerySet[MerchantApplication]:
    """The applications queue: waiting ones first (oldest first, as they are worked), then decided."""
    rows = MerchantApplication.objects.select_related("applicant", "decided_by", "shop")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by(F("decided_at").desc(nulls_first=True), "created_at", "id")


def access_application(application_id: int, *, lock: bool = False) -> MerchantApplication:
    rows = MerchantApplication.objects.select_for_update(of=("self",)) if lock else MerchantApplication.objects
    application = rows.filter(pk=application_id).first()
    if application is None:
        raise NotFound(_("申请不存在"), code="application_not_found")
    return application


def my_applications(user: Any) -> QuerySet[MerchantApplication]:
    if not getattr(user, "is_authenticated", False):
        return MerchantApplication.objects.none()
    return MerchantApplication.objects.filter(applicant=user).select_related("shop").order_by("-created_at", "-id")


def pending_count() -> int:
    return MerchantApplication.objects.filter(status=ApplicationStatus.PENDING).count()


@dataclass(frozen=True)
class AuditFilters:
    shop_id: int | None = None
    actor: str = ""  # username, exact
    action: str = ""  # prefix: "shop." finds shop.suspend, shop.close …
    since: date | None = None  # local days, both ends included
    until: date | None = None


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_search(filters: AuditFilters) -> QuerySet[AuditLog]:
    """Audit entries of every shop (and the platform's own, shop-less ones), newest first."""
    rows = AuditLog.objects.select_related("actor", "shop")
    if filters.shop_id:
        rows = rows.filter(shop_id=filters.shop_id)
    if filters.actor:
        rows = rows.filter(actor__username=filters.actor)
    if filters.action:
        rows = rows.filter(action__startswith=filters.action)
    if filters.since:
        rows = rows.filter(created_at__gte=_local_midnight(filters.since))
    if filters.until:
        rows = rows.filter(created_at__lt=_local_midnight(filters.until + timedelta(days=1)))
    return rows.order_by("-created_at", "-id")
