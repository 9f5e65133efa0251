"""API schemas of the shops app. Staff phones are masked for everyone but their owner."""

from datetime import date, datetime, time
from typing import Any

from ninja import Field, Schema

from shequn.core.phone import mask_phone
from shequn.core.schemas import MAX_PAGE_SIZE, ClockTime, Count, Day, Id, Moment, PageQuery, Text


class PickupPointOut(Schema):
    id: int
    name: str
    address: str
    opening_hours: str
    contact_phone: str  # a shop's public service number, not personal data


class StaffOut(Schema):
    id: int
    user_id: int
    username: str
    nickname: str
    phone: str  # full for the caller's own row, 138****1234 for the others
    role: str
    role_label: str
    is_active: bool
    created_at: datetime

    @staticmethod
    def from_member(member: Any, viewer: Any) -> dict[str, Any]:
        phone = member.user.phone or ""
        return {
            "id": member.pk,
            "user_id": member.user_id,
            "username": member.user.username,
            "nickname": member.user.nickname,
            "phone": phone if member.user_id == getattr(viewer, "pk", None) else mask_phone(phone),
            "role": member.role,
            "role_label": member.get_role_display(),
            "is_active": member.is_active,
            "created_at": member.created_at,
        }


class StaffAddIn(Schema):
    username: Text = Field(..., max_length=64)
    role: Text = Field(..., max_length=16)
    # Only for a username that does not exist yet: creates the staff account with this password.
    new_password: Text = Field("", max_length=128)


class StaffRoleIn(Schema):
    role: Text = Field(..., max_length=16)


class AuditEntryOut(Schema):
    id: int
    created_at: datetime  # UTC
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    detail: dict[str, Any]
    ip: str | None

    @staticmethod
    def resolve_actor_name(entry: Any) -> str:
        return entry.actor.display_name if entry.actor_id else ""


class MyShopOut(Schema):
    id: int
    name: str
    slug: str
    role: str


class AuditQuery(PageQuery):
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    action: Text = Field("", max_length=64)
    actor_id: Id | None = None


class DeliverySlotConsoleOut(Schema):
    """A delivery slot as the operator manages it (docs/adr/0007)."""

    id: int
    date: date
    starts_at: time
    ends_at: time
    label: str
    capacity: int  # orders
    booked: int  # places held by live orders
    cutoff_at: datetime
    is_open: bool


class DeliverySlotCreateIn(Schema):
    date: Day
    starts_at: ClockTime
    ends_at: ClockTime
    capacity: Count
    cutoff_at: Moment | None = Field(None, description="null: the day before at 20:00, local time")


class DeliverySlotUpdateIn(Schema):
    capacity: Count | None = Field(None, description="never below the places booked (409 capacity_below_booked)")
    cutoff_at: Moment | None = None
