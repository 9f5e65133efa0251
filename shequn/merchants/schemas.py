"""API schemas of onboarding and the platform console."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from shequn.core.schemas import Day, Id, PageQuery, Text
from shequn.shops.enums import ShopCategory, ShopStatus
from shequn.shops.schemas import AuditEntryOut

from .enums import ApplicationStatus, BusinessSubject


class ApplicationIn(Schema):
    name: Text = Field(max_length=30)
    slug: Text = Field(max_length=32, description="3–32 lower-case letters, digits or single hyphens; not reserved")
    category: ShopCategory
    business_subject: BusinessSubject
    licence_number: Text = Field("", max_length=30, description="统一社会信用代码; empty for 个人 (individual)")


class ApplicationOut(Schema):
    id: int
    name: str
    slug: str
    category: str
    business_subject: str
    licence_number: str
    logo_url: str | None
    status: str  # pending, approved, rejected
    reason: str  # why it was rejected
    shop_id: int | None  # the shop opened on approval
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_logo_url(application: Any) -> str | None:
        return application.logo.url if application.logo else None


class ApplicationQuery(PageQuery):
    status: ApplicationStatus | None = None


class ReasonIn(Schema):
    reason: Text = Field(max_length=200)


class PlatformShopOut(Schema):
    id: int
    name: str
    slug: str
    category: str
    status: str  # active, suspended, closed
    status_reason: str
    gmv_fen: int  # paid orders' totals minus what was refunded
    after_sales_count: int  # after-sales (refund) requests of any status: shequn's complaints record
    created_at: datetime


class PlatformShopQuery(PageQuery):
    status: ShopStatus | None = None
    q: Text = Field("", max_length=60)


class PlatformAuditEntryOut(AuditEntryOut):
    shop_id: int | None  # None: the platform's own entry (a rejected application)


class PlatformAuditQuery(PageQuery):
    shop_id: Id | None = None
    actor: Text = Field("", max_length=64, description="the actor's username, exact")
    action: Text = Field("", max_length=64, description="an action prefix, e.g. shop.")
    since: Day | None = None
    until: Day | None = None


ShopMove = Literal["suspend", "reinstate", "close"]
