"""API shapes of lotteries (every name starts with ``Lottery``). Money in fen; odds in parts per
million; times ISO 8601 with zone."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Count, Fen, Id, Moment, MultilineText, SmallCount, Text

from .actions import LotteryInput, PrizeInput, SpinResult
from .models import Entry, Lottery, Prize, Win
from .selectors import Figures


class LotteryPrizeIn(Schema):
    name: Text = Field(..., max_length=60)
    kind: Text = Field(..., max_length=12)  # goods | coupon | red_packet (value_fen is the amount credited)
    value_fen: Fen
    quantity: Count
    sku_id: Id | None = None  # goods
    coupon_template_id: Id | None = None  # coupon: a template of the shop with stock for every prize
    odds_ppm: Count = 0  # instant wheels: parts per million


class LotteryIn(Schema):
    title: Text = Field(..., max_length=60)
    rules: MultilineText = Field(..., max_length=5000)
    mode: Text = Field(..., max_length=10)  # draw | instant
    # community | purchase; anything else (sharing, inviting, posting) is refused with
    # 422 ``lottery_sharing_refused``.
    entry_condition: Text = Field(..., max_length=20)
    community_id: Id | None = None
    product_id: Id | None = None
    purchase_from: Moment | None = None
    purchase_until: Moment | None = None
    starts_at: Moment
    ends_at: Moment
    draw_at: Moment | None = None
    spins_per_member: SmallCount = 1
    claim_deadline: Moment
    unclaimed_rule: MultilineText = Field(..., max_length=500)
    prizes: list[LotteryPrizeIn] = Field(..., max_length=10)

    def to_input(self) -> LotteryInput:
        values = self.model_dump(exclude={"prizes"})
        return LotteryInput(prizes=[PrizeInput(**prize.model_dump()) for prize in self.prizes], **values)


class LotteryPrizeOut(Schema):
    position: int
    name: str
    kind: str
    value_fen: int
    quantity: int
    odds_ppm: int
    left: int | None  # instant wheels: stock not yet won

    @staticmethod
    def from_model(prize: Prize, instant: bool) -> "LotteryPrizeOut":
        return LotteryPrizeOut(
            position=prize.position,
            name=prize.name,
            kind=prize.kind,
            value_fen=prize.value_fen,
            quantity=prize.quantity,
            odds_ppm=prize.odds_ppm,
            left=prize.left if instant else None,
        )


class LotteryOut(Schema):
    id: int
    title: str
    rules: str
    mode: str
    status: str
    entry_condition: str
    community_id: int | None
    product_id: int | None
    purchase_from: datetime | None
    purchase_until: datetime | None
    starts_at: datetime
    ends_at: datetime
    draw_at: datetime | None
    spins_per_member: int
    claim_deadline: datetime
    unclaimed_rule: str
    seed_hash: str  # SHA-256 of the secret seed, from publication
    entry_count: int
    prizes: list[LotteryPrizeOut]

    @staticmethod
    def from_model(lottery: Lottery) -> "LotteryOut":
        instant = lottery.mode == "instant"
        return LotteryOut(
            id=lottery.pk,
            title=lottery.title,
            rules=lottery.rules,
            mode=lottery.mode,
            status=lottery.status,
            entry_condition=lottery.entry_condition,
            community_id=lottery.community_id,
            product_id=lottery.product_id,
            purchase_from=lottery.purchase_from,
            purchase_until=lottery.purchase_until,
            starts_at=lottery.starts_at,
            ends_at=lottery.ends_at,
            draw_at=lottery.draw_at,
            spins_per_member=lottery.spins_per_member,
            claim_deadline=lottery.claim_deadline,
            unclaimed_rule=lottery.unclaimed_rule,
            seed_hash=lottery.seed_hash,
            entry_count=lottery.entry_count,
            prizes=[LotteryPrizeOut.from_model(prize, instant) for prize in lottery.prizes.all()],
        )


class LotteryVerificationPrizeOut(Schema):
    position: int
    name: str
    kind: str
    value_fen: int
    quantity: int


class LotteryVerificationEntryOut(Schema):
    number: int
    name: str  # masked


class LotteryVerificationWinnerOut(Schema):
    number: int
    position: int


class LotteryVerificationOut(Schema):
    """What anyone needs to recompute a timed draw (docs/adr/0017-verifiable-lottery.md)."""

    lottery_id: int
    title: str
    algorithm: str
    seed_hash: str
    seed: str | None  # null until the draw
    draw_at: datetime | None
    drawn_at: datetime | None
    prizes: list[LotteryVerificationPrizeOut]
    entries: list[LotteryVerificationEntryOut]
    winners: list[LotteryVerificationWinnerOut]


class LotteryEntryOut(Schema):
    number: int
    created: bool

    @staticmethod
    def from_entry(entry: Entry, created: bool) -> "LotteryEntryOut":
        return LotteryEntryOut(number=entry.number, created=created)


class LotterySpinOut(Schema):
    claim_id: str
    status: str  # queued (admitted, not decided yet), won, lost
    prize: str | None

    @staticmethod
    def from_result(result: SpinResult) -> "LotterySpinOut":
        if result.spin is None:
            return LotterySpinOut(claim_id=result.claim_id, status="queued", prize=None)
        prize = result.spin.prize
        return LotterySpinOut(
            claim_id=result.claim_id, status="won" if prize else "lost", prize=prize.name if prize else None
        )


class LotteryClaimIn(Schema):
    fulfilment: Text = Field("", max_length=10)  # goods prizes: pickup | delivery
    address_id: Id | None = None
    pickup_point_id: Id | None = None


class LotteryWinOut(Schema):
    id: int
    prize: str
    kind: str  # goods | coupon | red_packet
    status: str
    order_number: str | None  # a claimed goods prize's order
    coupon_id: int | None  # a claimed coupon prize's coupon (in my coupons)

    @staticmethod
    def from_model(win: Win) -> "LotteryWinOut":
        return LotteryWinOut(
            id=win.pk,
            prize=win.prize.name,
            kind=win.prize.kind,
            status=win.status,
            order_number=win.order.number if win.order else None,
            coupon_id=win.coupon_id,
        )


class LotteryPrizeFiguresOut(Schema):
    position: int
    name: str
    quantity: int
    won: int
    claimed: int
    forfeited: int


class LotteryFiguresOut(Schema):
    entries: int
    spins: int
    cost_fen: int  # value of the prizes won and not forfeited
    orders: int  # prize orders
    # Paid orders the participants placed at the shop within 7 days after taking part (goods paid
    # for, not refunded in full), and what was paid for them net of refunds.
    driven_orders: int
    driven_sales_fen: int
    prizes: list[LotteryPrizeFiguresOut]

    @staticmethod
    def from_figures(figures: Figures) -> "LotteryFiguresOut":
        return LotteryFiguresOut(
            entries=figures.entries,
            spins=figures.spins,
            cost_fen=figures.cost_fen,
            orders=figures.orders,
            driven_orders=figures.driven.orders,
            driven_sales_fen=figures.driven.sales_fen,
            prizes=[
                LotteryPrizeFiguresOut(
                    position=row.prize.position,
                    name=row.prize.name,
                    quantity=row.prize.quantity,
                    won=row.won,
                    claimed=row.claimed,
                    forfeited=row.forfeited,
                )
                for row in figures.prizes
            ],
        )
