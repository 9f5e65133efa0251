"""Every write of red packets: fund a pool, grab through the gate, write grabs, return at expiry.

Money (``wallets.ledger``, every movement one balanced transaction):

    fund     PROMOTION_EXPENSE (shop) −total   → RED_PACKET_HOLDING (shop) +total   "redpacket:fund:{pk}"
    grab     RED_PACKET_HOLDING −part           → the member's AVAILABLE or SPENDABLE  "redpacket:grab:{claim}"
    return   RED_PACKET_HOLDING −what is left   → PROMOTION_EXPENSE                  "redpacket:return:{pk}"

A pool paid as coupons (``PacketInput.as_coupons``) moves no money: it gets a 无门槛 template of its
own at funding, each grab issues one coupon of it worth the grab's part (``coupons.actions.
issue_amounts``), and the return only marks what nobody grabbed (never issued).

Grabs go through the admission gate (docs/adr/0009, 0010, 0016): a pool per packet with ``count``
units and a cap of one per member; the gate answers at once, and the consumer
(``materialise_grabs``) writes the admitted claims in batches, each grab taking the next
precomputed part, credited in the same transaction.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.accounts.selectors import active_members
from shequn.catalog.models import Product
from shequn.communities.models import Community
from shequn.communities.selectors import access_community, is_community_member
from shequn.core import audit
from shequn.core.errors import DomainError
from shequn.core.events import on_commit
from shequn.core.models import AuditLog
from shequn.core.money import MAX_FEN, format_fen
from shequn.core.sql import insert_values
from shequn.coupons import actions as coupon_actions
from shequn.coupons.actions import MAX_VALID_DAYS
from shequn.coupons.enums import CouponSource
from shequn.events.enums import RegistrationStatus
from shequn.events.models import Registration
from shequn.events.selectors import access_event
from shequn.gate.base import Admission, Claim, PoolSpec, Refusal
from shequn.gate.engine import get_gate
from shequn.orders.selectors import bought_product
from shequn.shops.models import Shop
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind

from . import split, tickets
from .enums import Audience, PacketStatus, Split
from .errors import REFUSAL_CODES, GrabRateLimited, GrabRefused, NotInAudience, RedPacketInvalid, RedPacketNotFound
from .models import POOL_OWNER, RedPacket, RedPacketGrab, RedPacketSettings, pool_key

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 60
MAX_COUNT = 100_000  # parts per packet (a 红包雨 for a big community); the parts list is one JSON column
MAX_TOTAL_FEN = 20_000_000  # ¥200,000 per packet
MAX_DURATION = timedelta(days=30)
CONSUMER = "redpackets"
FACTS_CACHE_SECONDS = 30
AUDIENCE_CACHE_SECONDS = 60
DEFAULT_COUPON_DAYS = 30  # a pool paid as coupons: how long each coupon is valid from its grab


# --- settings and funding ------------------------------------------------------------------


def shop_settings(shop: Shop) -> RedPacketSettings:
    return RedPacketSettings.objects.filter(shop=shop).first() or RedPacketSettings(shop=shop)


def update_settings(shop: Shop, actor: Any, *, withdrawable: bool, ip: str | None = None) -> RedPacketSettings:
    """Applies to packets funded from now on (a funded packet keeps what it promised)."""
    with transaction.atomic():
        found, _created = RedPacketSettings.objects.update_or_create(shop=shop, defaults={"withdrawable": withdrawable})
        audit.record(actor=actor, shop=shop, action="redpacket.settings", withdrawable=withdrawable, ip=ip)
    return found


@dataclass(frozen=True)
class PacketInput:
    title: str
    total_fen: int
    count: int
    split: str
    audience: str
    starts_at: datetime
    expires_at: datetime
    community_id: int | None = None
    event_id: int | None = None
    product_id: int | None = None  # buyers
    purchase_from: datetime | None = None
    purchase_until: datetime | None = None
    as_coupons: bool = False  # each grab issued as a 无门槛 coupon worth its part
    coupon_valid_days: int = DEFAULT_COUPON_DAYS  # such a coupon's validity from its grab


def _invalid(message: str, field: str | None = None) -> RedPacketInvalid:
    return RedPacketInvalid(message, details={"fields": {field: message}} if field else None)


def check_packet(shop: Shop, data: PacketInput, *, now: datetime | None = None) -> dict[str, Any]:
    """Validate a pool; returns its audience's fields (community, event, product and purchase
    window). An audience is membership, attendance or a purchase: there is no field that could make
    sharing or inviting a condition (RULES.md)."""
    now = now or timezone.now()
    if not data.title.strip() or len(data.title) > MAX_TITLE_LENGTH:
        raise _invalid(_("标题为 1–%(most)d 个字") % {"most": MAX_TITLE_LENGTH}, "title")
    if not 1 <= data.count <= MAX_COUNT:
        raise _invalid(_("红包个数为 1–%(most)d 个") % {"most": MAX_COUNT}, "count")
    if data.total_fen > min(MAX_TOTAL_FEN, MAX_FEN):
        raise _invalid(_("总金额最多 %(most)s") % {"most": format_fen(MAX_TOTAL_FEN)}, "total")
    if data.total_fen < data.count:
        raise _invalid(_("每个红包至少 ¥0.01：总金额至少 %(least)s") % {"least": format_fen(data.count)}, "total")
    if data.split not in Split.values:
        raise _invalid(_("请选择红包类型"), "split")
    if data.expires_at <= data.starts_at or data.expires_at <= now:
        raise _invalid(_("结束时间须晚于开始时间和现在"), "expires_at")
    if data.expires_at - data.starts_at > MAX_DURATION:
        raise _invalid(_("红包最长有效 %(days)d 天") % {"days": MAX_DURATION.days}, "expires_at")
    if data.as_coupons and not 1 <= data.coupon_valid_days <= MAX_VALID_DAYS:
        raise _invalid(_("优惠券有效天数为 1–%(most)d 天") % {"most": MAX_VALID_DAYS}, "coupon_valid_days")
    audience: dict[str, Any] = dict.fromkeys(("community", "event", "product", "purchase_from", "purchase_until"))
    if data.audience == Audience.COMMUNITY:
        if data.community_id is None or data.event_id is not None:
            raise _invalid(_("请选择社群"), "community")
        return audience | {"community": access_community(shop, data.community_id)}
    if data.audience == Audience.EVENT:
        if data.event_id is None:
            raise _invalid(_("请选择活动"), "event")
        event = access_event(shop, data.event_id)
        return audience | {"community": event.community, "event": event}
    if data.audience == Audience.BUYERS:
        product = Product.objects.filter(pk=data.product_id or 0, shop=shop).first()
        if product is None:
            raise _invalid(_("请选择本店的商品"), "product")
        if data.purchase_from is None or data.purchase_until is None or data.purchase_from >= data.purchase_until:
            raise _invalid(_("请填写购买时间范围（开始早于结束）"), "purchase_until")
        return audience | {
            "product": product,
            "purchase_from": data.purchase_from,
            "purchase_until": data.purchase_until,
        }
    raise _invalid(_("领取范围只能是社群成员、活动报名者或指定商品购买者：红包不能以分享、邀请好友为条件"), "audience")


def fund_packet(
    shop: Shop, actor: Any, data: PacketInput, *, ip: str | None = None, rng: random.Random | None = None
) -> RedPacket:
    """Create and fund a pool: its parts are drawn now, the total moves from the shop's promotion
    account to the red-packet holding account (a pool paid as coupons moves no money: its 无门槛
    template is created instead), and the gate's pool is configured after commit."""
    audience = check_packet(shop, data)
    parts = (
        split.random_parts(data.total_fen, data.count, rng)
        if data.split == Split.RANDOM
        else split.equal_parts(data.total_fen, data.count)
    )
    with transaction.atomic():
        template = (
            coupon_actions.create_amounts_template(
                shop, f"红包 {data.title.strip()}", quantity=data.count, valid_days=data.coupon_valid_days
            )
            if data.as_coupons
            else None
        )
        packet = RedPacket.objects.create(
            shop=shop,
            title=data.title.strip(),
            total_fen=data.total_fen,
            count=data.count,
            split=data.split,
            audience=data.audience,
            **audience,
            withdrawable=shop_settings(shop).withdrawable and template is None,
            coupon_template=template,
            parts_fen=parts,
            starts_at=data.starts_at,
            expires_at=data.expires_at,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        if template is None:
            expense = ledger.account(shop, AccountKind.PROMOTION_EXPENSE)
            holding = ledger.account(shop, AccountKind.RED_PACKET_HOLDING)
            ledger.post(
                shop,
                f"redpacket:fund:{packet.pk}",
                [(expense, -packet.total_fen), (holding, packet.total_fen)],
                memo=f"红包 {packet.title}",
            )
        audit.record(
            actor=actor,
            shop=shop,
            action="redpacket.fund",
            obj=packet,
            ip=ip,
            total_fen=packet.total_fen,
            count=packet.count,
            split=packet.split,
            audience=packet.audience,
            as_coupons=packet.as_coupons,
        )
        on_commit(_configure_after_commit, packet.pk)
    return packet


def _configure_after_commit(packet_id: int) -> None:
    packet = RedPacket.objects.filter(pk=packet_id).first()
    if packet is not None:
        _configure(packet)


def pay_prize(shop: Shop, member: Any, amount_fen: int, *, reference: str, memo: str) -> bool:
    """A red packet given outright (a lottery prize): ``amount_fen`` from the shop's promotion account
    to the member's wallet, withdrawable or not by the shop's setting, as a grab would be. Posts once
    per ``reference``; returns whether this call posted it."""
    kind = AccountKind.AVAILABLE if shop_settings(shop).withdrawable else AccountKind.SPENDABLE
    expense = ledger.account(shop, AccountKind.PROMOTION_EXPENSE)
    _transaction, created = ledger.post(
        shop, reference, [(expense, -amount_fen), (ledger.account(shop, kind, member), amount_fen)], memo=memo
    )
    return created


# --- the gate's pool, from the database ----------------------------------------------------


def _configure(packet: RedPacket) -> None:
    """(Re)build the packet's pool: units = parts not grabbed, less claims the gate admitted that the
    database does not hold yet; every grabber holds their one."""
    gate = get_gate()
    key = pool_key(packet.pk)
    held = dict.fromkeys(RedPacketGrab.objects.filter(packet=packet).values_list("member_id", flat=True), 1)
    queued = [claim for claim in gate.unacknowledged(POOL_OWNER) if claim.pool_key == key]
    written = set(
        RedPacketGrab.objects.filter(claim_id__in=[claim.claim_id for claim in queued]).values_list(
            "claim_id", flat=True
        )
    )
    in_flight = [claim for claim in queued if claim.claim_id not in written]
    held.update(dict.fromkeys((claim.member_id for claim in in_flight), 1))
    units = max(0, packet.count - packet.grabbed_count - len(in_flight))
    spec = PoolSpec(key=key, units=units, per_member_cap=1, opens_at=packet.starts_at, closes_at=packet.expires_at)
    gate.configure(spec, held_by_member=held)
    if packet.status != PacketStatus.FUNDED:
        gate.close(key)


_rebuilding = threading.Lock()


def rebuild_pool(packet_id: int) -> bool:
    """Rebuild a pool the gate lost (Redis restarted) from the database; True when this call did.
    Claims still in the stream are written first, so the count sees them."""
    materialise_grabs()
    with _rebuilding, transaction.atomic():
        packet = RedPacket.objects.select_for_update(of=("self",)).filter(pk=packet_id).first()
        if packet is None or packet.status != PacketStatus.FUNDED or get_gate().state(pool_key(packet_id)).ready:
            return False
        _configure(packet)
    return True


# --- grabs (the hot path) -------------------------------------------------------------------


def _facts(packet_id: int) -> dict[str, Any]:
    """What a grab needs about a packet besides the gate, cached briefly."""
    key = f"redpacket:facts:{packet_id}"
    facts = cache.get(key)
    if facts is None:
        packet = RedPacket.objects.filter(pk=packet_id).first()
        if packet is None:
            raise RedPacketNotFound(_("红包不存在"))
        facts = {
            "audience": packet.audience,
            "community_id": packet.community_id,
            "event_id": packet.event_id,
            "product_id": packet.product_id,
            "purchase_from": packet.purchase_from,
            "purchase_until": packet.purchase_until,
        }
        cache.set(key, facts, FACTS_CACHE_SECONDS)
    return facts


def in_audience(user: Any, packet_id: int) -> bool:
    """Whether the member may grab: a current member of the community, confirmed for the event, or a
    buyer of the product in the window. Cached per member for a minute (asked on every grab without
    a ticket)."""
    if not getattr(user, "is_authenticated", False):
        return False
    facts = _facts(packet_id)
    key = f"redpacket:audience:{packet_id}:{user.pk}"
    allowed = cache.get(key)
    if allowed is None:
        if facts["audience"] == Audience.EVENT:
            allowed = Registration.objects.filter(
                event_id=facts["event_id"], user=user, status=RegistrationStatus.CONFIRMED
            ).exists()
        elif facts["audience"] == Audience.BUYERS:
            allowed = bought_product(user, facts["product_id"], facts["purchase_from"], facts["purchase_until"])
        else:
            allowed = is_community_member(user, Community(pk=facts["community_id"]))
        cache.set(key, allowed, AUDIENCE_CACHE_SECONDS)
    return bool(allowed)


def _check_audience(user: Any, packet_id: int) -> None:
    if getattr(user, "is_authenticated", False) and not user.is_active:
        raise NotInAudience(_("账号已注销，不能领取红包"), code="account_deleted")
    if not in_audience(user, packet_id):
        audience = _facts(packet_id)["audience"]
        if audience == Audience.EVENT:
            raise NotInAudience(_("这个红包仅限活动报名者领取"))
        if audience == Audience.BUYERS:
            raise NotInAudience(_("这个红包仅限在活动时间内购买指定商品的顾客领取"))
        raise NotInAudience(_("这个红包仅限社群成员领取，请先加入社群"))


# The one definition of the refusals' words (the Django endpoint, the page and the thin front).
REFUSAL_MESSAGES = {
    Refusal.NOT_READY: gettext_lazy("抢红包的人太多，请稍后再试"),
    Refusal.NOT_OPEN: gettext_lazy("红包还没开始"),
    Refusal.CLOSED: gettext_lazy("红包已过期"),
    Refusal.PAUSED: gettext_lazy("抢红包的人太多，请稍后再试"),
    Refusal.PRIORITY_ONLY: gettext_lazy("抢红包的人太多，请稍后再试"),
    Refusal.OVER_CAP: gettext_lazy("你已经抢过这个红包了"),
    Refusal.SOLD_OUT: gettext_lazy("手慢了，红包派完了"),
    Refusal.RATE_LIMITED: gettext_lazy("操作太频繁，请稍后再试"),
}


def refusal_error(refusal: Refusal) -> DomainError:
    error_class = GrabRateLimited if refusal == Refusal.RATE_LIMITED else GrabRefused
    return error_class(str(REFUSAL_MESSAGES[refusal]), code=REFUSAL_CODES[refusal], details={"refusal": refusal.value})


def issue_ticket(user: Any, packet_id: int, *, now: float | None = None) -> tickets.Ticket:
    """A gate ticket for this member and packet after the audience check; the grab endpoint (or the
    thin front) verifies it with no session or SQL."""
    _check_audience(user, packet_id)
    return tickets.sign(user.pk, packet_id, now=now)


def grab(user: Any, packet_id: int, *, now: datetime | None = None, client_ip: str | None = None) -> Admission:
    """A signed-in member's grab without a ticket: the audience check, then ``admit``."""
    _check_audience(user, packet_id)
    return admit(user.pk, packet_id, now=now, client_ip=client_ip)


def admit(member_id: int, packet_id: int, *, now: datetime | None = None, client_ip: str | None = None) -> Admission:
    """The gate's part of a grab whose right to try is settled (checked by ``grab`` or carried by a
    ticket). Raises ``GrabRefused`` / ``GrabRateLimited`` with the reason in words."""
    admission = get_gate().attempt(pool_key(packet_id), member_id, 1, now=now, client_ip=client_ip)
    if needs_settling(admission):
        admission = settle(admission, member_id, packet_id, now=now, client_ip=client_ip)
    if not admission.admitted:
        assert admission.refusal is not None
        raise refusal_error(admission.refusal)
    return admission


def needs_settling(admission: Admission) -> bool:
    """Only a lost pool needs the database before the answer is final (no SQL to ask this)."""
    return admission.refusal == Refusal.NOT_READY


def settle(
    admission: Admission,
    member_id: int,
    packet_id: int,
    *,
    now: datetime | None = None,
    client_ip: str | None = None,
) -> Admission:
    """A lost pool of a live packet is rebuilt from the database and asked again; a returned or
    missing packet answers closed."""
    gate = get_gate()
    key = pool_key(packet_id)
    if admission.refusal == Refusal.NOT_READY:
        if rebuild_pool(packet_id) or gate.state(key).ready:
            admission = gate.attempt(key, member_id, 1, now=now, client_ip=client_ip)
        if admission.refusal == Refusal.NOT_READY:
            admission = Admission(admitted=False, refusal=Refusal.CLOSED)
    return admission


# --- the consumer: claims become grabs, credited -------------------------------------------


def materialise_grabs(*, count: int = 500, consumer: str = CONSUMER, idle_ms: int = 30_000) -> int:
    """Read admitted grabs from the gate, up to ``count`` at a time, and write each packet's share of
    a batch in one transaction (``_write_grabs``); then acknowledge them. Idempotent by claim id.
    A packet's share that fails stays unacknowledged, for a later delivery. Returns grabs written."""
    gate = get_gate()
    written = 0
    while True:
        claims = gate.pending_claims(POOL_OWNER, consumer, idle_ms=idle_ms, count=count)
        claims += gate.read_claims(POOL_OWNER, consumer, count=count)
        if not claims:
            return written
        by_packet: dict[int, list[Claim]] = defaultdict(list)
        for claim in claims:
            by_packet[int(claim.pool_key.split(":", 1)[1])].append(claim)
        done: list[Claim] = []
        for packet_id in sorted(by_packet):
            try:
                written += _write_grabs(packet_id, by_packet[packet_id])
            except DatabaseError:
                logger.exception("red packet %s: %d grabs left at the gate", packet_id, len(by_packet[packet_id]))
                continue
            done += by_packet[packet_id]
        gate.ack(done)  # after their transactions committed
        if len(claims) < count:
            return written


def catch_up(packet: RedPacket, user: Any) -> None:
    """Before showing a member their packet: a grab of theirs still queued at the gate is written
    now (without a dedicated consumer, the minute task would take up to a minute)."""
    if (
        packet.status == PacketStatus.FUNDED
        and getattr(user, "is_authenticated", False)
        and not RedPacketGrab.objects.filter(packet=packet, member_id=user.pk).exists()
    ):
        materialise_grabs()
        packet.refresh_from_db()


@lru_cache(maxsize=16)
def _parts(packet_id: int, created_at: datetime) -> tuple[int, ...]:
    """A packet's parts, read once per process: they never change once funded (up to 100,000 of
    them; reading the list with every batch's lock cost more than writing the batch). Keyed by the
    creation time too: a test database that rolled back may give a new packet an old id."""
    return tuple(RedPacket.objects.filter(pk=packet_id).values_list("parts_fen", flat=True).get())


def _write_grabs(packet_id: int, claims: Sequence[Claim]) -> int:
    """One packet's claims in one transaction, in a fixed number of statements: the packet locked,
    the claims and members seen before read, the grabs inserted (each the next part), the packet's
    figures moved by one F() update, the credits posted, the audit rows inserted."""
    with transaction.atomic():
        packet = (
            RedPacket.objects.select_for_update(of=("self",))
            .select_related("shop", "coupon_template")
            .defer("parts_fen")
            .filter(pk=packet_id)
            .first()
        )
        if packet is None:
            return 0
        parts = _parts(packet.pk, packet.created_at)
        known = set(
            RedPacketGrab.objects.filter(claim_id__any_of=[claim.claim_id for claim in claims]).values_list(
                "claim_id", flat=True
            )
        )
        grabbed = set(
            RedPacketGrab.objects.filter(
                packet=packet, member_id__any_of=sorted({claim.member_id for claim in claims})
            ).values_list("member_id", flat=True)
        )
        # Locked: a member deleting their account meanwhile is either seen deleted or waits for this.
        active = active_members({claim.member_id for claim in claims}, lock=True)
        rows: list[dict[str, Any]] = []
        for claim in claims:
            if claim.claim_id in known:
                continue
            if (
                packet.status != PacketStatus.FUNDED
                or claim.member_id in grabbed
                or claim.member_id not in active
                or packet.grabbed_count + len(rows) >= packet.count
            ):
                # The gate admitted a grab the database cannot take (a pool rebuilt while the claim was
                # in flight, a claim read after the return, an account deleted while its grab was
                # queued): never paid twice, beyond the pool, or to an anonymised account.
                logger.warning(
                    "red packet %s: claim %s of member %s refused", packet_id, claim.claim_id, claim.member_id
                )
                continue
            grabbed.add(claim.member_id)
            position = packet.grabbed_count + len(rows) + 1
            rows.append(
                {
                    "packet_id": packet.pk,
                    "member_id": claim.member_id,
                    "position": position,
                    "amount_fen": parts[position - 1],
                    "claim_id": claim.claim_id,
                }
            )
        if not rows:
            return 0
        insert_values(RedPacketGrab, rows)
        amount = sum(row["amount_fen"] for row in rows)
        RedPacket.objects.filter(pk=packet.pk).update(
            grabbed_count=F("grabbed_count") + len(rows), grabbed_fen=F("grabbed_fen") + amount
        )
        if packet.coupon_template is not None:
            coupon_actions.issue_amounts(
                packet.coupon_template,
                [(row["member_id"], row["amount_fen"]) for row in rows],
                source=CouponSource.RED_PACKET,
            )
        else:
            _credit(packet, [row["claim_id"] for row in rows])
        insert_values(
            AuditLog,
            [
                {
                    "shop_id": packet.shop_id,
                    "actor_id": row["member_id"],
                    "action": "redpacket.grab",
                    "object_type": "redpackets.redpacket",
                    "object_id": str(packet.pk),
                    "object_repr": packet.title,
                    "detail": {
                        "position": row["position"],
                        "amount_fen": row["amount_fen"],
                        "claim_id": row["claim_id"],
                    },
                }
                for row in rows
            ],
        )
    return len(rows)


def _credit(packet: RedPacket, claim_ids: Sequence[str]) -> None:
    """The batch's grabs paid from the holding account to each member, set-based (the grab rows
    just inserted are the moves: no move comes back to Python)."""
    kind = AccountKind.AVAILABLE if packet.withdrawable else AccountKind.SPENDABLE
    holding = ledger.account(packet.shop, AccountKind.RED_PACKET_HOLDING)
    moves = (
        RedPacketGrab.objects.filter(packet=packet, claim_id__any_of=claim_ids)
        .annotate(
            shop=Value(packet.shop_id),
            reference=Concat(Value("redpacket:grab:"), "claim_id", output_field=CharField()),
            memo=Value(f"红包 {packet.title}"[:200]),
        )
        .values_list("shop", "member_id", "amount_fen", "reference", "memo")
    )
    ledger.post_to_holders(moves, holding, kind)


# --- expiry: what nobody grabbed goes back to the shop -------------------------------------


def return_expired(*, now: datetime | None = None) -> int:
    """Every funded packet past its expiry: claims still at the gate are written first, then each
    packet's remainder goes back to the shop (``return_packet``). Safe to run twice."""
    now = now or timezone.now()
    due = list(
        RedPacket.objects.filter(status=PacketStatus.FUNDED, expires_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not due:
        return 0
    materialise_grabs()
    return sum(return_packet(packet_id, now=now) for packet_id in due)


def return_packet(packet_id: int, *, now: datetime | None = None) -> bool:
    """Return what nobody grabbed (total − grabbed, exactly) to the shop, once: the packet's row lock
    and its status make a second run a no-op, and the ledger reference posts once anyway."""
    now = now or timezone.now()
    with transaction.atomic():
        packet = RedPacket.objects.select_for_update(of=("self",)).select_related("shop").filter(pk=packet_id).first()
        if packet is None or packet.status != PacketStatus.FUNDED:
            return False
        remainder = packet.total_fen - packet.grabbed_fen
        if remainder and not packet.as_coupons:  # coupons not grabbed were never issued: no money to move
            holding = ledger.account(packet.shop, AccountKind.RED_PACKET_HOLDING)
            expense = ledger.account(packet.shop, AccountKind.PROMOTION_EXPENSE)
            ledger.post(
                packet.shop,
                f"redpacket:return:{packet.pk}",
                [(holding, -remainder), (expense, remainder)],
                memo=f"红包退回 {packet.title}",
                require_non_negative=[holding],
            )
        RedPacket.objects.filter(pk=packet.pk).update(
            status=PacketStatus.RETURNED, returned_fen=remainder, returned_at=now
        )
        audit.record(
            actor=None,
            shop=packet.shop,
            action="redpacket.return",
            obj=packet,
            returned_fen=remainder,
            grabbed_count=packet.grabbed_count,
            grabbed_fen=packet.grabbed_fen,
        )
        on_commit(get_gate().close, pool_key(packet.pk))
    return True
