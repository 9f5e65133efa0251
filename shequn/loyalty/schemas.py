"""API shapes of the member card. Money is integer fen, points integers; times ISO 8601."""

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from shequn.core.schemas import Birthday, Fen, Id, SmallCount, Text

from .models import LoyaltyProgram, MemberLevel, PointsEntry, PointsShopItem
from .selectors import CardView


class ProgramOut(Schema):
    """The shop's published card and points rules."""

    is_open: bool
    points_per_yuan: int  # earned per ¥1 paid (a category may say otherwise)
    points_per_yuan_off: int  # points that take ¥1 off at checkout
    redeem_cap_percent: int  # at most this share of the goods
    expire_yearly: bool  # points of a year expire at the end of the next

    @staticmethod
    def from_model(program: LoyaltyProgram) -> dict[str, Any]:
        return {name: getattr(program, name) for name in ProgramOut.model_fields}


class MemberLevelOut(Schema):
    id: int
    name: str
    growth_fen: int  # reached at this growth value
    discount_percent: int  # 100: none
    free_shipping: bool
    birthday_coupon_id: int | None

    @staticmethod
    def from_model(level: MemberLevel) -> dict[str, Any]:
        return {name: getattr(level, name) for name in MemberLevelOut.model_fields}


class CardOut(Schema):
    number: str  # what the QR holds
    shop_slug: str
    level: MemberLevelOut | None
    next_level: MemberLevelOut | None
    growth_fen: int
    growth_to_next_fen: int | None
    available_points: int
    pending_points: int  # waiting for orders' after-sales windows
    birthday: date | None
    opened_at: datetime
    program: ProgramOut

    @staticmethod
    def from_view(view: CardView) -> dict[str, Any]:
        card = view.card
        return {
            "number": card.number,
            "shop_slug": card.shop.slug,
            "level": MemberLevelOut.from_model(view.level) if view.level else None,
            "next_level": MemberLevelOut.from_model(following) if (following := view.next_level) else None,
            "growth_fen": card.growth_fen,
            "growth_to_next_fen": view.growth_to_next_fen,
            "available_points": view.available_points,
            "pending_points": view.pending_points,
            "birthday": card.birthday,
            "opened_at": card.opened_at,
            "program": ProgramOut.from_model(view.program),
        }


class OpenCardIn(Schema):
    model_config = ConfigDict(extra="forbid")
    birthday: Birthday | None = None


class PointsEntryOut(Schema):
    points: int  # signed
    account: str  # pending or available
    memo: str
    created_at: datetime

    @staticmethod
    def from_model(entry: PointsEntry) -> dict[str, Any]:
        return {
            "points": entry.points,
            "account": entry.account.kind,
            "memo": entry.transaction.memo,
            "created_at": entry.transaction.created_at,
        }


class ProgramIn(Schema):
    model_config = ConfigDict(extra="forbid")
    is_open: bool = True
    points_per_yuan: int = Field(1, ge=0, le=100)
    points_per_yuan_off: int = Field(100, ge=1, le=10_000)
    redeem_cap_percent: int = Field(20, ge=0, le=100)
    expire_yearly: bool = True


class MemberLevelIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(max_length=20)
    growth_fen: Fen
    discount_percent: SmallCount = Field(100, ge=1, le=100)
    free_shipping: bool = False
    birthday_coupon_id: Id | None = None


class LevelPriceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    sku_id: Id
    price_fen: Fen | None  # null removes the level's price


class LevelPricesIn(Schema):
    model_config = ConfigDict(extra="forbid")
    prices: list[LevelPriceIn] = Field(max_length=500)


class LevelPricesOut(Schema):
    count: int  # prices the level has now


class PointsShopItemOut(Schema):
    id: int  # exchange with POST .../shop/{id}/exchange
    coupon_template_id: int
    name: str
    points: int
    is_active: bool

    @staticmethod
    def from_model(item: PointsShopItem) -> dict[str, Any]:
        return {
            "id": item.pk,
            "coupon_template_id": item.coupon_template_id,
            "name": item.coupon_template.name,
            "points": item.points,
            "is_active": item.is_active,
        }


class ExchangeOut(Schema):
    coupon_id: int  # the member's new coupon (send as the checkout's coupon_id)
    available_points: int  # left after the exchange


class PointsShopItemIn(Schema):
    model_config = ConfigDict(extra="forbid")
    coupon_template_id: Id
    points: int = Field(ge=1, le=10_000_000)
    is_active: bool = True
