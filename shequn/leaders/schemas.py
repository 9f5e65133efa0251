"""API shapes for leaders. The leader's contact phone is masked for everyone but the leader
and the shop's staff."""

from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from shequn.core.phone import mask_name, mask_phone
from shequn.core.schemas import Count, Id, Latitude, Longitude, MultilineText, PageQuery, Text

from .models import Leader


class PointOut(Schema):
    name: str
    address: str
    opening_hours: str
    latitude: Decimal | None
    longitude: Decimal | None
    capacity_per_day: int | None
    pickup_point_id: int | None


def _point(leader: Leader) -> PointOut:
    return PointOut(
        name=leader.point_name,
        address=leader.point_address,
        opening_hours=leader.opening_hours,
        latitude=leader.latitude,
        longitude=leader.longitude,
        capacity_per_day=leader.capacity_per_day,
        pickup_point_id=leader.pickup_point_id,
    )


class PublicLeaderOut(Schema):
    """What a member of the leader's community sees."""

    id: int
    community_id: int
    sub_group_id: int | None
    sub_group_name: str | None
    leader_name: str  # masked: 王**
    contact_phone: str  # masked: 138****1234
    point: PointOut

    @staticmethod
    def from_model(leader: Leader) -> "PublicLeaderOut":
        return PublicLeaderOut(
            id=leader.pk,
            community_id=leader.community_id,
            sub_group_id=leader.sub_group_id,
            sub_group_name=leader.sub_group.name if leader.sub_group else None,
            leader_name=mask_name(leader.user.display_name),
            contact_phone=mask_phone(leader.contact_phone),
            point=_point(leader),
        )


class LeaderOut(Schema):
    """The leader themselves and the shop's staff: full contact phone, status, commission."""

    id: int
    shop_id: int
    shop_slug: str
    user_id: int
    user_name: str
    community_id: int
    community_name: str
    sub_group_id: int | None
    sub_group_name: str | None
    status: str
    status_label: str
    contact_phone: str
    point: PointOut
    commission_rate_bp: int
    application_note: str
    decision_note: str
    decided_at: datetime | None
    created_at: datetime

    @staticmethod
    def from_model(leader: Leader) -> "LeaderOut":
        return LeaderOut(
            id=leader.pk,
            shop_id=leader.shop_id,
            shop_slug=leader.shop.slug,
            user_id=leader.user_id,
            user_name=leader.user.display_name,
            community_id=leader.community_id,
            community_name=leader.community.name,
            sub_group_id=leader.sub_group_id,
            sub_group_name=leader.sub_group.name if leader.sub_group else None,
            status=leader.status,
            status_label=leader.get_status_display(),
            contact_phone=leader.contact_phone,
            point=_point(leader),
            commission_rate_bp=leader.commission_rate_bp,
            application_note=leader.application_note,
            decision_note=leader.decision_note,
            decided_at=leader.decided_at,
            created_at=leader.created_at,
        )


class LeaderApplyIn(Schema):
    shop: Text = Field(..., max_length=64)  # the shop's slug
    community_id: Id | None = None  # may be left out when the member belongs to one community only
    sub_group_id: Id | None = None
    point_name: Text = Field(..., max_length=100)
    point_address: Text = Field(..., max_length=255)
    opening_hours: Text = Field("", max_length=100)
    contact_phone: Text = Field(..., max_length=20)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capacity_per_day: Count | None = None
    note: MultilineText = Field("", max_length=200)


class ApproveIn(Schema):
    commission_rate_bp: Count  # basis points: 1000 = 10%, at most 5000


class LeaderReasonIn(Schema):
    reason: MultilineText = Field(..., max_length=200)


class UpdateIn(Schema):
    """Only the fields sent change; ``capacity_per_day: null`` means no daily limit."""

    point_name: Text | None = Field(None, max_length=100)
    point_address: Text | None = Field(None, max_length=255)
    opening_hours: Text | None = Field(None, max_length=100)
    contact_phone: Text | None = Field(None, max_length=20)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    capacity_per_day: Count | None = None
    commission_rate_bp: Count | None = None


class LeaderQuery(PageQuery):
    status: Text = Field("", max_length=12)  # applied | active | suspended | rejected; empty = all
