"""API shapes for referral distribution. Names shown to others are masked."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from shequn.core.phone import mask_name
from shequn.core.schemas import Count, Fen, Id, PageQuery, SmallCount, Text

from .models import CommissionRule, DistributionSettings, Promoter, PromoterLevel


class OpenBody(Schema):
    """A write body whose unknown fields the API passes on, so the action can refuse them by name."""

    def data(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class DistributionSettingsIn(OpenBody):
    enabled: bool | None = None
    auto_approve: bool | None = None
    tiers: Count | None = None
    attribution: Text | None = Field(None, max_length=16)
    binding_days: SmallCount | None = None


class DistributionSettingsOut(Schema):
    enabled: bool
    auto_approve: bool
    tiers: int
    attribution: str
    binding_days: int

    @staticmethod
    def from_model(found: DistributionSettings) -> "DistributionSettingsOut":
        return DistributionSettingsOut(
            enabled=found.enabled,
            auto_approve=found.auto_approve,
            tiers=2 if found.tier2_enabled else 1,
            attribution=found.attribution,
            binding_days=found.binding_days,
        )


class RuleIn(OpenBody):
    scope: Text = Field(..., max_length=16)
    kind: Text = Field(..., max_length=16)
    tier1_value: Count
    tier2_value: Count = 0
    category_id: Id | None = None
    product_id: Id | None = None
    basis: Text = Field("sale", max_length=16)


class RuleOut(Schema):
    id: int
    scope: str
    category_id: int | None
    product_id: int | None
    kind: str
    tier1_value: int
    tier2_value: int

    @staticmethod
    def from_model(rule: CommissionRule) -> "RuleOut":
        return RuleOut(
            id=rule.pk,
            scope=rule.scope,
            category_id=rule.category_id,
            product_id=rule.product_id,
            kind=rule.kind,
            tier1_value=rule.tier1_value,
            tier2_value=rule.tier2_value,
        )


class LevelIn(Schema):
    name: Text = Field(..., max_length=20)
    min_sales_fen: Fen
    extra_bp: SmallCount = 0


class LevelOut(Schema):
    id: int
    name: str
    min_sales_fen: int
    extra_bp: int

    @staticmethod
    def from_model(level: PromoterLevel) -> "LevelOut":
        return LevelOut(id=level.pk, name=level.name, min_sales_fen=level.min_sales_fen, extra_bp=level.extra_bp)


class PromoterOut(Schema):
    id: int
    code: str
    status: str
    applied_at: datetime
    decided_at: datetime | None

    @staticmethod
    def from_model(promoter: Promoter) -> "PromoterOut":
        return PromoterOut(
            id=promoter.pk,
            code=promoter.code,
            status=promoter.status,
            applied_at=promoter.applied_at,
            decided_at=promoter.decided_at,
        )


class ConsolePromoterOut(PromoterOut):
    user_id: int
    name: str

    @staticmethod
    def from_model(promoter: Promoter) -> "ConsolePromoterOut":
        return ConsolePromoterOut(
            **PromoterOut.from_model(promoter).model_dump(),
            user_id=promoter.user_id,
            name=mask_name(str(promoter.user)),
        )


class PromoterQuery(PageQuery):
    status: Text | None = Field(None, max_length=16)


class VisitIn(Schema):
    code: Text = Field(..., max_length=16)
    target: Text = Field("", max_length=200)


class VisitOut(Schema):
    promoter_code: str
    bound: bool
    bound_promoter_code: str | None
    expires_at: datetime | None


class TopPromoterOut(Schema):
    code: str
    name: str
    sales_fen: int
    commission_fen: int
    orders: int


class SharedDeviceOut(Schema):
    device: str
    people: int


class RapidRefundOut(Schema):
    code: str
    lines: int
    refunded: int  # refunded within ``days`` of payment
    share: float
    days: int


class FiguresOut(Schema):
    top_promoters: list[TopPromoterOut]
    commission_fen: int
    referred_sales_fen: int
    shop_sales_fen: int
    tree_depth: int
    tree_breadth: int
    buyers: int
    referred_buyers: int
    k_factor: float
    shared_devices: list[SharedDeviceOut]
    rapid_refunds: list[RapidRefundOut]


class PromoterFiguresOut(Schema):
    visits: int
    customers: int
    customer_names: list[str]
    team: list[str]
    orders: int
    frozen_commission_fen: int
    settled_commission_fen: int


class ShareLinkOut(Schema):
    title: str
    target: str
    link: str
    qr: str
