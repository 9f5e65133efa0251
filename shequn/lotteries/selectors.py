"""Reads of the lotteries app: members see published lotteries; operators their shop's only."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from shequn.accounts.models import Address
from shequn.core.errors import NotFound
from shequn.core.phone import mask_name
from shequn.orders.selectors import Driven, driven_orders
from shequn.shops.models import PickupPoint, Shop

from . import draw
from .enums import LotteryMode, LotteryStatus, WinStatus
from .models import Entry, Lottery, Prize, Spin, Win


def _not_found() -> NotFound:
    return NotFound(_("抽奖不存在"), code="lottery_not_found")


def public_lottery(lottery_id: int) -> Lottery:
    """A lottery members may see: published or drawn (a draft looks absent)."""
    found = (
        Lottery.objects.select_related("shop", "community", "product")
        .exclude(status=LotteryStatus.DRAFT)
        .filter(pk=lottery_id)
        .first()
    )
    if found is None:
        raise _not_found()
    return found


def shop_lotteries(shop: Shop) -> QuerySet[Lottery]:
    return Lottery.objects.filter(shop=shop)


def access_lottery(shop: Shop, lottery_id: int, *, lock: bool = False) -> Lottery:
    rows = Lottery.objects.select_related("shop", "community", "product").filter(shop=shop, pk=lottery_id)
    found = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if found is None:
        raise _not_found()
    return found


def due_draws(now: datetime) -> list[int]:
    return list(
        Lottery.objects.filter(status=LotteryStatus.PUBLISHED, mode=LotteryMode.DRAW, draw_at__lte=now).values_list(
            "pk", flat=True
        )
    )


def prizes(lottery: Lottery) -> list[Prize]:
    return list(lottery.prizes.select_related("sku__product"))


def my_entry(user: Any, lottery: Lottery) -> Entry | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Entry.objects.filter(lottery=lottery, user=user).first()


def my_wins(user: Any, lottery: Lottery) -> list[Win]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Win.objects.filter(lottery=lottery, user=user).select_related("prize", "order"))


def spins_left(user: Any, lottery: Lottery) -> int:
    if not getattr(user, "is_authenticated", False):
        return lottery.spins_per_member
    return max(0, lottery.spins_per_member - Spin.objects.filter(lottery=lottery, user=user).count())


@dataclass(frozen=True)
class Destinations:
    """Where a winner may have a goods prize handed over."""

    pickup_points: list[PickupPoint]
    addresses: list[Address]


def claim_destinations(user: Any, lottery: Lottery) -> Destinations:
    return Destinations(
        pickup_points=list(PickupPoint.objects.filter(shop_id=lottery.shop_id, is_active=True)),
        addresses=list(Address.objects.filter(user=user)),
    )


def my_win(user: Any, win_id: int) -> Win:
    found = Win.objects.select_related("prize", "lottery").filter(pk=win_id, user=user).first()
    if found is None:
        raise NotFound(_("中奖记录不存在"), code="lottery_win_not_found")
    return found


def public_entries(lottery: Lottery) -> list[dict[str, Any]]:
    """The entry list as published: number and masked name, in number order."""
    rows = Entry.objects.filter(lottery=lottery).order_by("number").values_list("number", "user__nickname")
    return [{"number": number, "name": mask_name(nickname or _("会员"))} for number, nickname in rows]


def verification(lottery: Lottery) -> dict[str, Any]:
    """Everything needed to recompute a timed draw's winners (docs/adr/0017): the commitment, the
    seed once drawn, the prizes, the entries and the published winners."""
    drawn = lottery.status == LotteryStatus.DRAWN
    winners = (
        list(
            Win.objects.filter(lottery=lottery, entry__isnull=False)
            .order_by("prize__position", "pk")
            .values_list("entry__number", "prize__position")
        )
        if drawn
        else []
    )
    return {
        "lottery_id": lottery.pk,
        "title": lottery.title,
        "algorithm": draw.ALGORITHM,
        "seed_hash": lottery.seed_hash,
        "seed": lottery.seed if drawn else None,
        "draw_at": lottery.draw_at,
        "drawn_at": lottery.drawn_at,
        "prizes": [
            {"position": p.position, "name": p.name, "kind": p.kind, "value_fen": p.value_fen, "quantity": p.quantity}
            for p in lottery.prizes.all()
        ],
        "entries": public_entries(lottery),
        "winners": [{"number": number, "position": position} for number, position in winners],
    }


@dataclass(frozen=True)
class PrizeFigures:
    prize: Prize
    won: int
    claimed: int
    forfeited: int


@dataclass(frozen=True)
class Figures:
    entries: int
    spins: int
    prizes: list[PrizeFigures]
    cost_fen: int  # value of prizes won and not forfeited
    orders: int  # prize orders created
    driven: Driven  # members' own orders in the week after they took part (``orders.selectors.driven_orders``)


def figures(lottery: Lottery) -> Figures:
    rows: dict[int, Any] = {
        row["prize_id"]: row
        for row in Win.objects.filter(lottery=lottery)
        .values("prize_id")
        .order_by()
        .annotate(
            won=Count("pk"),
            claimed=Count("pk", filter=Q(status=WinStatus.CLAIMED)),
            forfeited=Count("pk", filter=Q(status=WinStatus.FORFEITED)),
        )
    }
    per_prize = [
        PrizeFigures(
            prize=p,
            won=rows.get(p.pk, {}).get("won", 0),
            claimed=rows.get(p.pk, {}).get("claimed", 0),
            forfeited=rows.get(p.pk, {}).get("forfeited", 0),
        )
        for p in lottery.prizes.all()
    ]
    kept = Win.objects.filter(lottery=lottery).exclude(status=WinStatus.FORFEITED)
    return Figures(
        entries=lottery.entry_count,
        spins=Spin.objects.filter(lottery=lottery).count(),
        prizes=per_prize,
        cost_fen=kept.aggregate(total=Sum("prize__value_fen"))["total"] or 0,
        orders=Win.objects.filter(lottery=lottery, order__isnull=False).count(),
        driven=driven_orders(lottery.shop, _participations(lottery), group="lottery_id", member="user_id").get(
            lottery.pk, Driven(orders=0, sales_fen=0)
        ),
    )


def _participations(lottery: Lottery) -> QuerySet[Any]:
    """One row per member who took part, when they first did: their entry, or their first spin."""
    if lottery.mode == LotteryMode.INSTANT:
        return Spin.objects.filter(lottery=lottery, sequence=1)
    return Entry.objects.filter(lottery=lottery)
