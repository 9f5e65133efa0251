"""Every write of flash sales. ``check_*`` validates, the rest changes data.

The buy path: ``attempt`` asks the gate (memory, no SQL) → the gate appends an admitted claim to
its stream → ``materialise_claims`` (a Huey periodic task, or called directly) writes the claims in
batches, one ``FlashClaim`` per claim id and one order at the flash price through the orders app's
bulk checkout (``create_orders``, checkout's builder; docs/adr/0010) →
the member pays, or the order closes and ``on_order_released`` gives the units back to the gate
exactly once. The database is the truth: ``reconcile`` checks it, ``rebuild_pool`` rebuilds a lost
pool from it.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q, Sum, Value
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.accounts.models import Address
from shequn.catalog.kinds import is_goods
from shequn.catalog.models import Sku
from shequn.communities.models import Community
from shequn.communities.selectors import is_community_member
from shequn.core import audit
from shequn.core.errors import Conflict, DomainError, InvalidTransition
from shequn.core.events import on_commit
from shequn.core.i18n import readers_by_language
from shequn.core.throttle import PerKeyThrottle
from shequn.gate.base import Admission, Claim, PoolSpec, Refusal
from shequn.gate.engine import get_gate
from shequn.notifications.actions import notify_from, queue_subscribe_messages_from
from shequn.notifications.enums import SubscribeTemplate
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.orders.models import Order, OrderLine
from shequn.shops import permissions
from shequn.shops.models import PickupPoint, Shop
from shequn.shops.selectors import require_permission

from . import selectors, tasks, tickets
from .enums import ClaimStatus, SaleStatus
from .errors import (
    REFUSAL_CODES,
    AttemptRateLimited,
    AttemptRefused,
    FlashClaimNotFound,
    FlashItemNotFound,
    FlashSaleInvalid,
    MembersOnly,
    ReservationClosed,
)
from .models import POOL_OWNER, FlashClaim, FlashItem, FlashSale, FlashSession, Reservation, pool_key
from .state import NewClaim, create_claims, transition, transition_claim

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 100
MAX_SESSIONS = 10
MAX_ITEMS_PER_SESSION = 20
MAX_PAYMENT_TIMEOUT_MINUTES = 120
REMINDER_CHUNK = 5_000  # reservations per INSERT … SELECT of the reminder
MEMBERSHIP_CACHE_SECONDS = 60
ITEM_CACHE_SECONDS = 30
CONSUMER = "flashsales"
LIVE_CLAIMS = (ClaimStatus.ADMITTED, ClaimStatus.ORDERED)
VISIBLE_STATUSES = (SaleStatus.SCHEDULED, SaleStatus.RUNNING, SaleStatus.PAUSED, SaleStatus.ENDED)


# --- create and edit -----------------------------------------------------------------------


@dataclass
class ItemInput:
    sku_id: int
    flash_price_fen: int
    quantity: int
    per_person_cap: int = 1


@dataclass
class SessionInput:
    starts_at: datetime
    ends_at: datetime
    items: list[ItemInput] = field(default_factory=list)


@dataclass
class SaleInput:
    title: str
    reservation_starts_at: datetime
    sessions: list[SessionInput]
    description: str = ""
    payment_timeout_minutes: int = 10
    priority_minutes: int = 0
    community_id: int | None = None


def _invalid(message: str, **details: Any) -> FlashSaleInvalid:
    return FlashSaleInvalid(message, details=details or None)


def check_sale(shop: Shop, data: SaleInput) -> tuple[Community | None, dict[int, Sku]]:
    """Validate a sale before anything is written; the messages say what to fix."""
    title = (data.title or "").strip()
    if not title:
        raise _invalid(_("请填写活动名称"), field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise _invalid(_("活动名称最多 %(max)s 个字") % {"max": MAX_TITLE_LENGTH}, field="title")
    if not 1 <= data.payment_timeout_minutes <= MAX_PAYMENT_TIMEOUT_MINUTES:
        raise _invalid(
            _("支付时限须在 1 到 %(max)s 分钟之间") % {"max": MAX_PAYMENT_TIMEOUT_MINUTES},
            field="payment_timeout_minutes",
        )
    if data.priority_minutes < 0:
        raise _invalid(_("预约优先时长不能为负数"), field="priority_minutes")
    if not data.sessions:
        raise _invalid(_("请至少添加一个场次"), field="sessions")
    if len(data.sessions) > MAX_SESSIONS:
        raise _invalid(_("最多 %(max)s 个场次") % {"max": MAX_SESSIONS}, field="sessions")
    sessions = sorted(data.sessions, key=lambda s: s.starts_at)
    for number, session in enumerate(sessions, start=1):
        if session.ends_at <= session.starts_at:
            raise _invalid(_("第 %(number)s 场的结束时间须晚于开始时间") % {"number": number}, field="sessions")
        if data.priority_minutes and timedelta(minutes=data.priority_minutes) >= session.ends_at - session.starts_at:
            raise _invalid(_("预约优先时长须短于第 %(number)s 场的时长") % {"number": number}, field="priority_minutes")
        if number > 1 and session.starts_at < sessions[number - 2].ends_at:
            raise _invalid(_("第 %(number)s 场与上一场时间重叠") % {"number": number}, field="sessions")
        if not session.items:
            raise _invalid(_("第 %(number)s 场至少需要一件商品") % {"number": number}, field="items")
        if len(session.items) > MAX_ITEMS_PER_SESSION:
            raise _invalid(
                _("每场最多 %(max)s 件商品") % {"max": MAX_ITEMS_PER_SESSION},
                field="items",
            )
    if data.reservation_starts_at >= sessions[0].starts_at:
        raise _invalid(_("预约开始时间须早于第一场开始时间"), field="reservation_starts_at")
    sku_ids = {item.sku_id for session in sessions for item in session.items}
    skus = {sku.pk: sku for sku in Sku.objects.filter(pk__in=sku_ids, shop=shop).select_related("product")}
    for number, session in enumerate(sessions, start=1):
        seen: set[int] = set()
        for item in session.items:
            sku = skus.get(item.sku_id)
            if sku is None:
                raise _invalid(_("商品规格不存在"), field="sku_id", sku_id=item.sku_id)
            name = f"{sku.product.title} {sku.spec}"
            if item.sku_id in seen:
                raise _invalid(
                    _("第 %(number)s 场中「%(name)s」重复了") % {"number": number, "name": name},
                    field="sku_id",
                    sku_id=item.sku_id,
                )
            seen.add(item.sku_id)
            if not is_goods(sku.product.kind):
                raise _invalid(
                    _("「%(name)s」不是实物商品，秒杀只支持实物商品") % {"name": name},
                    field="sku_id",
                    sku_id=item.sku_id,
                )
            if item.flash_price_fen < 1:
                raise _invalid(
                    _("「%(name)s」的秒杀价须大于 0") % {"name": name}, field="flash_price_fen", sku_id=item.sku_id
                )
            if item.flash_price_fen >= sku.price_fen:
                raise _invalid(
                    _("「%(name)s」的秒杀价须低于售价") % {"name": name}, field="flash_price_fen", sku_id=item.sku_id
                )
            if item.quantity < 1:
                raise _invalid(
                    _("「%(name)s」的秒杀数量至少 1 件") % {"name": name}, field="quantity", sku_id=item.sku_id
                )
            if item.per_person_cap < 1:
                raise _invalid(
                    _("「%(name)s」的每人限购至少 1 件") % {"name": name}, field="per_person_cap", sku_id=item.sku_id
                )
    community = None
    if data.community_id is not None:
        community = Community.objects.filter(pk=data.community_id, shop=shop).first()
        if community is None:
            raise _invalid(_("社群不存在"), field="community_id")
    return community, skus


def _write_sessions(sale: FlashSale, data: SaleInput) -> None:
    for session_input in sorted(data.sessions, key=lambda s: s.starts_at):
        session = FlashSession.objects.create(
            sale=sale, starts_at=session_input.starts_at, ends_at=session_input.ends_at
        )
        FlashItem.objects.bulk_create(
            [
                FlashItem(
                    session=session,
                    sku_id=item.sku_id,
                    flash_price_fen=item.flash_price_fen,
                    quantity=item.quantity,
                    per_person_cap=item.per_person_cap,
                    position=position,
                )
                for position, item in enumerate(session_input.items)
            ]
        )


def create_sale(shop: Shop, actor: Any, data: SaleInput, *, ip: str | None = None) -> FlashSale:
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    community, _skus = check_sale(shop, data)
    with transaction.atomic():
        sale = FlashSale.objects.create(
            shop=shop,
            title=data.title.strip(),
            description=(data.description or "").strip(),
            reservation_starts_at=data.reservation_starts_at,
            payment_timeout_minutes=data.payment_timeout_minutes,
            priority_minutes=data.priority_minutes,
            community=community,
            created_by=actor,
        )
        _write_sessions(sale, data)
        audit.record(actor=actor, shop=shop, action="flashsale.create", obj=sale, ip=ip)
    return sale


def update_sale(shop: Shop, actor: Any, sale_id: int, data: SaleInput, *, ip: str | None = None) -> FlashSale:
    """Replace a draft's fields, sessions and items (a scheduled sale is at the gate: pause or end it)."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    community, _skus = check_sale(shop, data)
    with transaction.atomic():
        sale = selectors.access_sale(shop, sale_id, lock=True)
        if sale.status != SaleStatus.DRAFT:
            raise InvalidTransition(_("只有草稿状态的活动可以修改"), code="flash_sale_not_draft")
        FlashSale.objects.filter(pk=sale.pk).update(
            title=data.title.strip(),
            description=(data.description or "").strip(),
            reservation_starts_at=data.reservation_starts_at,
            payment_timeout_minutes=data.payment_timeout_minutes,
            priority_minutes=data.priority_minutes,
            community=community,
        )
        FlashSession.objects.filter(sale=sale).delete()
        _write_sessions(sale, data)
        audit.record(actor=actor, shop=shop, action="flashsale.update", obj=sale, ip=ip)
        sale.refresh_from_db()
    return sale


# --- the gate's pools, from the database ---------------------------------------------------


def _spec(item: FlashItem, units: int) -> PoolSpec:
    session, sale = item.session, item.session.sale
    priority_until = session.starts_at + timedelta(minutes=sale.priority_minutes) if sale.priority_minutes else None
    return PoolSpec(
        key=pool_key(item.pk),
        units=units,
        per_member_cap=item.per_person_cap,
        opens_at=session.starts_at,
        closes_at=session.ends_at,
        priority_until=priority_until,
        paused=sale.status == SaleStatus.PAUSED,
    )


def _configure(item: FlashItem) -> None:
    """(Re)build ``item``'s pool from the tables: units = quantity less what live claims hold.
    Releases still on their way to the gate are counted here, so they are marked as back."""
    FlashClaim.objects.filter(item=item, status=ClaimStatus.RELEASED, returned_to_gate=False).update(
        returned_to_gate=True
    )
    held: dict[int, int] = defaultdict(int)
    for user_id, quantity in FlashClaim.objects.filter(item=item, status__in=LIVE_CLAIMS).values_list(
        "user_id", "quantity"
    ):
        held[user_id] += quantity
    units = item.quantity - sum(held.values())
    reservers = Reservation.objects.filter(sale_id=item.session.sale_id).values_list("user_id", flat=True)
    gate = get_gate()
    gate.configure(_spec(item, units), held_by_member=held, priority_members=reservers.iterator(chunk_size=10_000))
    if item.session.sale.status == SaleStatus.ENDED:
        gate.close(pool_key(item.pk))


def _sale_items(sale: FlashSale) -> list[FlashItem]:
    return list(FlashItem.objects.filter(session__sale=sale).select_related("session__sale").order_by("pk"))


_rebuilding = threading.Lock()


def rebuild_pool(item_id: int) -> bool:
    """Rebuild a pool the gate lost (Redis restarted, data gone) from the database; only one caller
    rebuilds (the item's row lock), the others find it ready. Returns True when this call rebuilt.

    Claims the gate still holds in its stream are written first, so the count below sees them."""
    materialise_claims()
    # Threads of this process wait on the lock below; other processes on the item's row lock
    # (SQLite has no row locks, but then there is one web process and this lock suffices).
    with _rebuilding, transaction.atomic():
        item = (
            FlashItem.objects.select_for_update(of=("self",)).select_related("session__sale").filter(pk=item_id).first()
        )
        if item is None or item.session.sale.status not in (
            SaleStatus.SCHEDULED,
            SaleStatus.RUNNING,
            SaleStatus.PAUSED,
        ):
            return False
        if get_gate().state(pool_key(item.pk)).ready:
            return False
        _configure(item)
    return True


def schedule_sale(shop: Shop, actor: Any, sale_id: int, *, ip: str | None = None) -> FlashSale:
    """Publish a draft: reservations open, every item's pool is configured at the gate and the
    reminders are scheduled for each session's start."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    with transaction.atomic():
        sale = selectors.access_sale(shop, sale_id, lock=True)
        items = _sale_items(sale)
        wanted: dict[int, int] = defaultdict(int)
        for item in items:
            wanted[item.sku_id] += item.quantity
        for sku in Sku.objects.filter(pk__in=wanted).select_related("product").order_by("pk"):
            if sku.stock < wanted[sku.pk]:
                raise _invalid(
                    _("「%(title)s %(spec)s」库存 %(stock)s 件，少于秒杀数量 %(wanted)s 件")
                    % {"title": sku.product.title, "spec": sku.spec, "stock": sku.stock, "wanted": wanted[sku.pk]},
                    field="quantity",
                    sku_id=sku.pk,
                )
        if sale.sessions.filter(ends_at__lte=timezone.now()).exists():
            raise _invalid(_("有场次已经结束，请修改时间后再发布"), field="sessions")
        transition(sale, SaleStatus.SCHEDULED, actor=actor, note=_("发布秒杀"))
        audit.record(actor=actor, shop=shop, action="flashsale.schedule", obj=sale, ip=ip)
        for item in items:
            item.session.sale = sale
            on_commit(_configure, item)
        for session in sale.sessions.all():
            on_commit(tasks.schedule_reminder, session.pk, session.starts_at)
    return sale


def pause_sale(shop: Shop, actor: Any, sale_id: int, *, ip: str | None = None) -> FlashSale:
    return _move(shop, actor, sale_id, SaleStatus.PAUSED, _("暂停秒杀"), "flashsale.pause", ip)


def resume_sale(shop: Shop, actor: Any, sale_id: int, *, ip: str | None = None) -> FlashSale:
    return _move(shop, actor, sale_id, None, _("恢复秒杀"), "flashsale.resume", ip)


def end_sale(shop: Shop, actor: Any, sale_id: int, *, ip: str | None = None) -> FlashSale:
    return _move(shop, actor, sale_id, SaleStatus.ENDED, _("提前结束秒杀"), "flashsale.end", ip)


def _move(
    shop: Shop, actor: Any, sale_id: int, to_status: str | None, note: str, action: str, ip: str | None
) -> FlashSale:
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    with transaction.atomic():
        sale = selectors.access_sale(shop, sale_id, lock=True)
        if to_status is None:  # resume: running once a session has started
            if sale.status != SaleStatus.PAUSED:
                raise InvalidTransition(_("只有已暂停的活动可以恢复"), code="flash_sale_not_paused")
            started = sale.sessions.filter(starts_at__lte=timezone.now()).exists()
            to_status = SaleStatus.RUNNING if started else SaleStatus.SCHEDULED
        transition(sale, to_status, actor=actor, note=note)
        audit.record(actor=actor, shop=shop, action=action, obj=sale, ip=ip)
        keys = [pool_key(pk) for pk in FlashItem.objects.filter(session__sale=sale).values_list("pk", flat=True)]
        on_commit(_tell_gate, keys, to_status)
        cache.delete_many([_item_cache_key(int(key.split(":")[1])) for key in keys])
    return sale


def _tell_gate(keys: Sequence[str], status: str) -> None:
    gate = get_gate()
    for key in keys:
        if status == SaleStatus.ENDED:
            gate.close(key)
        else:
            gate.set_paused(key, status == SaleStatus.PAUSED)


def end_finished_sales(*, now: datetime | None = None) -> int:
    """Sales whose last session is over end (the sweeper)."""
    now = now or timezone.now()
    ended = 0
    live = FlashSale.objects.filter(status__in=(SaleStatus.SCHEDULED, SaleStatus.RUNNING)).exclude(
        sessions__ends_at__gt=now
    )
    for sale_id in list(live.values_list("pk", flat=True)[:100]):
        with transaction.atomic():
            sale = FlashSale.objects.select_for_update().get(pk=sale_id)
            if sale.status in (SaleStatus.SCHEDULED, SaleStatus.RUNNING):
                transition(sale, SaleStatus.ENDED, note=_("全部场次已结束"))
                ended += 1
    return ended


# --- reservations ---------------------------------------------------------------------------


def _check_audience(user: Any, community_id: int | None, title: str = "") -> None:
    """A community-only sale admits that community's current members. Cached per member for a
    minute: the buy path asks it on every attempt and must not go to SQL each time."""
    if community_id is None:
        return
    key = f"flash:member:{community_id}:{user.pk}"
    member = cache.get(key)
    if member is None:
        member = is_community_member(user, Community(pk=community_id))
        cache.set(key, member, MEMBERSHIP_CACHE_SECONDS)
    if not member:
        raise MembersOnly(_("本场秒杀仅限社群成员参与，请先加入社群"))


def reserve(user: Any, sale_id: int) -> tuple[Reservation, bool]:
    """Reserve (预约) with one tap; the same member again changes nothing. Returns (reservation, created).

    The count is a column moved by one conditional ``F()`` update in the reservation's own
    transaction: exact under concurrency (the unique pair decides who is new), and the sale page
    reads one integer instead of counting up to millions of rows on every view."""
    sale = selectors.member_sale(sale_id)
    if sale.status == SaleStatus.ENDED:
        raise ReservationClosed(_("活动已结束"))
    if timezone.now() < sale.reservation_starts_at:
        raise ReservationClosed(_("预约尚未开始"))
    _check_audience(user, sale.community_id)
    existing = Reservation.objects.filter(sale=sale, user=user).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            reservation = Reservation.objects.create(sale=sale, user=user)
            FlashSale.objects.filter(pk=sale.pk).update(reservation_count=F("reservation_count") + 1)
    except IntegrityError:
        return Reservation.objects.get(sale=sale, user=user), False
    keys = [pool_key(pk) for pk in FlashItem.objects.filter(session__sale=sale).values_list("pk", flat=True)]
    on_commit(_add_priority, keys, user.pk)
    return reservation, True


def _add_priority(keys: Sequence[str], user_id: int) -> None:
    gate = get_gate()
    for key in keys:
        gate.add_priority_members(key, [user_id])


def remind_reservers(session_id: int) -> int:
    """At a session's start every reserver gets one inbox message, written set-based: one
    ``INSERT … SELECT`` per chunk of reservation ids, and the chunk's upper id stored on the
    session in the same transaction, so a second run (or a retry after a crash) writes nothing
    twice. Returns how many messages this call wrote."""
    session = FlashSession.objects.select_related("sale").filter(pk=session_id).first()
    if session is None:
        return 0
    sale = session.sale
    if sale.status == SaleStatus.SCHEDULED and session.starts_at <= timezone.now():
        with transaction.atomic():
            locked = FlashSale.objects.select_for_update().get(pk=sale.pk)
            if locked.status == SaleStatus.SCHEDULED:
                transition(locked, SaleStatus.RUNNING, note=_("秒杀开始"))
    if sale.status not in (SaleStatus.SCHEDULED, SaleStatus.RUNNING):
        return 0
    last_id = Reservation.objects.filter(sale=sale).order_by("-pk").values_list("pk", flat=True).first() or 0
    link = reverse("flashsales:sale", args=[sale.pk])

    def texts() -> tuple[str, str]:
        return _("秒杀开始了"), (_("你预约的「%(title)s」已开抢，数量有限，先到先得。") % {"title": sale.title})[:500]

    by_language = []  # (reservers reading it, title, text): one INSERT … SELECT per language and chunk
    for language, readers in readers_by_language("user__language"):
        with translation.override(language):
            by_language.append((readers, *texts()))
    written = 0
    start = session.reminded_up_to
    while start < last_id:
        end = min(start + REMINDER_CHUNK, last_id)
        with transaction.atomic():
            if FlashSession.objects.filter(pk=session.pk, reminded_up_to=start).update(reminded_up_to=end) != 1:
                return written  # another run is on it
            chunk = Reservation.objects.filter(sale=sale, pk__gt=start, pk__lte=end)
            for readers, title, body in by_language:
                written += notify_from(
                    chunk.filter(readers).values_list(
                        "user_id",
                        Value(sale.shop_id),
                        Value("flashsale.started"),
                        Value(title),
                        Value(body),
                        Value(link),
                        Value(timezone.now()),
                    )
                )
            # The same chunk as WeChat subscribe messages, to those who accepted them: one more INSERT … SELECT.
            queue_subscribe_messages_from(
                SubscribeTemplate.FLASHSALE_STARTED,
                chunk.values("user_id"),
                event_prefix=f"flashsale.started:{session.pk}:",
                texts=texts,
                page=link,
            )
        start = end
    return written


def remind_due_sessions(*, now: datetime | None = None) -> int:
    """The sweeper: sessions that started in the last hour and still owe reminders."""
    now = now or timezone.now()
    due = FlashSession.objects.filter(
        starts_at__lte=now,
        starts_at__gt=now - timedelta(hours=1),
        sale__status__in=(SaleStatus.SCHEDULED, SaleStatus.RUNNING),
    ).values_list("pk", flat=True)
    return sum(remind_reservers(session_id) for session_id in list(due))


# --- attempts (the hot path) ------------------------------------------------------------------


def _item_cache_key(item_id: int) -> str:
    # v2: the facts carry the cap; a web process of the previous release finds no v1 entry to misread.
    return f"flash:item:v2:{item_id}"


def _item_facts(item_id: int) -> dict[str, Any]:
    """What the buy path needs about an item besides the gate, cached briefly (read once per
    half-minute per process, not per attempt)."""
    key = _item_cache_key(item_id)
    facts = cache.get(key)
    if facts is None:
        item = FlashItem.objects.select_related("session__sale").filter(pk=item_id).first()
        if item is None or item.session.sale.status not in VISIBLE_STATUSES:
            raise FlashItemNotFound(_("秒杀商品不存在"))
        sale = item.session.sale
        facts = {
            "sale_id": sale.pk,
            "community_id": sale.community_id,
            "status": sale.status,
            "cap": item.per_person_cap,
        }
        cache.set(key, facts, ITEM_CACHE_SECONDS)
    return facts


# The one definition of the refusals' words: the Django endpoint, the page and the thin front
# (shequn/front.py) all answer through ``refusal_error``.
REFUSAL_MESSAGES = {
    Refusal.NOT_READY: gettext_lazy("抢购人数太多，请稍后再试"),
    Refusal.NOT_OPEN: gettext_lazy("秒杀未开始"),
    Refusal.CLOSED: gettext_lazy("秒杀已结束"),
    Refusal.PAUSED: gettext_lazy("秒杀已暂停，请稍后再试"),
    Refusal.PRIORITY_ONLY: gettext_lazy("预约用户优先购买中，请稍后再来"),
    Refusal.OVER_CAP: gettext_lazy("每人限购 {cap} 件"),
    Refusal.SOLD_OUT: gettext_lazy("已抢光"),
    Refusal.RATE_LIMITED: gettext_lazy("操作太频繁，请稍后再试"),
}


def refusal_error(refusal: Refusal, *, cap: int | None = None) -> DomainError:
    message = REFUSAL_MESSAGES[refusal].format(cap=cap if cap is not None else "")
    error_class = AttemptRateLimited if refusal == Refusal.RATE_LIMITED else AttemptRefused
    return error_class(message, code=REFUSAL_CODES[refusal], details={"refusal": refusal.value})


def issue_ticket(user: Any, item_id: int, *, now: float | None = None) -> tickets.Ticket:
    """A gate ticket for this member and item, after the checks that need the database (the item
    is on a published sale, the community-only audience). The attempt endpoint verifies it with
    no session or SQL (``tickets.verify``)."""
    facts = _item_facts(item_id)
    if facts["status"] == SaleStatus.DRAFT:
        raise FlashItemNotFound(_("秒杀商品不存在"))
    _check_audience(user, facts["community_id"])
    return tickets.sign(user.pk, item_id, facts["cap"], now=now)


def attempt(
    user: Any, item_id: int, quantity: int = 1, *, now: datetime | None = None, client_ip: str | None = None
) -> Admission:
    """One signed-in member's attempt to buy ``quantity`` of a flash item; the gate decides at once.

    SQL on this path: none once the item's facts and the member's community membership are
    cached (what remains is the session/token lookup of authentication itself). A ticket holder
    skips these checks (the ticket carries them) and goes straight to ``admit``.
    Raises ``AttemptRefused`` (or ``AttemptRateLimited``) with the gate's reason in words.
    """
    facts = _item_facts(item_id)
    if facts["status"] == SaleStatus.DRAFT:
        raise FlashItemNotFound(_("秒杀商品不存在"))
    _check_audience(user, facts["community_id"])
    return admit(user.pk, item_id, quantity, cap=facts["cap"], now=now, client_ip=client_ip)


def admit(
    member_id: int,
    item_id: int,
    quantity: int = 1,
    *,
    cap: int,
    now: datetime | None = None,
    client_ip: str | None = None,
) -> Admission:
    """The gate's part of an attempt by a member whose right to try is settled (checked by
    ``attempt``, or carried by a verified ticket): count it, ask the gate, settle a lost pool or
    a sold-out answer (``settle``)."""
    count_attempts(item_id)
    admission = get_gate().attempt(pool_key(item_id), member_id, quantity, now=now, client_ip=client_ip)
    if needs_settling(admission, item_id):
        admission = settle(admission, member_id, item_id, quantity, now=now, client_ip=client_ip)
    if not admission.admitted:
        assert admission.refusal is not None
        raise refusal_error(admission.refusal, cap=cap)
    return admission


# A sold-out answer looks for released units on their way back at most once a second per item and
# process: a crowd hammering a sold-out item costs one indexed query a second, not one per attempt.
sold_out_checks = PerKeyThrottle(1.0)


def needs_settling(admission: Admission, item_id: int) -> bool:
    """Whether ``settle`` has something to do with this answer (no SQL: the buy path and the thin
    front ask this first, and call ``settle`` only when it says so)."""
    if admission.refusal == Refusal.NOT_READY:
        return True
    return admission.refusal == Refusal.SOLD_OUT and sold_out_checks.due(item_id)


def settle(
    admission: Admission,
    member_id: int,
    item_id: int,
    quantity: int = 1,
    *,
    now: datetime | None = None,
    client_ip: str | None = None,
) -> Admission:
    """The answers that need the database before they are final; others pass unchanged.

    - not_ready during a live sale (the gate lost the pool): rebuilt from the database, then asked
      again; an ended sale is not rebuilt and answers closed.
    - sold_out: released units still on their way back (a unit released in another process) are
      handed to the gate, then it is asked again (callers ask ``needs_settling`` first, which lets
      this happen at most once a second per item and process: ``sold_out_checks``).

    The thin front calls this in a thread when ``needs_settling`` says so."""
    gate = get_gate()
    key = pool_key(item_id)
    if admission.refusal == Refusal.NOT_READY:
        # Rebuilt by this call, or by another caller meanwhile: ask again.
        if rebuild_pool(item_id) or gate.state(key).ready:
            admission = gate.attempt(key, member_id, quantity, now=now, client_ip=client_ip)
        if admission.refusal == Refusal.NOT_READY and _sale_status(item_id) == SaleStatus.ENDED:
            admission = Admission(admitted=False, refusal=Refusal.CLOSED)
    elif admission.refusal == Refusal.SOLD_OUT and return_released_units(item_id):
        admission = gate.attempt(key, member_id, quantity, now=now, client_ip=client_ip)
    return admission


def _sale_status(item_id: int) -> str | None:
    return FlashItem.objects.filter(pk=item_id).values_list("session__sale__status", flat=True).first()


def count_attempts(item_id: int, attempts: int = 1) -> None:
    """Add to the item's attempt counter (the console's live figure; ``selectors.attempts_seen``)."""
    key = f"flash:attempts:{item_id}"
    if not cache.add(key, attempts, timeout=None):
        try:
            cache.incr(key, attempts)
        except ValueError:
            cache.add(key, attempts, timeout=None)


# --- the consumer: claims become orders -------------------------------------------------------


@dataclass
class Materialised:
    ordered: int = 0
    released: int = 0
    duplicates: int = 0


def materialise_claims(*, count: int = 500, consumer: str = CONSUMER, idle_ms: int = 30_000) -> Materialised:
    """Read admitted claims from the gate, up to ``count`` at a time, and write each batch in one
    transaction (``_materialise_batch``): one ``FlashClaim`` per claim id and one order at the flash
    price per claim that can have one; then acknowledge the batch. Idempotent by claim id: a claim
    delivered twice finds its row (unique ``claim_id``) and makes no second order. Claims another
    consumer took and left unacknowledged for ``idle_ms`` are taken over. A batch that fails as a
    whole is written claim by claim, so one bad claim stays at the gate (unacknowledged, for a
    later delivery) without holding back the others."""
    gate = get_gate()
    result = Materialised()
    while True:
        claims = gate.pending_claims(POOL_OWNER, consumer, idle_ms=idle_ms, count=count)
        claims += gate.read_claims(POOL_OWNER, consumer, count=count)
        if not claims:
            return result
        done = claims
        try:
            outcomes = _materialise_batch(claims)
        except (DatabaseError, DomainError) as error:
            logger.warning(
                "flash claims: a batch of %d failed (%s); writing them one by one",
                len(claims),
                error,
                exc_info=isinstance(error, DatabaseError),
            )
            outcomes, done = [], []
            for claim in claims:
                try:
                    outcomes += _materialise_batch([claim])
                except (DatabaseError, DomainError):
                    logger.exception("flash claim %s left at the gate for a later delivery", claim.claim_id)
                    continue
                done.append(claim)
        for outcome in outcomes:
            setattr(result, outcome, getattr(result, outcome) + 1)
        gate.ack(done)  # after the batch's transaction committed
        if len(claims) < count:
            return result


def _materialise(claim: Claim) -> str:
    """One claim as a batch of one: "ordered", "released" or "duplicates"."""
    return _materialise_batch([claim])[0]


def _item_id(claim: Claim) -> int:
    return int(claim.pool_key.split(":", 1)[1])


@dataclass
class _Batch:
    """What a batch of claims needs from the tables, read set-based once the items are locked."""

    items: dict[int, FlashItem]
    known: set[str]  # claim ids already written (as a claim or as a regained claim)
    live: dict[int, int]  # item → units held by live claims
    users: dict[int, Any]
    addresses: dict[int, Address]  # user → default address (else their first)
    pickup_points: dict[int, PickupPoint]  # shop → its first active pickup point


def _read_batch(claims: Sequence[Claim]) -> _Batch:
    # Item rows locked in primary-key order: consumers of one item are serialised, so the
    # duplicate and live-units reads below are exact (a racing consumer has committed or waits).
    items = {
        item.pk: item
        for item in FlashItem.objects.select_for_update(of=("self",))
        .select_related("session__sale__shop")
        .filter(pk__in={_item_id(claim) for claim in claims})
        .order_by("pk")
    }
    ids = [claim.claim_id for claim in claims]
    known: set[str] = set()
    for claim_id, regained in FlashClaim.objects.filter(
        Q(claim_id__any_of=ids) | Q(regained_claim_id__any_of=ids)
    ).values_list("claim_id", "regained_claim_id"):
        known.update(found for found in (claim_id, regained) if found)
    live = dict(
        FlashClaim.objects.filter(item_id__in=items, status__in=LIVE_CLAIMS)
        .values("item_id")
        .annotate(units=Sum("quantity"))
        .values_list("item_id", "units")
    )
    member_ids = {claim.member_id for claim in claims}
    addresses: dict[int, Address] = {}
    for address in Address.objects.filter(user_id__any_of=member_ids):  # the default first (the model's ordering)
        addresses.setdefault(address.user_id, address)
    pickup_points: dict[int, PickupPoint] = {}
    shop_ids = {item.session.sale.shop_id for item in items.values()}
    for point in PickupPoint.objects.filter(shop_id__in=shop_ids, is_active=True).order_by("pk"):
        pickup_points.setdefault(point.shop_id, point)
    return _Batch(
        items=items,
        known=known,
        live=live,
        # The language too: the orders' inbox texts are written in it.
        users={
            user.pk: user
            for user in get_user_model().objects.only("id", "is_active", "language").filter(pk__any_of=member_ids)
        },
        addresses=addresses,
        pickup_points=pickup_points,
    )


RETURN_BATCH = 1_000  # released claims handed back per call (the next call takes the rest)


def return_released_units(item_id: int | None = None, *, claims: Sequence[str] | None = None) -> int:
    """Released claims whose units have not reached the gate yet go back to it, each exactly once;
    returns the units given back. Called after each release commits, by the buy path when an item
    looks sold out, and every minute by the task consumer.

    A release is marked and given to the gate in one transaction; when the gate does not hold the
    pool (lost with Redis: the rebuild counts the units; or held by another process's in-process
    engine: the web process takes it later), the mark is undone and the claim stays pending. So
    a task consumer closing an unpaid order in the embedded default never loses the unit, and a
    crash between commit and release only delays it. The conditional mark makes two sweepers
    (threads or processes) give a claim back once."""
    pending = FlashClaim.objects.filter(status=ClaimStatus.RELEASED, returned_to_gate=False)
    if item_id is not None:
        pending = pending.filter(item_id=item_id)
    if claims is not None:
        pending = pending.filter(claim_id__in=claims)
    by_item: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for pk, item, member_id, quantity in pending.order_by("pk").values_list("pk", "item_id", "user_id", "quantity")[
        :RETURN_BATCH
    ]:
        by_item[item].append((pk, member_id, quantity))
    gate = get_gate()
    returned = 0
    for item, rows in by_item.items():
        with transaction.atomic():
            mine = [row for row in rows if _mark_returned(row[0], True)]
            given = 0
            for _claim_pk, member_id, quantity in mine:
                if not gate.release(pool_key(item), member_id, quantity):
                    break  # this gate does not hold the pool: the rest stay pending
                given += 1
                returned += quantity
            if given == 0:
                transaction.set_rollback(True)  # the usual case in a process that does not hold the pool
            for pk, _member_id, _quantity in mine[given:] if given else ():
                _mark_returned(pk, False)
    return returned


def _mark_returned(claim_pk: int, returned: bool) -> bool:
    return (
        FlashClaim.objects.filter(pk=claim_pk, status=ClaimStatus.RELEASED, returned_to_gate=not returned).update(
            returned_to_gate=returned
        )
        == 1
    )


def _materialise_batch(claims: Sequence[Claim]) -> list[str]:
    """Write a batch of claims in one transaction, in a statement count that does not grow with
    the batch: lock the items, read duplicates, live units, members, addresses and pickup points
    set-based, create the orders through ``orders.actions.create_orders`` (checkout's builder),
    write the claims in their final status with their history, and give the units of claims that
    cannot become orders back to the gate after commit. Returns each claim's outcome."""
    outcomes: list[str] = []
    unique: dict[str, Claim] = {}
    for claim in claims:
        outcomes.append("duplicates" if claim.claim_id in unique else "")
        unique.setdefault(claim.claim_id, claim)
    if not unique:
        return outcomes
    released_at_gate: list[str] = []  # claim ids whose units go back to the gate after commit
    unrecorded: list[tuple[int, int, int]] = []  # (item, member, units) of claims no row can hold
    with transaction.atomic():
        batch = _read_batch(list(unique.values()))
        methods = [m for m in order_actions.enabled_payment_methods() if m != PaymentMethod.COD]
        now = timezone.now()
        new: dict[str, NewClaim] = {}
        ordering: list[tuple[str, order_actions.OrderRequest]] = []
        surplus_items: set[int] = set()
        for claim in unique.values():
            item = batch.items.get(_item_id(claim))
            if item is None or claim.claim_id in batch.known:
                continue  # a duplicate (or an item that no longer exists): nothing to write
            user = batch.users.get(claim.member_id)
            if user is None:  # the account is gone: no row can name it, the unit goes back
                # The account is gone: no row can name it, so its unit goes back without a pending mark.
                unrecorded.append((item.pk, claim.member_id, claim.quantity))
                new[claim.claim_id] = _new_claim(claim, item, ClaimStatus.RELEASED, reason=_("账号不存在"))
                continue
            if batch.live.get(item.pk, 0) + claim.quantity > item.quantity:
                # The gate admitted more than the table allows (a pool rebuilt while a claim was in
                # flight): the database refuses the surplus, and the gate keeps its unit (it had one too many).
                new[claim.claim_id] = _new_claim(
                    claim, item, ClaimStatus.RELEASED, reason=_("已抢光"), note=_("超出秒杀数量"), returned=True
                )
                surplus_items.add(item.pk)
                continue
            try:
                request = _order_request(claim, item, user, batch, methods, now)
            except DomainError as error:
                released_at_gate.append(claim.claim_id)
                new[claim.claim_id] = _new_claim(claim, item, ClaimStatus.RELEASED, reason=error.message)
                continue
            batch.live[item.pk] = batch.live.get(item.pk, 0) + claim.quantity
            ordering.append((claim.claim_id, request))
        created = order_actions.create_orders([request for _, request in ordering])
        for (claim_id, _request), order in zip(ordering, created, strict=True):
            claim, item = unique[claim_id], batch.items[_item_id(unique[claim_id])]
            if isinstance(order, Order):
                new[claim_id] = _new_claim(
                    claim,
                    item,
                    ClaimStatus.ORDERED,
                    order_id=order.pk,
                    note=_("订单 %(number)s") % {"number": order.number},
                )
            elif item.pk in surplus_items:
                # Its units were counted as held when a later claim was found surplus: only one
                # claim at a time decides that exactly (as the live units stand after each).
                raise Conflict(_("秒杀名额需逐条核对"), code="flash_batch_recount")
            else:
                released_at_gate.append(claim_id)
                new[claim_id] = _new_claim(claim, item, ClaimStatus.RELEASED, reason=order.message)
        rows = [claim for claim in new.values() if claim.user_id in batch.users]
        written = create_claims(rows)
        if len(written) != len(rows):
            # Written by another writer the item locks did not hold back: its orders would be
            # doubles, so the batch rolls back and is written claim by claim.
            raise Conflict(_("抢购记录已存在"), code="flash_claim_exists")
        if released_at_gate:
            on_commit(return_released_units, claims=released_at_gate)
        if unrecorded:
            on_commit(_release_unrecorded, unrecorded)
    for index, claim in enumerate(claims):
        if not outcomes[index]:
            found = new.get(claim.claim_id)
            outcomes[index] = "duplicates" if found is None else "ordered" if found.order_id else "released"
    return outcomes


def _release_unrecorded(releases: Sequence[tuple[int, int, int]]) -> None:
    gate = get_gate()
    for item_id, member_id, quantity in releases:
        gate.release(pool_key(item_id), member_id, quantity)


def _new_claim(
    claim: Claim,
    item: FlashItem,
    status: str,
    *,
    order_id: int | None = None,
    reason: str = "",
    note: str = "",
    returned: bool = False,
) -> NewClaim:
    return NewClaim(
        claim_id=claim.claim_id,
        item_id=item.pk,
        sale_id=item.session.sale_id,
        user_id=claim.member_id,
        quantity=claim.quantity,
        admitted_at=claim.admitted_at,
        status=status,
        order_id=order_id,
        reason=reason[:200],
        note=note or (_("无法下单") if status == ClaimStatus.RELEASED else ""),
        returned_to_gate=returned,
    )


def _order_request(
    claim: Claim, item: FlashItem, user: Any, batch: _Batch, methods: Sequence[str], now: datetime
) -> order_actions.OrderRequest:
    """The claim's order for the orders app's checkout: trusted flash price, the sale's payment
    deadline, the member's default address, else the shop's pickup point."""
    sale = item.session.sale
    if not user.is_active:
        raise FlashSaleInvalid(_("账号不可用，名额已释放"), code="account_inactive")
    if not methods:
        raise FlashSaleInvalid(_("暂不支持在线支付，名额已释放"), code="payment_unavailable")
    address = batch.addresses.get(user.pk)
    point = batch.pickup_points.get(sale.shop_id)
    if address is None and point is None:
        raise FlashSaleInvalid(_("你还没有收货地址，名额已释放；请先添加收货地址"), code="address_required")
    return order_actions.OrderRequest(
        user=user,
        lines=[(item.sku_id, claim.quantity)],
        unit_prices={item.sku_id: item.flash_price_fen},
        pay_by=now + timedelta(minutes=sale.payment_timeout_minutes),
        payment_method=methods[0],
        fulfilment=Fulfilment.DELIVERY if address is not None else Fulfilment.PICKUP,
        address=address,
        pickup_point=None if address is not None else point,
    )


# --- the order's lifecycle (receivers of orders.signals) --------------------------------------


def on_order_released(sender: Any, order: Order, **kwargs: Any) -> None:
    """An unpaid flash order closed (timeout) or was cancelled: its claim is released and its units
    go back to the gate, exactly once (the claim's conditional status move decides)."""
    row = FlashClaim.objects.filter(order_id=order.pk).select_related("item__session").first()
    if row is None or row.status != ClaimStatus.ORDERED:
        return
    reason = _("超时未支付，名额已释放") if order.status == "closed" else _("订单已取消，名额已释放")
    if transition_claim(row, ClaimStatus.RELEASED, sale_id=row.item.session.sale_id, reason=reason, note=reason):
        on_commit(return_released_units, row.item_id, claims=[row.claim_id])


def on_order_paid(sender: Any, order: Order, **kwargs: Any) -> None:
    """A payment. For a claim already released (a late payment the orders app reinstated) the unit
    must come back from the gate: taken again when the pool has one (and the member's cap allows),
    otherwise the order is refunded in full and its shelf stock given back (RULES.md)."""
    row = FlashClaim.objects.filter(order_id=order.pk).select_related("item__session__sale").first()
    if row is None or row.status != ClaimStatus.RELEASED:
        return
    item = row.item
    session = item.session
    # Inside the window whatever the clock says: a late payment may land after the session ended.
    moment = max(session.starts_at + timedelta(minutes=session.sale.priority_minutes), session.starts_at)
    moment = min(moment, session.ends_at - timedelta(microseconds=1))
    gate = get_gate()
    key = pool_key(item.pk)
    # A pool the gate lost is not rebuilt here: claims admitted before the loss may still wait in
    # the stream, and only ``rebuild_pool`` (which writes them first, outside any transaction)
    # counts them. Without the gate's word on a unit the money goes back (RULES.md allows either).
    admission = gate.attempt(key, row.user_id, row.quantity, now=moment)
    if admission.admitted:
        transition_claim(
            row,
            ClaimStatus.ORDERED,
            sale_id=session.sale_id,
            regained_claim_id=admission.claim_id,
            reason="",
            note=_("迟到的付款已到账，名额已恢复"),
        )
        return
    reason = _("秒杀名额已释放，付款全额退回")
    if admission.refusal not in (None, Refusal.NOT_READY):
        why = REFUSAL_MESSAGES[admission.refusal].format(cap=item.per_person_cap)
        reason = _("秒杀名额已释放（%(why)s），付款全额退回") % {"why": why}
    for line in OrderLine.objects.filter(order=order).order_by("pk"):
        order_actions.restock_line(line, line.quantity)  # never handed over: back on the shelf
        order_actions.refund_automatically(order, line, reason[:200])


# --- truth and recovery: reads live in selectors (the console, the API and tests share them) ----

reconcile = selectors.reconcile


def claim_status(user: Any, claim_id: str) -> FlashClaim | None:
    """The member's claim as written by the consumer, or None while it waits in the gate's queue.
    Polling runs the consumer for a moment first (idle embedded deployments have no dedicated one)."""
    if not FlashClaim.objects.filter(claim_id=claim_id).exists():
        materialise_claims(count=50)
    found = FlashClaim.objects.filter(claim_id=claim_id).select_related("order").first()
    if found is not None and found.user_id != getattr(user, "pk", None):
        raise FlashClaimNotFound(_("抢购记录不存在"))  # another member's claim looks absent
    return found
