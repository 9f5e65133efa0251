"""API shapes of prepaid packages. Money is integer fen; times are ISO 8601 with offset."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from shequn.core.schemas import Fen, Id, PageQuery, Text

from .actions import MAX_PORTIONS, MAX_STOCK, MAX_VALIDITY_DAYS
from .models import MemberPackage, PackageEntry, PackagePlan
from .selectors import LiabilityRow, plan_sku_id


class PackagePlanOut(Schema):
    id: int
    shop_slug: str
    title: str
    description: str
    item_sku_id: int  # the goods SKU each portion is
    item_title: str
    portions: int
    price_fen: int
    shipping_included: bool  # False: redeemed by pickup only
    validity_days: int
    refund_rule: str  # pro_rata or none
    sku_id: int | None  # buy it with POST /orders (fulfilment "none"), or as a gift with POST /gifts
    on_sale: bool

    @staticmethod
    def from_model(plan: PackagePlan) -> dict[str, Any]:
        return {
            "id": plan.pk,
            "shop_slug": plan.shop.slug,
            "title": plan.title,
            "description": plan.description,
            "item_sku_id": plan.item_id,
            "item_title": f"{plan.item.product.title} {plan.item.spec}",
            "portions": plan.portions,
            "price_fen": plan.price_fen,
            "shipping_included": plan.shipping_included,
            "validity_days": plan.validity_days,
            "refund_rule": plan.refund_rule,
            "sku_id": plan_sku_id(plan),
            "on_sale": plan.product.on_shelf,
        }


class PackagePlansQuery(PageQuery):
    shop: Text | None = Field(None, max_length=64)  # a shop's slug


class PackageEntryOut(Schema):
    kind: str  # bought, redeemed or refunded
    portions: int  # signed
    value_fen: int  # signed: the portions' share of what was paid
    channel: str  # member or counter (redemptions)
    order_number: str | None  # the redemption's zero-payment order, or the purchase
    order_status: str | None
    created_at: datetime

    @staticmethod
    def from_model(entry: PackageEntry) -> dict[str, Any]:
        return {
            "kind": entry.kind,
            "portions": entry.portions,
            "value_fen": entry.value_fen,
            "channel": entry.channel,
            "order_number": entry.order.number if entry.order else None,
            "order_status": entry.order.status if entry.order else None,
            "created_at": entry.created_at,
        }


class PackageOut(Schema):
    id: int
    plan_id: int
    title: str
    status: str  # active, gifting (waiting for a gift's claim) or refunded
    portions_total: int
    portions_left: int
    paid_fen: int
    value_left_fen: int  # the unused portions' share of what was paid
    shipping_included: bool
    refund_rule: str
    expires_at: datetime
    created_at: datetime

    @staticmethod
    def from_model(package: MemberPackage) -> dict[str, Any]:
        return {
            "id": package.pk,
            "plan_id": package.plan_id,
            "title": package.plan.title,
            "status": package.status,
            "portions_total": package.portions_total,
            "portions_left": package.portions_left,
            "paid_fen": package.paid_fen,
            "value_left_fen": package.value_left_fen,
            "shipping_included": package.shipping_included,
            "refund_rule": package.refund_rule,
            "expires_at": package.expires_at,
            "created_at": package.created_at,
        }


class PackageDetailOut(PackageOut):
    entries: list[PackageEntryOut]  # newest first, at most 200

    @staticmethod
    def from_package(package: MemberPackage, entries: Any) -> dict[str, Any]:
        return {**PackageOut.from_model(package), "entries": [PackageEntryOut.from_model(e) for e in entries]}


class PackageRedeemIn(Schema):
    portions: int = Field(ge=1, le=99)
    fulfilment: Literal["delivery", "pickup"]
    address_id: Id | None = None  # one of the holder's addresses (delivery)
    pickup_point_id: Id | None = None  # one of the shop's pickup points (pickup)
    buyer_note: Text = Field("", max_length=200)


class PackageGiftIn(Schema):
    message: Text = Field("", max_length=60)


class PackageRedemptionOut(Schema):
    order_number: str  # the zero-payment order drawing the portions
    portions_left: int


class PackagePlanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: Text = Field(max_length=60)
    item_sku_id: Id
    portions: int = Field(ge=1, le=MAX_PORTIONS)
    price_fen: Fen
    validity_days: int = Field(ge=1, le=MAX_VALIDITY_DAYS)
    stock: int = Field(ge=0, le=MAX_STOCK)
    shipping_included: bool = True
    refund_rule: Literal["pro_rata", "none"] = "pro_rata"
    description: Text = Field("", max_length=500)
    on_sale: bool = True


class PackageHeldOut(PackageDetailOut):
    owner_phone: str  # masked: 138****1234
    owner_nickname: str


class PackageLiabilityOut(Schema):
    plan_id: int  # 0 for the total
    title: str
    holders: int
    portions_left: int
    value_left_fen: int

    @staticmethod
    def from_row(row: LiabilityRow) -> dict[str, Any]:
        return {
            "plan_id": row.plan_id,
            "title": row.title,
            "holders": row.holders,
            "portions_left": row.portions_left,
            "value_left_fen": row.value_left_fen,
        }


class PackageLiabilitiesOut(Schema):
    rows: list[PackageLiabilityOut]
    total: PackageLiabilityOut
