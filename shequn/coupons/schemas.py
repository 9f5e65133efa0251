"""API shapes of coupons. Money is integer fen; times are ISO 8601 with offset."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from shequn.core.schemas import Fen, Id, Moment, PageQuery, Text

from .models import CouponTemplate, MemberCoupon
from .rules import coupon_face, describe, members_only, rule_notes
from .selectors import TemplateFigures


class CouponTemplateOut(Schema):
    """A coupon as members see it (the claim centre)."""

    id: int
    shop_slug: str
    name: str
    kind: str
    face: str  # 满¥100.00减¥20.00 …
    rules: list[str]  # scope, audience, combining with member prices, one per order
    validity: str  # fixed or days
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    per_person_limit: int
    left: int  # not claimed yet

    @staticmethod
    def from_model(template: CouponTemplate) -> dict[str, Any]:
        return {
            "id": template.pk,
            "shop_slug": template.shop.slug,
            "name": template.name,
            "kind": template.kind,
            "face": describe(template),
            "rules": rule_notes(template),
            "validity": template.validity,
            "valid_from": template.valid_from,
            "valid_until": template.valid_until,
            "valid_days": template.valid_days,
            "per_person_limit": template.per_person_limit,
            "left": template.remaining,
        }


class CentreCouponOut(CouponTemplateOut):
    """A coupon of the claim centre, for the caller."""

    # Why the caller cannot claim it (a community-only coupon outside its community), else null.
    refusal: str | None

    @staticmethod
    def for_caller(template: CouponTemplate, audience: set[int]) -> dict[str, Any]:
        refusal = None if template.pk in audience else members_only(template)
        return {**CouponTemplateOut.from_model(template), "refusal": refusal}


class MemberCouponOut(Schema):
    id: int  # send as the checkout's coupon_id
    template: CouponTemplateOut
    status: str  # claimed, used, returned (usable again) or expired
    source: str  # centre, post, staff, welcome, lottery or red_packet
    face: str  # this coupon's face (a red packet's coupon carries its own amount)
    valid_from: datetime
    valid_until: datetime
    claimed_at: datetime
    used_at: datetime | None

    @staticmethod
    def from_model(coupon: MemberCoupon) -> dict[str, Any]:
        return {
            "id": coupon.pk,
            "template": CouponTemplateOut.from_model(coupon.template),
            "status": coupon.status,
            "source": coupon.source,
            "face": coupon_face(coupon),
            "valid_from": coupon.valid_from,
            "valid_until": coupon.valid_until,
            "claimed_at": coupon.claimed_at,
            "used_at": coupon.used_at,
        }


class ClaimIn(Schema):
    post_id: Id | None = None  # claimed from the coupon card under this post


class CentreQuery(PageQuery):
    shop: Text | None = Field(None, max_length=64)  # a shop's slug


class MyCouponsQuery(PageQuery):
    tab: Literal["usable", "used", "expired"] = "usable"


class CouponTemplateIn(Schema):
    """A template (console). Unknown fields are refused: no field can make sharing, posting to
    Moments or inviting friends a condition (RULES.md), so none is taken silently either."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(max_length=40)
    kind: Literal["threshold", "percent", "no_threshold", "free_item"]
    total_quantity: int = Field(ge=1, le=1_000_000)
    threshold_fen: Fen = 0
    amount_fen: Fen = 0
    percent_off: int = Field(0, ge=0, le=99)
    cap_fen: Fen | None = None
    free_sku_id: Id | None = None
    scope: Literal["shop", "categories", "products"] = "shop"
    category_ids: list[Id] = Field(default_factory=list, max_length=100)
    product_ids: list[Id] = Field(default_factory=list, max_length=100)
    community_id: Id | None = None
    validity: Literal["fixed", "days"] = "fixed"
    valid_from: Moment | None = None
    valid_until: Moment | None = None
    valid_days: int | None = Field(None, ge=1, le=365)
    per_person_limit: int = Field(1, ge=1, le=100)
    with_member_prices: bool = False
    claimable: bool = True
    welcome_community_id: Id | None = None
    is_active: bool = True


class CouponConsoleOut(CouponTemplateOut):
    """A template with its console figures."""

    total_quantity: int
    issued: int  # claimed or issued
    reserved: int  # set aside for lottery prizes published and not yet given
    used: int  # on paid orders not refunded in full
    cost_fen: int  # the discount those orders got
    orders: int
    sales_fen: int  # what those orders' buyers paid, net of refunds
    is_active: bool
    claimable: bool

    @staticmethod
    def from_figures(template: CouponTemplate, figures: TemplateFigures) -> dict[str, Any]:
        return {
            **CouponTemplateOut.from_model(template),
            "total_quantity": template.total_quantity,
            "issued": figures.issued,
            "reserved": template.reserved,
            "used": figures.used,
            "cost_fen": figures.cost_fen,
            "orders": figures.orders,
            "sales_fen": figures.sales_fen,
            "is_active": template.is_active,
            "claimable": template.claimable,
        }


class IssueIn(Schema):
    """One coupon each to the members of a tag, or to members listed by phone number."""

    tag_id: Id | None = None
    phones: list[Text] = Field(default_factory=list, max_length=2000)


class IssueOut(Schema):
    issued: int
    skipped: int
