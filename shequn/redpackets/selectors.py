"""Reads of red packets: the member's packet page, the console's list with figures, the books."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core.phone import mask_name
from shequn.coupons.models import MemberCoupon
from shequn.orders.selectors import Driven, driven_orders
from shequn.shops.models import Shop
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Entry

from .enums import PacketStatus
from .errors import RedPacketNotFound
from .models import RedPacket, RedPacketGrab

GRABS_SHOWN = 200  # the page lists the first grabs; the figures count all of them


def access_packet(shop: Shop, packet_id: int) -> RedPacket:
    """One of the shop's packets; another shop's id looks absent (404)."""
    packet = RedPacket.objects.filter(shop=shop, pk=packet_id).select_related("community", "event", "product").first()
    if packet is None:
        raise RedPacketNotFound(_("红包不存在"))
    return packet


def shop_packets(shop: Shop) -> QuerySet[RedPacket]:
    return (
        RedPacket.objects.filter(shop=shop)
        .select_related("community", "event", "product")
        .order_by("-created_at", "-id")
    )


def driven(shop: Shop, packets: Sequence[RedPacket]) -> dict[int, Driven]:
    """Each packet's driven orders and sales (``orders.selectors.driven_orders``: its grabbers'
    orders in the week after their grab), in one query for the page."""
    grabs = RedPacketGrab.objects.filter(packet_id__in=[packet.pk for packet in packets])
    found = driven_orders(shop, grabs, group="packet_id", member="member_id")
    return {packet.pk: found.get(packet.pk, Driven(orders=0, sales_fen=0)) for packet in packets}


def member_packet(packet_id: int) -> RedPacket:
    packet = RedPacket.objects.filter(pk=packet_id).select_related("shop", "community", "event", "product").first()
    if packet is None:
        raise RedPacketNotFound(_("红包不存在"))
    return packet


@dataclass(frozen=True)
class GrabLine:
    name: str  # masked (王**)
    amount_fen: int
    position: int
    at: Any
    best: bool = False
    mine: bool = False


@dataclass(frozen=True)
class PacketView:
    packet: RedPacket
    phase: str  # "not_open" | "open" | "all_grabbed" | "ended"
    mine: RedPacketGrab | None
    best: GrabLine | None  # 手气最佳, once every part is grabbed or the packet has ended
    grabs: list[GrabLine] = field(default_factory=list)


def phase(packet: RedPacket, now: Any = None) -> str:
    now = now or timezone.now()
    if packet.status == PacketStatus.RETURNED or now >= packet.expires_at:
        return "ended"
    if packet.grabbed_count >= packet.count:
        return "all_grabbed"
    return "open" if now >= packet.starts_at else "not_open"


def packet_view(packet: RedPacket, user: Any) -> PacketView:
    """The member's red packet page: my part, 手气最佳 (the largest part, the earliest on a tie,
    shown once no part is left to grab), and the grabs with masked names."""
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    rows = list(RedPacketGrab.objects.filter(packet=packet).select_related("member").order_by("position")[:GRABS_SHOWN])
    current = phase(packet)
    best_grab = None
    if current in ("all_grabbed", "ended") and packet.grabbed_count:
        best_grab = (
            RedPacketGrab.objects.filter(packet=packet)
            .order_by("-amount_fen", "position")
            .values_list("pk", flat=True)
            .first()
        )
    lines = [
        GrabLine(
            name=mask_name(row.member.display_name),
            amount_fen=row.amount_fen,
            position=row.position,
            at=row.created_at,
            best=row.pk == best_grab,
            mine=row.member_id == user_id,
        )
        for row in rows
    ]
    mine = None
    if user_id is not None:
        mine = next((row for row in rows if row.member_id == user_id), None) or (
            RedPacketGrab.objects.filter(packet=packet, member_id=user_id).first()
        )
    best = next((line for line in lines if line.best), None)
    if best is None and best_grab is not None:
        found = RedPacketGrab.objects.select_related("member").get(pk=best_grab)
        best = GrabLine(mask_name(found.member.display_name), found.amount_fen, found.position, found.created_at, True)
    return PacketView(packet=packet, phase=current, mine=mine, best=best, grabs=lines)


@dataclass(frozen=True)
class Books:
    """One packet's money, from the packet row and from the ledger: they must agree."""

    total_fen: int
    grabbed_fen: int
    returned_fen: int
    holding_fen: int  # still in the holding account for this packet (total − grabbed − returned)
    credited_fen: int  # the ledger's grab credits for this packet
    grab_rows_fen: int  # the grab rows' amounts
    coupons_fen: int  # a packet paid as coupons: its coupons' amounts (no ledger money at all)


def books(packet: RedPacket) -> Books:
    packet.refresh_from_db()
    holding = (
        Entry.objects.filter(
            account__shop_id=packet.shop_id,
            account__kind=AccountKind.RED_PACKET_HOLDING,
            transaction__reference__in=[f"redpacket:fund:{packet.pk}", f"redpacket:return:{packet.pk}"],
        ).aggregate(total=Sum("amount_fen"))["total"]
        or 0
    )
    credited = (
        Entry.objects.filter(
            account__kind__in=(AccountKind.AVAILABLE, AccountKind.SPENDABLE),
            transaction__reference__in=RedPacketGrab.objects.filter(packet=packet)
            .values("claim_id")
            .annotate(reference=Concat(Value("redpacket:grab:"), "claim_id"))
            .values("reference"),
        ).aggregate(total=Sum("amount_fen"))["total"]
        or 0
    )
    grab_rows = RedPacketGrab.objects.filter(packet=packet).aggregate(total=Sum("amount_fen"))["total"] or 0
    coupons = (
        MemberCoupon.objects.filter(template_id=packet.coupon_template_id).aggregate(total=Sum("amount_fen"))["total"]
        if packet.as_coupons
        else None
    ) or 0
    return Books(
        total_fen=packet.total_fen,
        grabbed_fen=packet.grabbed_fen,
        returned_fen=packet.returned_fen,
        holding_fen=holding - credited,
        credited_fen=credited,
        grab_rows_fen=grab_rows,
        coupons_fen=coupons,
    )
