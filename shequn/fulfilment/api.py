"""Fulfilment API under /api/v1/fulfilment: operators (``/console/...``, X-Shop header) read the
supplier summary and pick lists and run settlements; leaders (``/leader/...``) read their own
point's pick list, confirm goods received, verify pickups and read their commission; members
read their pickup code (``/orders/{number}/pickup``)."""

from datetime import date

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from shequn.catalog.weights import line_weight
from shequn.core.audit import client_ip
from shequn.core.schemas import Count, Day, Fen, Id, Text, error_responses
from shequn.orders.models import OrderLine
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import CONFIRM_COD, FULFIL_ORDERS, VIEW_ORDERS

from . import actions, selectors
from .enums import TicketStatus
from .models import PickupTicket, Settlement

router = Router(tags=["fulfilment"])
console = Router(tags=["fulfilment console"])
leader_router = Router(tags=["fulfilment leader"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


class SummaryQuery(Schema):
    campaign_id: Id | None = None
    pickup_date: Day | None = None


class LeaderUnitsOut(Schema):
    leader_id: int
    units: int


class SummaryRowOut(Schema):
    sku_id: int
    title: str
    spec: str
    units: int
    amount_fen: int
    per_leader: list[LeaderUnitsOut]


class PickRowOut(Schema):
    sequence: int
    name: str
    title: str
    spec: str
    units: int


class ReceivedIn(Schema):
    sku_id: Id
    received: Count


class ReceiveIn(Schema):
    items: list[ReceivedIn]


class ReceiptOut(Schema):
    sku_id: int
    expected: int
    received: int
    shortage: int


class CodeIn(Schema):
    code: Text = Field(..., max_length=6)


class PickupTicketOut(Schema):
    order_number: str
    code: str
    status: str
    picked_up_at: str | None = None
    verify_url: str | None = None  # only while open (the QR's content)

    @classmethod
    def from_model(cls, ticket: PickupTicket, *, with_url: bool = False) -> "PickupTicketOut":
        return cls(
            order_number=ticket.order.number,
            code=ticket.code,
            status=ticket.status,
            picked_up_at=ticket.picked_up_at.isoformat() if ticket.picked_up_at else None,
            verify_url=actions.verify_url(ticket) if with_url and ticket.status == TicketStatus.OPEN else None,
        )


class PickupOut(Schema):
    order_number: str
    ticket: PickupTicketOut | None


class CommissionRowOut(Schema):
    order_number: str
    campaign_id: int
    base_fen: int
    commission_fen: int
    settled: bool


class CommissionOut(Schema):
    rate_bp: int
    total_fen: int
    unsettled_fen: int
    orders: list[CommissionRowOut]


class PeriodIn(Schema):
    start: Day
    end: Day


class PayoutIn(Schema):
    amount_fen: Fen
    reference: Text = Field(..., max_length=64)


class SettlementOut(Schema):
    id: int
    leader_id: int
    period_start: date
    period_end: date
    status: str
    base_fen: int
    commission_fen: int
    order_count: int
    payout_reference: str | None = None

    @classmethod
    def from_model(cls, s: Settlement) -> "SettlementOut":
        payout = getattr(s, "payout", None) if s.status == "paid" else None
        return cls(
            id=s.pk,
            leader_id=s.leader_id,
            period_start=s.period_start,
            period_end=s.period_end,
            status=s.status,
            base_fen=s.base_fen,
            commission_fen=s.commission_fen,
            order_count=s.lines.count(),
            payout_reference=payout.reference if payout else None,
        )


class WeightRecordIn(Schema):
    actual_grams: int = Field(ge=1, le=10_000_000)  # the whole line, integer grams


class WeightLineOut(Schema):
    """A line sold by weight after weighing. Money in fen, weights in grams."""

    line_id: int
    order_number: str
    unit: str  # 斤 or 公斤
    weight_price_fen: int  # per unit
    estimated_grams: int  # the whole line
    actual_grams: int | None
    actual_price_fen: int | None
    difference_fen: int  # owed back for the weight (0 when heavier: not charged)
    weight_refund_fen: int  # weight refunds issued so far
    refunded_fen: int  # all refunds of the line the gateway confirmed

    @staticmethod
    def from_line(line: OrderLine, number: str) -> "WeightLineOut":
        weight = line_weight(line)
        assert weight is not None
        return WeightLineOut(
            line_id=line.pk,
            order_number=number,
            unit=weight.unit_name,
            weight_price_fen=weight.rate_fen,
            estimated_grams=weight.estimated_grams,
            actual_grams=weight.actual_grams,
            actual_price_fen=weight.actual_price_fen,
            difference_fen=weight.due_fen,
            weight_refund_fen=line.weight_refund_fen,
            refunded_fen=line.refunded_fen,
        )


def _pick_rows(rows: list[selectors.PickRow]) -> list[PickRowOut]:
    return [PickRowOut(sequence=r.sequence, name=r.name, title=r.title, spec=r.spec, units=r.units) for r in rows]


# --- operators ------------------------------------------------------------------------------


@console.get("/summary", response={200: list[SummaryRowOut], **CONSOLE_ERRORS})
def summary(request: HttpRequest, query: Query[SummaryQuery]) -> list[SummaryRowOut]:
    shop = api_console_shop(request, FULFIL_ORDERS)
    campaign = selectors.access_campaign(shop, query.campaign_id) if query.campaign_id else None
    return [
        SummaryRowOut(
            sku_id=r.sku_id,
            title=r.title,
            spec=r.spec,
            units=r.units,
            amount_fen=r.amount_fen,
            per_leader=[LeaderUnitsOut(leader_id=k, units=v) for k, v in sorted(r.per_leader.items())],
        )
        for r in selectors.supplier_summary(shop, campaign=campaign, pickup_date=query.pickup_date)
    ]


@console.get(
    "/campaigns/{int:campaign_id}/leaders/{int:leader_id}/pick-list", response={200: list[PickRowOut], **CONSOLE_ERRORS}
)
def console_pick_list(request: HttpRequest, campaign_id: Id, leader_id: Id) -> list[PickRowOut]:
    shop = api_console_shop(request, FULFIL_ORDERS)
    campaign = selectors.access_campaign(shop, campaign_id)
    leader = selectors.access_leader(shop, leader_id)
    return _pick_rows(selectors.pick_list(campaign, leader))


@console.post("/orders/{int:order_id}/lines/{int:line_id}/weight", response={200: WeightLineOut, **CONSOLE_ERRORS})
def record_weight(request: HttpRequest, order_id: Id, line_id: Id, payload: WeightRecordIn) -> WeightLineOut:
    """Record the actual weight of a line sold by weight; a lighter weight refunds the difference."""
    shop = api_console_shop(request, FULFIL_ORDERS)
    line = actions.record_line_weight(
        shop, order_id, line_id, payload.actual_grams, actor=request.user, ip=client_ip(request)
    )
    return WeightLineOut.from_line(line, line.order.number)


@console.get("/settlements", response={200: list[SettlementOut], **CONSOLE_ERRORS})
def settlements(request: HttpRequest) -> list[SettlementOut]:
    shop = api_console_shop(request, VIEW_ORDERS)
    return [SettlementOut.from_model(s) for s in selectors.shop_settlements(shop)[:200]]


@console.post("/settlements", response={201: list[SettlementOut], **CONSOLE_ERRORS})
def create_settlements(request: HttpRequest, payload: PeriodIn) -> Status:
    shop = api_console_shop(request, FULFIL_ORDERS)
    created = actions.create_settlements(
        shop, request.user, start=payload.start, end=payload.end, ip=client_ip(request)
    )
    return Status(201, [SettlementOut.from_model(s) for s in created])


@console.post("/settlements/{int:settlement_id}/confirm", response={200: SettlementOut, **CONSOLE_ERRORS})
def confirm_settlement(request: HttpRequest, settlement_id: Id) -> SettlementOut:
    shop = api_console_shop(request, CONFIRM_COD)
    return SettlementOut.from_model(
        actions.confirm_settlement(shop, settlement_id, request.user, ip=client_ip(request))
    )


@console.post("/settlements/{int:settlement_id}/payout", response={200: SettlementOut, **CONSOLE_ERRORS})
def record_payout(request: HttpRequest, settlement_id: Id, payload: PayoutIn) -> SettlementOut:
    shop = api_console_shop(request, CONFIRM_COD)
    payout = actions.record_payout(
        shop,
        settlement_id,
        request.user,
        amount_fen=payload.amount_fen,
        reference=payload.reference,
        ip=client_ip(request),
    )
    return SettlementOut.from_model(payout.settlement)


# --- leaders -------------------------------------------------------------------------------


@leader_router.get("/campaigns/{int:campaign_id}/pick-list", response={200: list[PickRowOut], **READ_ERRORS})
def leader_pick_list(request: HttpRequest, campaign_id: Id) -> list[PickRowOut]:
    leader = selectors.my_leader(request.user)
    campaign = selectors.access_leader_campaign(leader, campaign_id)
    return _pick_rows(selectors.pick_list(campaign, leader))


@leader_router.post("/campaigns/{int:campaign_id}/receive", response={200: list[ReceiptOut], **WRITE_ERRORS})
def receive(request: HttpRequest, campaign_id: Id, payload: ReceiveIn) -> list[ReceiptOut]:
    leader = selectors.my_leader(request.user)
    receipts = actions.receive_goods(
        leader, campaign_id, {item.sku_id: item.received for item in payload.items}, actor=request.user
    )
    return [
        ReceiptOut(sku_id=r.sku_id, expected=r.expected, received=r.received, shortage=r.shortage) for r in receipts
    ]


@leader_router.post("/verify", response={200: PickupTicketOut, **WRITE_ERRORS})
def verify_code(request: HttpRequest, payload: CodeIn) -> PickupTicketOut:
    leader = selectors.my_leader(request.user)
    return PickupTicketOut.from_model(actions.verify_code(leader, payload.code, actor=request.user))


@leader_router.post("/verify/{token}", response={200: PickupTicketOut, **WRITE_ERRORS})
def verify_token(request: HttpRequest, token: Text) -> PickupTicketOut:
    return PickupTicketOut.from_model(actions.verify_token(request.user, token))


@leader_router.get("/commission", response={200: CommissionOut, **READ_ERRORS})
def commission(request: HttpRequest) -> CommissionOut:
    leader = selectors.my_leader(request.user)
    rows = selectors.commission_rows(leader)
    return CommissionOut(
        rate_bp=leader.commission_rate_bp,
        total_fen=sum(r.commission_fen for r in rows),
        unsettled_fen=sum(r.commission_fen for r in rows if not r.settled),
        orders=[
            CommissionRowOut(
                order_number=r.order.number,
                campaign_id=r.sign_up.campaign_id,
                base_fen=r.base_fen,
                commission_fen=r.commission_fen,
                settled=r.settled,
            )
            for r in rows
        ],
    )


# --- members -------------------------------------------------------------------------------


@router.get("/orders/{number}/pickup", response={200: PickupOut, **READ_ERRORS})
def my_pickup(request: HttpRequest, number: Text) -> PickupOut:
    sign_up, ticket = selectors.member_ticket(request.user, number)
    return PickupOut(
        order_number=sign_up.order.number, ticket=PickupTicketOut.from_model(ticket, with_url=True) if ticket else None
    )


router.add_router("/console", console)
router.add_router("/leader", leader_router)
