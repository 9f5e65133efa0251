"""Reads of prepaid packages. ``access_*`` fetch an object scoped to the caller (foreign ids look
absent). ``liabilities`` and ``books_balance`` read the ledger: the report is its sum by plan."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from shequn.shops.models import Shop

from .enums import PackageStatus
from .errors import PackageNotFound
from .models import MemberPackage, PackageEntry, PackagePlan

PACKAGE_RELATED = ("plan__item__product", "shop", "owner", "order_line__order")


def plans_for_sale(shop: Shop | None = None) -> QuerySet[PackagePlan]:
    rows = PackagePlan.objects.filter(product__on_shelf=True, product__skus__is_active=True).select_related(
        "product", "item__product", "shop"
    )
    return rows.filter(shop=shop) if shop is not None else rows


def access_plan_for_sale(plan_id: int) -> PackagePlan:
    plan = plans_for_sale().filter(pk=plan_id).first()
    if plan is None:
        raise PackageNotFound(_("套餐不存在或已停售"))
    return plan


def plan_sku_id(plan: PackagePlan) -> int | None:
    """The one SKU members buy the package by."""
    return plan.product.skus.filter(is_active=True).values_list("pk", flat=True).first()


def shop_plans(shop: Shop) -> QuerySet[PackagePlan]:
    return PackagePlan.objects.filter(shop=shop).select_related("product", "item__product")


def access_plan(shop: Shop, plan_id: int) -> PackagePlan:
    plan = shop_plans(shop).filter(pk=plan_id).first()
    if plan is None:
        raise PackageNotFound(_("套餐不存在"))
    return plan


def my_packages(user: Any) -> QuerySet[MemberPackage]:
    return MemberPackage.objects.filter(owner=user).select_related(*PACKAGE_RELATED)


def access_my_package(user: Any, package_id: int) -> MemberPackage:
    package = my_packages(user).filter(pk=package_id).first() if getattr(user, "is_authenticated", False) else None
    if package is None:
        raise PackageNotFound(_("套餐卡不存在"))
    return package


def shop_packages(shop: Shop) -> QuerySet[MemberPackage]:
    return MemberPackage.objects.filter(shop=shop).select_related(*PACKAGE_RELATED)


def access_shop_package(shop: Shop, package_id: int) -> MemberPackage:
    package = shop_packages(shop).filter(pk=package_id).first()
    if package is None:
        raise PackageNotFound(_("套餐卡不存在"))
    return package


def history(package: MemberPackage) -> QuerySet[PackageEntry]:
    """The package's ledger, newest first, with the redemption orders (their numbers and status)."""
    return package.entries.select_related("order", "actor")


@dataclass(frozen=True)
class LiabilityRow:
    plan_id: int
    title: str
    holders: int  # packages with portions still to redeem
    portions_left: int
    value_left_fen: int


def liabilities(shop: Shop) -> tuple[list[LiabilityRow], LiabilityRow]:
    """What the shop still owes on packages, by plan, summed from the ledger (not the running
    balances): unredeemed portions and the value members paid for them. Rows and the total."""
    sums = {
        row["package__plan_id"]: row
        for row in PackageEntry.objects.filter(shop=shop)
        .values("package__plan_id")
        .annotate(portions=Sum("portions"), value=Sum("value_fen"))
        .order_by()
    }
    holders = dict(
        MemberPackage.objects.filter(shop=shop, portions_left__gt=0)
        .exclude(status=PackageStatus.REFUNDED)
        .values("plan_id")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("plan_id", "count")
    )
    rows = [
        LiabilityRow(plan.pk, plan.title, holders.get(plan.pk, 0), sums[plan.pk]["portions"], sums[plan.pk]["value"])
        for plan in PackagePlan.objects.filter(pk__in=sums).order_by("-id")
    ]
    total = LiabilityRow(
        0,
        _("合计"),
        sum(row.holders for row in rows),
        sum(row.portions_left for row in rows),
        sum(row.value_left_fen for row in rows),
    )
    return rows, total


def books_balance(shop: Shop | None = None) -> list[str]:
    """The invariants of the packages' books, for tests and a state machine: every package's
    running balances equal its ledger's sums, none negative, and refunded packages hold nothing.
    Returns what is wrong (empty when the books balance)."""
    rows = MemberPackage.objects.all() if shop is None else MemberPackage.objects.filter(shop=shop)
    problems = []
    for package in rows.annotate(portions=Sum("entries__portions"), value=Sum("entries__value_fen")):
        if (package.portions, package.value) != (package.portions_left, package.value_left_fen):
            problems.append(f"package {package.pk}: ledger {package.portions}/{package.value} fen")
        if package.status == PackageStatus.REFUNDED and (package.portions_left or package.value_left_fen):
            problems.append(f"package {package.pk}: refunded but holds {package.portions_left}")
    negative = rows.filter(Q(portions_left__lt=0) | Q(value_left_fen__lt=0)).count()
    if negative:
        problems.append(f"{negative} packages below zero")
    return problems
