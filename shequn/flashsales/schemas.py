"""API shapes of flash sales (every name starts with ``Flash``). Money in fen; times ISO 8601 with zone."""

from datetime import UTC, datetime

from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Count, Fen, Id, Moment, MultilineText, Quantity, SmallCount, Text
from shequn.gate.base import Admission

from .actions import ItemInput, SaleInput, SessionInput
from .models import FlashClaim, FlashItem, FlashSale
from .selectors import MemberView, SaleCounters
from .tickets import Ticket


class FlashItemIn(Schema):
    sku_id: Id
    flash_price_fen: Fen
    quantity: Count
    per_person_cap: Count = 1


class FlashSessionIn(Schema):
    starts_at: Moment
    ends_at: Moment
    items: list[FlashItemIn] = Field(..., max_length=20)


class FlashSaleIn(Schema):
    title: Text = Field(..., max_length=100)
    description: MultilineText = Field("", max_length=2000)
    reservation_starts_at: Moment
    payment_timeout_minutes: SmallCount = 10
    priority_minutes: SmallCount = 0
    community_id: Id | None = None
    sessions: list[FlashSessionIn] = Field(..., max_length=10)

    def to_input(self) -> SaleInput:
        return SaleInput(
            title=self.title,
            description=self.description,
            reservation_starts_at=self.reservation_starts_at,
            payment_timeout_minutes=self.payment_timeout_minutes,
            priority_minutes=self.priority_minutes,
            community_id=self.community_id,
            sessions=[
                SessionInput(
                    starts_at=session.starts_at,
                    ends_at=session.ends_at,
                    items=[
                        ItemInput(
                            sku_id=item.sku_id,
                            flash_price_fen=item.flash_price_fen,
                            quantity=item.quantity,
                            per_person_cap=item.per_person_cap,
                        )
                        for item in session.items
                    ],
                )
                for session in self.sessions
            ],
        )


class FlashAttemptIn(Schema):
    quantity: Quantity = 1


class FlashItemOut(Schema):
    id: int
    session_id: int
    sku_id: int
    title: str
    spec: str
    shelf_price_fen: int
    flash_price_fen: int
    quantity: int
    per_person_cap: int
    left: int | None = None  # units left at the gate (None when unknown right now)

    @classmethod
    def from_item(cls, item: FlashItem, left: int | None = None) -> "FlashItemOut":
        return cls(
            id=item.pk,
            session_id=item.session_id,
            sku_id=item.sku_id,
            title=item.sku.product.title,
            spec=item.sku.spec,
            shelf_price_fen=item.sku.price_fen,
            flash_price_fen=item.flash_price_fen,
            quantity=item.quantity,
            per_person_cap=item.per_person_cap,
            left=left,
        )


class FlashSessionOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime


class FlashSaleOut(Schema):
    id: int
    title: str
    description: str
    status: str
    status_label: str
    reservation_starts_at: datetime
    payment_timeout_minutes: int
    priority_minutes: int
    community_id: int | None
    reservation_count: int
    sessions: list[FlashSessionOut]

    @classmethod
    def from_model(cls, sale: FlashSale) -> "FlashSaleOut":
        return cls(
            id=sale.pk,
            title=sale.title,
            description=sale.description,
            status=sale.status,
            status_label=sale.get_status_display(),
            reservation_starts_at=sale.reservation_starts_at,
            payment_timeout_minutes=sale.payment_timeout_minutes,
            priority_minutes=sale.priority_minutes,
            community_id=sale.community_id,
            reservation_count=sale.reservation_count,
            sessions=[FlashSessionOut(id=s.pk, starts_at=s.starts_at, ends_at=s.ends_at) for s in sale.sessions.all()],
        )


class FlashClaimOut(Schema):
    claim_id: str
    status: str  # queued (still at the gate's queue), admitted, ordered, released
    status_label: str
    reason: str = ""
    order_number: str | None = None
    order_status: str | None = None

    @classmethod
    def from_claim(cls, claim: FlashClaim) -> "FlashClaimOut":
        order = claim.order
        return cls(
            claim_id=claim.claim_id,
            status=claim.status,
            status_label=claim.get_status_display(),
            reason=claim.reason,
            order_number=order.number if order else None,
            order_status=order.status if order else None,
        )


class FlashMemberSaleOut(Schema):
    sale: FlashSaleOut
    phase: str  # upcoming, open, between, ended
    countdown_to: datetime | None
    priority_until: datetime | None
    reserved: bool
    items: list[FlashItemOut]
    claims: list[FlashClaimOut]

    @classmethod
    def from_view(cls, view: MemberView) -> "FlashMemberSaleOut":
        return cls(
            sale=FlashSaleOut.from_model(view.sale),
            phase=view.phase,
            countdown_to=view.countdown_to,
            priority_until=view.priority_until,
            reserved=view.reserved,
            items=[FlashItemOut.from_item(row.item, row.left) for row in view.items],
            claims=[FlashClaimOut.from_claim(claim) for claim in view.claims],
        )


class FlashReservationOut(Schema):
    reserved: bool
    created: bool  # False: the member had reserved already (nothing changed)
    reservation_count: int


class FlashAdmissionOut(Schema):
    claim_id: str
    status: str = "queued"
    units_left: int | None = None

    @classmethod
    def from_admission(cls, admission: Admission) -> "FlashAdmissionOut":
        """The one shape of an admitted attempt (the Django endpoint and the thin front)."""
        assert admission.claim_id is not None
        return cls(claim_id=admission.claim_id, units_left=admission.units_left)


class FlashTicketOut(Schema):
    ticket: str  # send as the X-Flash-Ticket header with each attempt on this item
    expires_at: datetime

    @classmethod
    def from_ticket(cls, ticket: Ticket) -> "FlashTicketOut":
        return cls(ticket=ticket.token, expires_at=datetime.fromtimestamp(ticket.expires, tz=UTC))


class FlashItemTruthOut(Schema):
    item: FlashItemOut
    attempts: int
    at_gate: int
    admitted: int
    unpaid: int
    paid: int
    released: int
    returning: int  # released units the gate that holds the pool has not taken back yet
    gate_ready: bool
    difference: int  # quantity − (at gate + admitted + unpaid + paid + returning); 0 when the books balance
    ok: bool


class FlashCountersOut(Schema):
    reservations: int
    attempts: int
    admitted: int
    paid: int
    released: int
    left: int
    ok: bool
    items: list[FlashItemTruthOut]

    @classmethod
    def from_counters(cls, counters: SaleCounters) -> "FlashCountersOut":
        from .selectors import attempts_seen

        return cls(
            reservations=counters.reservations,
            attempts=counters.attempts,
            admitted=counters.admitted,
            paid=counters.paid,
            released=counters.released,
            left=counters.left,
            ok=counters.ok,
            items=[
                FlashItemTruthOut(
                    item=FlashItemOut.from_item(item, truth.at_gate if truth.gate_ready else None),
                    attempts=attempts_seen(item.pk),
                    at_gate=truth.at_gate,
                    admitted=truth.admitted,
                    unpaid=truth.unpaid,
                    paid=truth.paid,
                    released=truth.released,
                    returning=truth.returning,
                    gate_ready=truth.gate_ready,
                    difference=truth.difference,
                    ok=truth.ok,
                )
                for item, truth in counters.items
            ],
        )


class FlashConsoleSaleOut(Schema):
    sale: FlashSaleOut
    items: list[FlashItemOut]

    @classmethod
    def from_model(cls, sale: FlashSale, items: list[FlashItem]) -> "FlashConsoleSaleOut":
        return cls(sale=FlashSaleOut.from_model(sale), items=[FlashItemOut.from_item(item) for item in items])
