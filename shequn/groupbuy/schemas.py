"""API shapes of group buying. Money in fen; times in ISO 8601 with zone."""

from datetime import UTC, date, datetime

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Count, Day, Fen, Id, Moment, MultilineText, PageQuery, Quantity, Text

from . import tickets
from .actions import CampaignInput, ItemInput, Ticket, TierInput, _current_price
from .models import Campaign, CampaignItem, SignUp, SignUpClaim
from .selectors import CampaignSummary, ListEntry, units_left, with_position


class TierIO(Schema):
    min_quantity: Count
    price_fen: Fen


class ItemIn(Schema):
    sku_id: Id
    price_fen: Fen
    stock_limit: Count
    per_person_cap: Count | None = None
    tiers: list[TierIO] = []


class CampaignIn(Schema):
    title: Text = Field(..., max_length=100)
    description: MultilineText = ""
    starts_at: Moment
    deadline: Moment
    pickup_date: Day
    min_total_units: Count = 0
    items: list[ItemIn]
    leader_ids: list[Id] = []  # operator campaigns only; a leader's own campaign is theirs alone

    def to_input(self) -> CampaignInput:
        return CampaignInput(
            title=self.title,
            description=self.description,
            starts_at=self.starts_at,
            deadline=self.deadline,
            pickup_date=self.pickup_date,
            min_total_units=self.min_total_units,
            items=[
                ItemInput(
                    sku_id=item.sku_id,
                    price_fen=item.price_fen,
                    stock_limit=item.stock_limit,
                    per_person_cap=item.per_person_cap,
                    tiers=[TierInput(t.min_quantity, t.price_fen) for t in item.tiers],
                )
                for item in self.items
            ],
        )


class ItemOut(Schema):
    id: int
    sku_id: int
    title: str
    spec: str
    price_fen: int  # what a new sign-up pays now (the best tier reached, else the campaign price)
    campaign_price_fen: int
    shelf_price_fen: int  # the SKU's real shelf price: the only reference price shown
    stock_limit: int
    left: int
    paid_units: int
    per_person_cap: int | None
    tiers: list[TierIO]

    @staticmethod
    def from_model(item: CampaignItem, campaign_status: str) -> "ItemOut":
        return ItemOut(
            id=item.pk,
            sku_id=item.sku_id,
            title=item.sku.product.title,
            spec=item.sku.spec,
            price_fen=_current_price(item),
            campaign_price_fen=item.price_fen,
            shelf_price_fen=item.sku.price_fen,
            stock_limit=item.stock_limit,
            left=units_left(item, campaign_status),
            paid_units=item.paid_units,
            per_person_cap=item.per_person_cap,
            tiers=[TierIO(min_quantity=t.min_quantity, price_fen=t.price_fen) for t in item.tiers.all()],
        )


class CampaignOut(Schema):
    id: int
    title: str
    description: str
    status: str
    status_label: str
    starts_at: datetime
    deadline: datetime
    pickup_date: date
    min_total_units: int
    created_by_leader_id: int | None
    items: list[ItemOut]

    @staticmethod
    def from_model(campaign: Campaign) -> "CampaignOut":
        return CampaignOut(
            id=campaign.pk,
            title=campaign.title,
            description=campaign.description,
            status=campaign.status,
            status_label=campaign.get_status_display(),
            starts_at=campaign.starts_at,
            deadline=campaign.deadline,
            pickup_date=campaign.pickup_date,
            min_total_units=campaign.min_total_units,
            created_by_leader_id=campaign.created_by_leader_id,
            items=[ItemOut.from_model(item, campaign.status) for item in campaign.items.all()],
        )


class ConsoleCampaignOut(CampaignOut):
    leader_ids: list[int]
    confirmed_sign_ups: int

    @staticmethod
    def from_console(campaign: Campaign) -> "ConsoleCampaignOut":
        base = CampaignOut.from_model(campaign).model_dump()
        return ConsoleCampaignOut(
            **base,
            leader_ids=sorted(campaign.leaders.values_list("pk", flat=True)),
            confirmed_sign_ups=getattr(campaign, "confirmed_count", 0),
        )


class LeaderRateOut(Schema):
    leader_id: int
    point_name: str
    closed: int
    succeeded: int
    success_rate_percent: int | None


class CampaignListOut(Schema):
    items: list[ConsoleCampaignOut]
    closed: int
    succeeded: int
    success_rate_percent: int | None
    leaders: list[LeaderRateOut]


class ListEntryOut(Schema):
    sequence: int
    name: str  # masked: 王**
    text: str  # ×2 三文鱼 500g
    line: str  # 1. 王** ×2 三文鱼 500g

    @staticmethod
    def from_entry(entry: ListEntry) -> "ListEntryOut":
        return ListEntryOut(
            sequence=entry.sequence,
            name=entry.name,
            text=entry.text,
            line=f"{entry.sequence}. {entry.name} {entry.text}",
        )


class QuantityIn(Schema):
    item_id: Id
    quantity: Quantity


class SignUpIn(Schema):
    quantities: list[QuantityIn]
    leader_id: Id | None = None

    def quantity_map(self) -> dict[int, int]:
        """Units per item (an item listed twice counts once, with both quantities)."""
        quantities: dict[int, int] = {}
        for row in self.quantities:
            quantities[row.item_id] = quantities.get(row.item_id, 0) + row.quantity
        return quantities


class CampaignTicketOut(Schema):
    ticket: str  # send as the X-Jielong-Ticket header with each sign-up for this campaign
    expires_at: datetime

    @classmethod
    def from_ticket(cls, ticket: tickets.Ticket) -> "CampaignTicketOut":
        return cls(ticket=ticket.token, expires_at=datetime.fromtimestamp(ticket.expires, tz=UTC))


class ChangeIn(Schema):
    quantities: list[QuantityIn]


class SignUpLineOut(Schema):
    item_id: int
    units: int
    unit_price_fen: int
    returned_fen: int


class SignUpOut(Schema):
    id: int
    campaign_id: int
    leader_id: int
    status: str
    status_label: str
    sequence: int | None
    units: int
    order_number: str
    order_total_fen: int
    tier_refunded_fen: int
    lines: list[SignUpLineOut]

    @staticmethod
    def from_model(entry: SignUp) -> "SignUpOut":
        return SignUpOut(
            id=entry.pk,
            campaign_id=entry.campaign_id,
            leader_id=entry.leader_id,
            status=entry.status,
            status_label=entry.get_status_display(),
            # The number on the live list (1..N); the stored one only orders it.
            sequence=entry.position if entry.status == "confirmed" else None,  # type: ignore[attr-defined]
            units=entry.units,
            order_number=entry.order.number,
            order_total_fen=entry.order.total_fen,
            tier_refunded_fen=entry.tier_refunded_fen,
            lines=[
                SignUpLineOut(
                    item_id=line.item_id,
                    units=line.units,
                    unit_price_fen=line.unit_price_fen,
                    returned_fen=line.returned_fen,
                )
                for line in entry.lines.all()
            ],
        )


class RefusedItemOut(Schema):
    code: str
    message: str


class SignUpTicketOut(Schema):
    """A sign-up through the gate: ``queued`` (排队中) until the consumer writes it, then
    ``signed_up`` (with the sign-up and its order to pay) or ``released`` (with why)."""

    ticket: str
    state: str
    state_label: str
    sign_up: SignUpOut | None = None
    reason: str = ""
    refused: list[RefusedItemOut] = []  # items of the request the gate refused (the others are queued)

    @staticmethod
    def from_queued(queued: Ticket) -> "SignUpTicketOut":
        """The sign-up's 202: queued, with the items the gate refused."""
        refused = [RefusedItemOut(code=error.code, message=error.message) for error in queued.refused]
        return SignUpTicketOut(ticket=queued.ticket, state="queued", state_label=_("排队中"), refused=refused)

    @staticmethod
    def from_claim(ticket: str, claim: SignUpClaim | None) -> "SignUpTicketOut":
        if claim is None:
            return SignUpTicketOut(ticket=ticket, state="queued", state_label=_("排队中"))
        if claim.sign_up is None:
            return SignUpTicketOut(
                ticket=ticket, state="released", state_label=_("未能接龙"), reason=claim.released_reason
            )
        return SignUpTicketOut(
            ticket=ticket,
            state="signed_up",
            state_label=_("已接龙"),
            sign_up=SignUpOut.from_model(with_position(SignUp.objects.all()).get(pk=claim.sign_up.pk)),
        )


class CampaignCancelIn(Schema):
    reason: MultilineText = Field("", max_length=200)


class GroupBuyOpenCampaignQuery(PageQuery):
    community_id: Id | None = None  # one of the caller's communities (404 otherwise); none: all of them


class GroupBuyCampaignSummaryOut(Schema):
    """A campaign as its card shows it: title, price, deadline, progress and the page to sign up on."""

    id: int
    title: str
    status: str
    status_label: str
    is_open: bool
    price_fen: int  # the lowest price a new sign-up pays now
    several_prices: bool  # the items differ in price ("起")
    item_count: int
    deadline: datetime
    pickup_date: date
    paid_units: int
    min_total_units: int
    progress_percent: int  # paid units against the minimum, capped at 100
    url: str  # the campaign page (path)

    @staticmethod
    def from_summary(summary: CampaignSummary) -> "GroupBuyCampaignSummaryOut":
        return GroupBuyCampaignSummaryOut(
            id=summary.campaign_id,
            title=summary.title,
            status=summary.status,
            status_label=summary.status_label,
            is_open=summary.is_open,
            price_fen=summary.price_fen,
            several_prices=summary.several_prices,
            item_count=summary.item_count,
            deadline=summary.deadline,
            pickup_date=summary.pickup_date,
            paid_units=summary.paid_units,
            min_total_units=summary.min_total_units,
            progress_percent=summary.progress_percent,
            url=summary.url,
        )
