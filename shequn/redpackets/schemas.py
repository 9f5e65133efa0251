"""API shapes of red packets (every name starts with ``RedPacket``). Money in fen."""

from datetime import UTC, datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Id, Moment, Text
from shequn.gate.base import Admission
from shequn.orders.selectors import Driven

from .actions import DEFAULT_COUPON_DAYS, MAX_COUNT, MAX_TITLE_LENGTH, MAX_TOTAL_FEN, MAX_VALID_DAYS, PacketInput
from .models import RedPacket
from .selectors import GrabLine, PacketView
from .tickets import Ticket


class RedPacketIn(Schema):
    title: Text = Field(..., max_length=MAX_TITLE_LENGTH)
    total_fen: int = Field(..., ge=1, le=MAX_TOTAL_FEN)
    count: int = Field(..., ge=1, le=MAX_COUNT)
    split: Literal["random", "equal"] = "random"
    # Membership, attendance or a purchase: there is no field for sharing or inviting (RULES.md).
    audience: Literal["community", "event", "buyers"]
    community_id: Id | None = None
    event_id: Id | None = None
    product_id: Id | None = None  # buyers: paid for this product between purchase_from and purchase_until
    purchase_from: Moment | None = None
    purchase_until: Moment | None = None
    # Paid as coupons: each grab issues a 无门槛 coupon worth its part, valid this many days from the
    # grab; no money moves in the ledger for such a pool.
    as_coupons: bool = False
    coupon_valid_days: int = Field(DEFAULT_COUPON_DAYS, ge=1, le=MAX_VALID_DAYS)
    starts_at: Moment
    expires_at: Moment

    def to_input(self) -> PacketInput:
        return PacketInput(
            title=self.title,
            total_fen=self.total_fen,
            count=self.count,
            split=self.split,
            audience=self.audience,
            community_id=self.community_id,
            event_id=self.event_id,
            product_id=self.product_id,
            purchase_from=self.purchase_from,
            purchase_until=self.purchase_until,
            as_coupons=self.as_coupons,
            coupon_valid_days=self.coupon_valid_days,
            starts_at=self.starts_at,
            expires_at=self.expires_at,
        )


class RedPacketOut(Schema):
    """A packet with the console's figures: granted (total), grabbed, returned, still held."""

    id: int
    title: str
    total_fen: int
    count: int
    split: str
    audience: str
    community_id: int | None
    event_id: int | None
    product_id: int | None
    withdrawable: bool
    as_coupons: bool  # grabs issued as coupons: no money held, returned or credited
    starts_at: datetime
    expires_at: datetime
    status: str
    grabbed_count: int
    grabbed_fen: int
    returned_fen: int
    holding_fen: int  # money still held for it (0 for a packet paid as coupons)
    # Paid orders its grabbers placed at the shop within 7 days after their grab (goods paid for, not
    # refunded in full), and what was paid for them net of refunds.
    driven_orders: int
    driven_sales_fen: int

    @classmethod
    def from_model(cls, packet: RedPacket, driven: Driven) -> "RedPacketOut":
        return cls(
            id=packet.pk,
            title=packet.title,
            total_fen=packet.total_fen,
            count=packet.count,
            split=packet.split,
            audience=packet.audience,
            community_id=packet.community_id,
            event_id=packet.event_id,
            product_id=packet.product_id,
            withdrawable=packet.withdrawable,
            as_coupons=packet.as_coupons,
            starts_at=packet.starts_at,
            expires_at=packet.expires_at,
            status=packet.status,
            grabbed_count=packet.grabbed_count,
            grabbed_fen=packet.grabbed_fen,
            returned_fen=packet.returned_fen,
            holding_fen=packet.held_fen,
            driven_orders=driven.orders,
            driven_sales_fen=driven.sales_fen,
        )


class RedPacketGrabOut(Schema):
    name: str  # masked
    amount_fen: int
    position: int
    best: bool
    mine: bool

    @classmethod
    def from_line(cls, line: GrabLine) -> "RedPacketGrabOut":
        return cls(name=line.name, amount_fen=line.amount_fen, position=line.position, best=line.best, mine=line.mine)


class RedPacketMemberOut(Schema):
    id: int
    title: str
    shop_name: str
    total_fen: int
    count: int
    left_count: int
    split: str
    as_coupons: bool  # my part comes as a 无门槛 coupon (in my coupons), not wallet money
    phase: str  # not_open | open | all_grabbed | ended
    starts_at: datetime
    expires_at: datetime
    my_amount_fen: int | None
    best: RedPacketGrabOut | None
    grabs: list[RedPacketGrabOut]

    @classmethod
    def from_view(cls, view: PacketView) -> "RedPacketMemberOut":
        packet = view.packet
        return cls(
            id=packet.pk,
            title=packet.title,
            shop_name=packet.shop.name,
            total_fen=packet.total_fen,
            count=packet.count,
            left_count=packet.left_count,
            split=packet.split,
            as_coupons=packet.as_coupons,
            phase=view.phase,
            starts_at=packet.starts_at,
            expires_at=packet.expires_at,
            my_amount_fen=view.mine.amount_fen if view.mine else None,
            best=RedPacketGrabOut.from_line(view.best) if view.best else None,
            grabs=[RedPacketGrabOut.from_line(line) for line in view.grabs],
        )


class RedPacketAdmissionOut(Schema):
    claim_id: str
    status: str = "queued"  # written and credited within seconds: poll the packet for my_amount_fen

    @classmethod
    def from_admission(cls, admission: Admission) -> "RedPacketAdmissionOut":
        """The one shape of an admitted grab (the Django endpoint and the thin front)."""
        assert admission.claim_id is not None
        return cls(claim_id=admission.claim_id)


class RedPacketTicketOut(Schema):
    ticket: str  # send as the X-RedPacket-Ticket header with the grab
    expires_at: datetime

    @classmethod
    def from_ticket(cls, ticket: Ticket) -> "RedPacketTicketOut":
        return cls(ticket=ticket.token, expires_at=datetime.fromtimestamp(ticket.expires, tz=UTC))


class RedPacketSettingsIn(Schema):
    withdrawable: bool


class RedPacketSettingsOut(Schema):
    withdrawable: bool
