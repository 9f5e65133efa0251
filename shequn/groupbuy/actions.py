"""Campaigns (接龙): creation, publishing, sign-up, changes, tiers and the deadline close.

Locks, always taken in this order so nothing can deadlock:

- an existing order's row (``orders.Order``) before its campaign's row;
- the campaign row before the leaders' rows (the pickup points' daily capacity, by key), before
  the SKU rows (``create_orders`` reserves stock, a refund restocks) and
  the item rows (``CampaignItem`` counters are single conditional UPDATEs, taken after the SKUs:
  whatever restocks a SKU does so before it gives the units back to the item), each by key;
- a locked row only (``select_for_update(of=("self",))``): locking the rows joined with it (the
  shop, the member) would hold every other transaction's commit on its foreign-key check of them,
  a cycle PostgreSQL found between the close's cancellations and the sign-ups being written.

A sign-up, a payment, a change and the close all hold the campaign row lock, so a sign-up
racing the close is either in before the close counts (and counted) or refused after it. The
close itself only flips the status under the lock; refunds and cancellations of its orders run
afterwards, one order at a time with that order's row lock (and the sweeper finishes whatever
a crash left).

Money: ``SignUpLine.returned_fen`` is everything this app asked back on a line; what a member
keeps paying is ``units × min(unit price, tier price)``, so each refund step pays the
difference between what was paid, what should be kept and what was already returned —
running any step twice finds nothing left to return.
"""

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import Count, F, Sum
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from shequn.catalog.kinds import is_goods
from shequn.catalog.models import Sku
from shequn.communities.actions import do_create_post
from shequn.core import audit
from shequn.core.errors import DomainError, NotAuthenticated
from shequn.core.events import on_commit
from shequn.core.i18n import in_language_of
from shequn.core.money import format_fen
from shequn.core.sql import insert_values
from shequn.core.throttle import PerKeyThrottle
from shequn.gate.base import Admission, Claim, PoolSpec, Refusal
from shequn.gate.engine import get_gate
from shequn.leaders.models import Leader
from shequn.notifications.actions import notify
from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderLine
from shequn.shops.models import Shop

from . import selectors, tasks, tickets
from .enums import CampaignStatus, SignUpStatus
from .errors import (
    CampaignBusy,
    CampaignInvalid,
    CampaignNotOpen,
    CampaignSoldOut,
    ClaimReleased,
    LeaderNotFound,
    PerPersonCapExceeded,
    PickupPointFull,
    SignUpNotChangeable,
    TicketNotFound,
)
from .models import (
    POOL_OWNER,
    Campaign,
    CampaignItem,
    CampaignLeader,
    CampaignTier,
    SignUp,
    SignUpClaim,
    SignUpLine,
    pool_key,
)

logger = logging.getLogger(__name__)

MAX_TITLE = 100

MAX_ITEMS = 20
MAX_TIERS = 5


def campaign_link(campaign: Campaign) -> str:
    return reverse("groupbuy:campaign", args=[campaign.pk])


def local_deadline(moment: datetime) -> str:
    return dateformat.format(timezone.localtime(moment), _("m月d日 H:i"))


def pickup_day(day: date) -> str:
    return dateformat.format(day, _("m月d日"))


# --- creating and publishing -------------------------------------------------------------


@dataclass(frozen=True)
class TierInput:
    min_quantity: int
    price_fen: int


@dataclass(frozen=True)
class ItemInput:
    sku_id: int
    price_fen: int
    stock_limit: int
    per_person_cap: int | None = None
    tiers: Sequence[TierInput] = ()


@dataclass(frozen=True)
class CampaignInput:
    title: str
    starts_at: datetime
    deadline: datetime
    pickup_date: date
    items: Sequence[ItemInput]
    description: str = ""
    min_total_units: int = 0


def _invalid(message: str, field: str) -> CampaignInvalid:
    return CampaignInvalid(message, details={"field": field})


def check_campaign(shop: Shop, data: CampaignInput, *, now: datetime | None = None) -> dict[int, Sku]:
    """Validate a campaign's facts and items; returns the items' SKUs by id."""
    now = now or timezone.now()
    title = (data.title or "").strip()
    if not title:
        raise _invalid(_("请填写接龙标题"), "title")
    if len(title) > MAX_TITLE:
        raise _invalid(_("接龙标题最多 %(max)s 个字") % {"max": MAX_TITLE}, "title")
    if data.deadline <= data.starts_at:
        raise _invalid(_("截止时间必须晚于开始时间"), "deadline")
    if data.deadline <= now:
        raise _invalid(_("截止时间必须在将来"), "deadline")
    if data.pickup_date < timezone.localtime(data.deadline).date():
        raise _invalid(_("提货日期不能早于截止日期"), "pickup_date")
    if data.min_total_units < 0:
        raise _invalid(_("成团最低件数不能为负数"), "min_total_units")
    if not data.items:
        raise _invalid(_("请至少选择一件商品"), "items")
    if len(data.items) > MAX_ITEMS:
        raise _invalid(_("一次接龙最多 %(max)s 件商品") % {"max": MAX_ITEMS}, "items")
    sku_ids = [item.sku_id for item in data.items]
    if len(set(sku_ids)) != len(sku_ids):
        raise _invalid(_("同一规格只能添加一次"), "items")
    skus = {sku.pk: sku for sku in Sku.objects.filter(pk__in=sku_ids, shop=shop).select_related("product")}
    for item in data.items:
        sku = skus.get(item.sku_id)
        if sku is None or not sku.is_active or not is_goods(sku.product.kind):
            raise _invalid(_("商品不存在或已下架"), "items")
        name = f"{sku.product.title} {sku.spec}"
        if item.price_fen < 1:
            raise _invalid(_("「%(name)s」接龙价至少 ¥0.01") % {"name": name}, "items")
        if item.stock_limit < 1:
            raise _invalid(_("「%(name)s」限量至少 1 件") % {"name": name}, "items")
        if item.per_person_cap is not None and item.per_person_cap < 1:
            raise _invalid(_("「%(name)s」每人限购至少 1 件") % {"name": name}, "items")
        if len(item.tiers) > MAX_TIERS:
            raise _invalid(_("「%(name)s」最多设置 %(max)s 档阶梯价") % {"name": name, "max": MAX_TIERS}, "items")
        last_quantity, last_price = 1, item.price_fen
        for tier in sorted(item.tiers, key=lambda t: t.min_quantity):
            if tier.min_quantity <= last_quantity:
                raise _invalid(_("「%(name)s」阶梯件数须逐档增加且大于 1") % {"name": name}, "items")
            if tier.price_fen < 1 or tier.price_fen >= last_price:
                raise _invalid(_("「%(name)s」阶梯价须随件数增加而严格降低，且至少 ¥0.01") % {"name": name}, "items")
            last_quantity, last_price = tier.min_quantity, tier.price_fen
    return skus


def _write_items(campaign: Campaign, data: CampaignInput) -> None:
    CampaignItem.objects.filter(campaign=campaign).delete()
    for position, item in enumerate(data.items):
        row = CampaignItem.objects.create(
            campaign=campaign,
            sku_id=item.sku_id,
            price_fen=item.price_fen,
            stock_limit=item.stock_limit,
            per_person_cap=item.per_person_cap,
            position=position,
        )
        CampaignTier.objects.bulk_create(
            [CampaignTier(item=row, min_quantity=t.min_quantity, price_fen=t.price_fen) for t in item.tiers]
        )


def _check_leaders(shop: Shop, leader_ids: Iterable[int]) -> list[Leader]:
    ids = sorted(set(leader_ids))
    if not ids:
        raise _invalid(_("请至少选择一位团长"), "leader_ids")
    return [selectors.access_leader(shop, pk) for pk in ids]


def do_create_campaign(
    shop: Shop, actor: Any, data: CampaignInput, leader_ids: Iterable[int], *, ip: str | None = None
) -> Campaign:
    """The operator drafts a campaign for the chosen leaders (publish it to open sign-ups)."""
    check_campaign(shop, data)
    leaders = _check_leaders(shop, leader_ids)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            shop=shop,
            title=data.title.strip(),
            description=data.description.strip(),
            created_by=actor,
            starts_at=data.starts_at,
            deadline=data.deadline,
            pickup_date=data.pickup_date,
            min_total_units=data.min_total_units,
        )
        _write_items(campaign, data)
        CampaignLeader.objects.bulk_create([CampaignLeader(campaign=campaign, leader=leader) for leader in leaders])
        audit.record(
            actor=actor, shop=shop, action="campaign.create", obj=campaign, ip=ip, leaders=[x.pk for x in leaders]
        )
    return campaign


def do_update_campaign(
    shop: Shop, campaign: Campaign, actor: Any, data: CampaignInput, leader_ids: Iterable[int], *, ip: str | None = None
) -> Campaign:
    """Edit a draft (published campaigns keep their terms: members signed up on them)."""
    check_campaign(shop, data)
    leaders = _check_leaders(shop, leader_ids) if campaign.created_by_leader_id is None else None
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk, shop=shop)
        if locked.status != CampaignStatus.DRAFT:
            raise CampaignNotOpen(_("已发布的接龙不能再修改，可取消后重新创建"), code="campaign_not_draft")
        Campaign.objects.filter(pk=locked.pk).update(
            title=data.title.strip(),
            description=data.description.strip(),
            starts_at=data.starts_at,
            deadline=data.deadline,
            pickup_date=data.pickup_date,
            min_total_units=data.min_total_units,
        )
        _write_items(locked, data)
        if leaders is not None:
            CampaignLeader.objects.filter(campaign=locked).delete()
            CampaignLeader.objects.bulk_create([CampaignLeader(campaign=locked, leader=x) for x in leaders])
        audit.record(actor=actor, shop=shop, action="campaign.update", obj=locked, ip=ip)
    campaign.refresh_from_db()
    return campaign


def do_create_leader_campaign(leader: Leader, data: CampaignInput, *, publish: bool = True) -> Campaign:
    """An active leader's own campaign from the shop's catalog: only their point takes part."""
    shop = leader.shop
    check_campaign(shop, data)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            shop=shop,
            title=data.title.strip(),
            description=data.description.strip(),
            created_by=leader.user,
            created_by_leader=leader,
            starts_at=data.starts_at,
            deadline=data.deadline,
            pickup_date=data.pickup_date,
            min_total_units=data.min_total_units,
        )
        _write_items(campaign, data)
        CampaignLeader.objects.create(campaign=campaign, leader=leader)
        audit.record(actor=leader.user, shop=shop, action="campaign.create", obj=campaign, leader=leader.pk)
        if publish:
            _publish(campaign, leader.user, None)
    return campaign


def _post_body(campaign: Campaign) -> str:
    lines = [_("【接龙】%(title)s") % {"title": campaign.title}]
    for item in CampaignItem.objects.filter(campaign=campaign).select_related("sku__product"):
        lines.append(
            _("· %(title)s %(spec)s 接龙价 %(price_fen)s")
            % {"title": item.sku.product.title, "spec": item.sku.spec, "price_fen": format_fen(item.price_fen)}
        )
    lines.append(
        _("截止 %(deadline)s，%(pickup_date)s 到团长自提点提货")
        % {"deadline": local_deadline(campaign.deadline), "pickup_date": pickup_day(campaign.pickup_date)}
    )
    # The link travels as the campaign card under the post (selectors.campaign_cards), not as text.
    return "\n".join(lines)


def _publish(campaign: Campaign, actor: Any, ip: str | None) -> None:
    """Under the campaign lock: open it, post it once per community, schedule its close."""
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.OPEN)
    campaign.status = CampaignStatus.OPEN
    entries = list(CampaignLeader.objects.filter(campaign=campaign).select_related("leader__community"))
    body = _post_body(campaign)
    posts: dict[int, Any] = {}
    for entry in sorted(entries, key=lambda e: e.leader_id):
        community = entry.leader.community
        if community.pk not in posts:
            posts[community.pk] = do_create_post(campaign.shop, community, body, actor=actor, ip=ip)
        CampaignLeader.objects.filter(pk=entry.pk).update(post=posts[community.pk])
    on_commit(tasks.schedule_close, campaign.pk, campaign.deadline)
    on_commit(configure_pools, campaign.pk)


def do_publish_campaign(shop: Shop, campaign: Campaign, actor: Any, *, ip: str | None = None) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update(of=("self",)).select_related("shop").get(pk=campaign.pk, shop=shop)
        if locked.status != CampaignStatus.DRAFT:
            raise CampaignNotOpen(_("这个接龙已经发布过了"), code="campaign_not_draft")
        if locked.deadline <= timezone.now():
            raise _invalid(_("截止时间已过，请先修改截止时间"), "deadline")
        _publish(locked, actor, ip)
        audit.record(actor=actor, shop=shop, action="campaign.publish", obj=locked, ip=ip)
    campaign.refresh_from_db()
    return campaign


def do_cancel_campaign(shop: Shop, campaign: Campaign, actor: Any, *, reason: str = "", ip: str | None = None) -> str:
    """Call a campaign off: like a failure, every paid sign-up is refunded in full."""
    if campaign.shop_id != shop.pk:
        raise selectors.CampaignNotFound(_("接龙不存在"))
    reason = (reason or "").strip()[:100]
    status = close_campaign(campaign.pk, cancel=True, reason=reason)
    if status is None:
        raise CampaignNotOpen(_("接龙已结束，不能取消"), code="campaign_closed")
    audit.record(actor=actor, shop=shop, action="campaign.cancel", obj=campaign, ip=ip, reason=reason)
    return status


# --- signing up --------------------------------------------------------------------------


def _check_open(status: str, starts_at: datetime, deadline: datetime, now: datetime) -> None:
    if status != CampaignStatus.OPEN:
        raise CampaignNotOpen(_("接龙%(status)s，不能再接龙") % {"status": CampaignStatus(status).label})
    if now < starts_at:
        raise CampaignNotOpen(
            _("接龙将于 %(starts_at)s 开始") % {"starts_at": local_deadline(starts_at)}, code="campaign_not_started"
        )
    if now >= deadline:
        raise CampaignNotOpen(_("接龙已截止"), code="campaign_deadline_passed")


def _live_units(campaign_id: int, member_id: int) -> dict[int, int]:
    rows = (
        SignUpLine.objects.filter(
            sign_up__campaign_id=campaign_id, sign_up__user_id=member_id, sign_up__status__in=selectors.LIVE_STATUSES
        )
        .values("item_id")
        .annotate(units=Sum("units"))
    )
    return {row["item_id"]: row["units"] for row in rows}


def _item_name(item: CampaignItem) -> str:
    return f"{item.sku.product.title} {item.sku.spec}".rstrip()


def _check_quantities(user: Any, quantities: Mapping[int, int]) -> dict[int, int]:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"))
    return _wanted(quantities)


def _wanted(quantities: Mapping[int, int]) -> dict[int, int]:
    wanted = {int(item_id): int(count) for item_id, count in quantities.items() if int(count) != 0}
    if not wanted:
        raise CampaignInvalid(_("请选择要接龙的商品和数量"), details={"field": "quantities"})
    if any(count < 1 or count > 999 for count in wanted.values()):
        raise CampaignInvalid(_("数量应在 1 到 999 之间"), details={"field": "quantities"})
    return wanted


# --- the admission gate: pools, attempts, the consumer -----------------------------------------
#
# Every campaign item is a pool at the gate (``jielong:{item.pk}``: its stock limit and per-person
# cap). A sign-up asks the gate for each wanted item and answers at once (排队中); the consumer
# turns the admitted claims into sign-ups and orders. The database stays the truth: ``sold`` is
# what live sign-ups hold, so units at the gate + claims in the queue + ``sold`` = stock limit.

CONSUMER = "groupbuy"
FACTS_CACHE_SECONDS = 30
MEMBER_CACHE_SECONDS = 60
REQUEST_CACHE_SECONDS = 3_600
SIGN_UP_WAIT_SECONDS = 60  # a burst queues behind other consumers writing their batches


def _pool_spec(campaign: Campaign, item: CampaignItem, in_flight: int = 0) -> PoolSpec:
    return PoolSpec(
        key=pool_key(item.pk),
        units=max(0, item.stock_limit - item.sold - in_flight),
        # Without a per-person cap a member may take whatever is left.
        per_member_cap=item.per_person_cap or item.stock_limit,
        opens_at=campaign.starts_at,
        closes_at=campaign.deadline,
    )


def _configure(campaign: Campaign, item: CampaignItem) -> None:
    """(Re)build ``item``'s pool from the tables (caller holds the campaign lock): units = stock
    limit less what live sign-ups hold and what claims still in the gate's stream hold (admitted,
    perhaps being written by a consumer that has not committed yet), and what each member holds
    for the cap, counted the same way."""
    held = dict(
        SignUpLine.objects.filter(item=item, sign_up__status__in=selectors.LIVE_STATUSES, units__gt=0)
        .values("sign_up__user_id")
        .annotate(total=Sum("units"))
        .values_list("sign_up__user_id", "total")
    )
    gate = get_gate()
    key = pool_key(item.pk)
    in_flight = [claim for claim in gate.unacknowledged(POOL_OWNER) if claim.pool_key == key]
    for claim in in_flight:
        held[claim.member_id] = held.get(claim.member_id, 0) + claim.quantity
    gate.configure(_pool_spec(campaign, item, sum(c.quantity for c in in_flight)), held_by_member=held)
    if campaign.status != CampaignStatus.OPEN:
        gate.close(pool_key(item.pk))


def configure_pools(campaign_id: int) -> None:
    """After publishing (on commit): every item of the campaign becomes a pool at the gate."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        for item in CampaignItem.objects.filter(campaign=campaign).order_by("pk"):
            _configure(campaign, item)
    cache.delete(_facts_key(campaign_id))


def _close_pools(campaign_id: int) -> None:
    """After the close (on commit): the gate admits nobody more for the campaign."""
    gate = get_gate()
    for item_id in CampaignItem.objects.filter(campaign_id=campaign_id).values_list("pk", flat=True):
        gate.close(pool_key(item_id))
    cache.delete(_facts_key(campaign_id))


_rebuilding = threading.Lock()


def rebuild_pools(item_id: int) -> bool:
    """Rebuild the pools the gate lost (Redis restarted, a new process) of ``item_id``'s campaign
    from the database; only one caller rebuilds (the campaign's row lock), the others find them
    ready. Returns True when this call rebuilt any. Claims still in the gate's stream are written
    first, so the count sees them; every lost pool of the campaign is rebuilt at once, so a
    request for several items does not wait on a rebuild between its attempts."""
    materialise_claims()
    with _rebuilding, transaction.atomic():
        campaign_id = CampaignItem.objects.filter(pk=item_id).values_list("campaign_id", flat=True).first()
        if campaign_id is None:
            return False
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != CampaignStatus.OPEN:
            return False
        gate = get_gate()
        lost = [x for x in CampaignItem.objects.filter(campaign=campaign) if not gate.state(pool_key(x.pk)).ready]
        for item in lost:
            _configure(campaign, item)
    return bool(lost)


def _facts_key(campaign_id: int) -> str:
    return f"jielong:facts:{campaign_id}"


def _campaign_facts(campaign_id: int) -> dict[str, Any]:
    """What the sign-up path needs about a campaign besides the gate, cached briefly (read once
    per half-minute per process, not per sign-up); publishing and closing drop it."""
    key = _facts_key(campaign_id)
    facts = cache.get(key)
    if facts is None:
        campaign = Campaign.objects.exclude(status=CampaignStatus.DRAFT).filter(pk=campaign_id).first()
        if campaign is None:
            raise selectors.CampaignNotFound(str(selectors.CAMPAIGN_NOT_FOUND))
        items = CampaignItem.objects.filter(campaign=campaign).select_related("sku__product")
        facts = {
            "status": campaign.status,
            "starts_at": campaign.starts_at,
            "deadline": campaign.deadline,
            "caps": {item.pk: item.per_person_cap for item in items},
            "names": {item.pk: _item_name(item) for item in items},
        }
        cache.set(key, facts, FACTS_CACHE_SECONDS)
    return facts


def _member_leaders(user: Any, campaign_id: int) -> tuple[list[int], int | None]:
    """The campaign's leaders the member may sign up with, and the default one (cached a minute)."""
    key = f"jielong:leaders:{campaign_id}:{user.pk}"
    found = cache.get(key)
    if found is None:
        leaders = [x for x in selectors.member_leaders(user, Campaign(pk=campaign_id)) if x.pickup_point_id]
        default = selectors.default_leader(user, leaders)
        found = ([x.pk for x in leaders], default.pk if default else None)
        cache.set(key, found, MEMBER_CACHE_SECONDS)
    return found


def _request_key(claim_id: str) -> str:
    return f"jielong:request:{claim_id}"


def _leader_key(item_id: int, member_id: int) -> str:
    return f"jielong:leader:{item_id}:{member_id}"


@dataclass(frozen=True)
class Ticket:
    """A sign-up the gate admitted, all of it or some items: the member polls ``ticket`` (the
    first claim's id) until the consumer has written the sign-up."""

    ticket: str
    claim_ids: tuple[str, ...]
    refused: tuple[DomainError, ...] = ()  # items the gate refused; the others are queued


@dataclass(frozen=True)
class SignUpRequest:
    """One member's checked request: units per item (asked of the gate in item order) and the
    leader whose pickup point it goes to."""

    member_id: int
    campaign_id: int
    wanted: dict[int, int]
    leader_id: int
    default_leader_id: int | None

    @property
    def notes_leader(self) -> bool:
        """The consumer must be told the leader (the cache, before the attempts): not the default."""
        return self.leader_id != self.default_leader_id


def issue_ticket(user: Any, campaign_id: int, *, now: float | None = None) -> tickets.Ticket:
    """A gate ticket for this member and campaign, after the checks that need the database (signed
    in, a member of a community taking part, the leaders they may choose, the campaign's items).
    The sign-up endpoint verifies it with no session or SQL (``tickets.verify``)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"))
    facts = _campaign_facts(campaign_id)
    leader_ids, default = _member_leaders(user, campaign_id)
    if not leader_ids or default is None:
        raise selectors.CampaignNotFound(str(selectors.CAMPAIGN_NOT_FOUND))
    return tickets.sign(user.pk, campaign_id, default, leader_ids, sorted(facts["caps"]), now=now)


def _choose_leader(leader_id: int | None, leader_ids: Sequence[int], default: int | None) -> int:
    chosen = default if leader_id is None else (leader_id if leader_id in leader_ids else None)
    if chosen is None:
        raise LeaderNotFound(_("请选择你的团长"))
    return chosen


def _check_items(wanted: Mapping[int, int], item_ids: Iterable[int]) -> None:
    known = set(item_ids)
    if any(item_id not in known for item_id in wanted):
        raise CampaignInvalid(_("商品不在本次接龙中"), details={"field": "quantities"})


def ticket_request(ticket: tickets.Ticket, quantities: Mapping[int, int], leader_id: int | None) -> SignUpRequest:
    """The request of a ticket holder, checked against the ticket alone (no I/O): the thin front
    and the Django endpoint both start here. Whether the campaign is open is the gate's answer."""
    wanted = _wanted(quantities)
    chosen = _choose_leader(leader_id, ticket.leader_ids, ticket.default_leader_id)
    _check_items(wanted, ticket.item_ids)
    return SignUpRequest(ticket.member_id, ticket.campaign_id, wanted, chosen, ticket.default_leader_id)


def join_queue(
    user: Any,
    campaign_id: int,
    quantities: Mapping[int, int],
    *,
    leader_id: int | None = None,
    client_ip: str | None = None,
) -> Ticket:
    """Sign ``user`` up through the gate: each wanted item is asked of its pool (in item order) and
    the answer comes at once. No SQL once the campaign's facts and the member's leaders are cached.

    Items are decided one by one: when one is refused and another admitted, the admitted ones stay
    queued and ``refused`` says why for the others (a 接龙 line is per item). When none is admitted
    the first refusal is raised: ``CampaignSoldOut``, ``PerPersonCapExceeded``, ``CampaignNotOpen``
    or ``CampaignBusy``."""
    wanted = _check_quantities(user, quantities)
    facts = _campaign_facts(campaign_id)
    leader_ids, default = _member_leaders(user, campaign_id)
    if not leader_ids:
        raise selectors.CampaignNotFound(str(selectors.CAMPAIGN_NOT_FOUND))
    chosen = _choose_leader(leader_id, leader_ids, default)
    _check_open(facts["status"], facts["starts_at"], facts["deadline"], timezone.now())
    _check_items(wanted, facts["caps"])
    return _join(SignUpRequest(user.pk, campaign_id, wanted, chosen, default), client_ip)


def join_with_ticket(
    ticket: tickets.Ticket, quantities: Mapping[int, int], *, leader_id: int | None = None, client_ip: str | None = None
) -> Ticket:
    """``join_queue`` for a ticket holder (the Django endpoint's answer when the front is not there)."""
    return _join(ticket_request(ticket, quantities, leader_id), client_ip)


def _join(request: SignUpRequest, client_ip: str | None) -> Ticket:
    if request.notes_leader:
        note_leader(request)
    gate = get_gate()
    admissions = []
    for item_id, count in sorted(request.wanted.items()):
        admission = gate.attempt(pool_key(item_id), request.member_id, count, client_ip=client_ip)
        if needs_settling(admission, item_id):
            admission = settle(admission, request.member_id, item_id, count, client_ip=client_ip)
        admissions.append(admission)
    return queued(request, admissions)


def note_leader(request: SignUpRequest) -> None:
    """Before the attempts (the consumer may read a claim at once): the leader the member chose."""
    keys = {_leader_key(item_id, request.member_id): request.leader_id for item_id in request.wanted}
    cache.set_many(keys, REQUEST_CACHE_SECONDS)


def queued_at_once(admissions: Sequence[Admission]) -> Ticket | None:
    """One item admitted and nothing refused: the answer, which needs neither the cache nor the
    database (the thin front gives it on its event loop; anything else goes through ``queued``)."""
    if len(admissions) == 1 and (claim_id := admissions[0].claim_id) is not None:
        return Ticket(ticket=claim_id, claim_ids=(claim_id,))
    return None


def queued(request: SignUpRequest, admissions: Sequence[Admission]) -> Ticket:
    """The answer to the gate's ``admissions`` (one per wanted item, in item order): the ticket, the
    claims of one request grouped for the consumer, or the first refusal raised."""
    admitted: list[str] = []
    refused: list[DomainError] = []
    for item_id, admission in zip(sorted(request.wanted), admissions, strict=True):
        if admission.claim_id is not None:
            admitted.append(admission.claim_id)
        else:
            refused.append(_refusal_error(admission, request.campaign_id, item_id, request.member_id))
    if not admitted:
        raise refused[0]
    if len(admitted) > 1:  # the claims of one request make one sign-up (see ``_requests``)
        cache.set_many({_request_key(claim_id): admitted[0] for claim_id in admitted}, REQUEST_CACHE_SECONDS)
    return Ticket(ticket=admitted[0], claim_ids=tuple(admitted), refused=tuple(refused))


def needs_settling(admission: Admission, item_id: int) -> bool:
    """Whether ``settle`` has something to do with this answer (no I/O: the thin front asks this
    first and calls ``settle`` in a thread only when it says so)."""
    if admission.refusal == Refusal.NOT_READY:
        return True
    return admission.refusal == Refusal.SOLD_OUT and sold_out_checks.due(item_id)


def settle(
    admission: Admission, member_id: int, item_id: int, count: int, *, client_ip: str | None = None
) -> Admission:
    """The answers that need the database before they are final: a pool the gate lost is rebuilt
    from the tables, a sold-out pool compared with them (``resync_undersold_pool``); then the gate
    is asked again."""
    gate = get_gate()
    key = pool_key(item_id)
    if admission.refusal == Refusal.NOT_READY and (rebuild_pools(item_id) or gate.state(key).ready):
        return gate.attempt(key, member_id, count, client_ip=client_ip)  # rebuilt (by us or another caller)
    if admission.refusal == Refusal.SOLD_OUT and resync_undersold_pool(item_id):
        return gate.attempt(key, member_id, count, client_ip=client_ip)
    return admission


# A sold-out answer compares the gate with the tables at most once a second per item and process.
sold_out_checks = PerKeyThrottle(1.0)


def resync_undersold_pool(item_id: int) -> bool:
    """A sold-out pool checked against the database: units given back where this process's gate
    could not take them (``gate.release`` answered False: an unpaid order closed by the task
    consumer, which in the embedded default has its own in-process gate) show as units the tables
    have and the gate lacks; the pool is then rebuilt from the tables. Queued claims are written
    first (only when the tables show more room than the gate: claims still queued look like room
    until written), so the count sees them. Returns True when the pool was rebuilt."""
    if not _more_room_in_the_tables(item_id):
        return False
    materialise_claims()
    with _rebuilding, transaction.atomic():
        campaign_id = CampaignItem.objects.filter(pk=item_id).values_list("campaign_id", flat=True).first()
        if campaign_id is None:
            return False
        campaign = Campaign.objects.select_for_update(of=("self",)).get(pk=campaign_id)
        if campaign.status != CampaignStatus.OPEN:
            return False
        if not _more_room_in_the_tables(item_id):
            return False  # the gate agrees with the tables (or lost the pool: rebuild_pools' case)
        _configure(campaign, CampaignItem.objects.get(pk=item_id))
    return True


def _more_room_in_the_tables(item_id: int) -> bool:
    stock_limit = CampaignItem.objects.values_list("stock_limit", flat=True).get(pk=item_id)
    held = SignUpLine.objects.filter(item_id=item_id, sign_up__status__in=selectors.LIVE_STATUSES).aggregate(
        units=Sum("units")
    )["units"]
    state = get_gate().state(pool_key(item_id))
    return state.ready and stock_limit - (held or 0) > state.units_left


def _refusal_error(admission: Admission, campaign_id: int, item_id: int, member_id: int) -> DomainError:
    facts = _campaign_facts(campaign_id)
    name = facts["names"][item_id]
    refusal = admission.refusal
    if refusal == Refusal.SOLD_OUT:
        left = admission.units_left or 0
        message = (
            _("「%(name)s」已接满") % {"name": name}
            if left == 0
            else _("「%(name)s」只剩 %(left)s 件") % {"name": name, "left": left}
        )
        return CampaignSoldOut(message, details={"item_id": item_id, "left": left})
    if refusal == Refusal.OVER_CAP:
        cap = facts["caps"][item_id]
        already = _live_units(campaign_id, member_id).get(item_id, 0)  # SQL on this refusal only
        return PerPersonCapExceeded(
            _("「%(name)s」每人限购 %(cap)s 件，你已接龙 %(already)s 件")
            % {"name": name, "cap": cap, "already": already}
            if already
            else _("「%(name)s」每人限购 %(cap)s 件") % {"name": name, "cap": cap},
            details={"item_id": item_id, "cap": cap},
        )
    if refusal == Refusal.NOT_OPEN:
        return CampaignNotOpen(
            _("接龙将于 %(starts_at)s 开始") % {"starts_at": local_deadline(facts["starts_at"])},
            code="campaign_not_started",
        )
    if refusal in (Refusal.CLOSED, Refusal.NOT_READY):
        status = Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
        if status is not None and status != CampaignStatus.OPEN:
            return CampaignNotOpen(_("接龙%(status)s，不能再接龙") % {"status": CampaignStatus(status).label})
        if refusal == Refusal.CLOSED:
            return CampaignNotOpen(_("接龙已截止"), code="campaign_deadline_passed")
        return CampaignBusy(_("接龙的人太多了，请稍后再试"))
    return CampaignBusy(_("操作太频繁，请稍后再试"))  # rate limited (or paused, which campaigns never are)


@dataclass
class Materialised:
    signed_up: int = 0  # claims that became (part of) a sign-up
    released: int = 0  # claims that could not, given back
    duplicates: int = 0  # claims delivered again, already written


def materialise_claims(*, count: int = 200, consumer: str = CONSUMER, idle_ms: int = 30_000) -> Materialised:
    """Read admitted claims from the gate in batches and write them: the claims of one request
    (one ticket) become one sign-up with one order, a campaign's requests of a batch in one
    transaction (``_materialise_batch``); then the batch is acknowledged. Idempotent by claim id:
    a claim delivered twice finds its ``SignUpClaim`` and makes nothing twice. Claims another
    consumer left unacknowledged for ``idle_ms`` are taken over. A batch that fails as a whole is
    written request by request, so one bad request stays at the gate (unacknowledged, for a later
    delivery) without holding back the others."""
    gate = get_gate()
    result = Materialised()
    while True:
        claims = gate.pending_claims(POOL_OWNER, consumer, idle_ms=idle_ms, count=count)
        claims += gate.read_claims(POOL_OWNER, consumer, count=count)
        if not claims:
            return result
        by_campaign = _by_campaign(_requests(list({c.claim_id: c for c in claims}.values())))
        done: list[Claim] = []
        for campaign_id, requests in sorted(by_campaign.items()):
            try:
                outcomes = _materialise_batch(campaign_id, requests)
            except (DatabaseError, DomainError) as error:
                logger.warning(
                    "接龙 claims: a batch of %d requests failed (%s); writing them one by one", len(requests), error
                )
                outcomes = []
                for request in requests:
                    try:
                        outcomes += _materialise_batch(campaign_id, [request])
                    except (DatabaseError, DomainError):
                        logger.exception("接龙 claims %s left at the gate", [c.claim_id for c in request[0]])
            for group, outcome in outcomes:
                setattr(result, outcome, getattr(result, outcome) + len(group))
                done += group
        written = {c.claim_id for c in done}
        gate.ack([c for c in claims if c.claim_id in written])  # after the transactions committed
        if len(claims) < count:
            return result


Request = tuple[list[Claim], int | None]  # the claims of one request, and the leader the member chose


def _requests(claims: Sequence[Claim]) -> list[Request]:
    """Group a batch's claims by the request that made them, with the leader the member chose
    (one round trip to the cache). A claim whose request the cache does not know (a one-item
    request, or one the consumer read before its request finished) is a sign-up of its own; a
    claim without a chosen leader gets the member's default one."""
    keys = [_request_key(c.claim_id) for c in claims] + [_leader_key(_item_id(c), c.member_id) for c in claims]
    known = cache.get_many(keys)
    groups: dict[str, list[Claim]] = {}
    leaders: dict[str, int | None] = {}
    for claim in claims:
        ticket = known.get(_request_key(claim.claim_id), claim.claim_id)
        groups.setdefault(ticket, []).append(claim)
        leaders[ticket] = known.get(_leader_key(_item_id(claim), claim.member_id))
    return [(group, leaders[ticket]) for ticket, group in groups.items()]


def _by_campaign(requests: Sequence[Request]) -> dict[int, list[Request]]:
    """The batch's requests by campaign (one query); claims of items that no longer exist are dropped."""
    campaigns = dict(
        CampaignItem.objects.filter(pk__in={_item_id(c) for group, _ in requests for c in group}).values_list(
            "pk", "campaign_id"
        )
    )
    found: dict[int, list[Request]] = {}
    for group, leader_id in requests:
        campaign_id = campaigns.get(_item_id(group[0]))
        if campaign_id is not None:
            found.setdefault(campaign_id, []).append((group, leader_id))
    return found


def _item_id(claim: Claim) -> int:
    return int(claim.pool_key.split(":", 1)[1])


@dataclass
class _Tally:
    """What the batch has taken so far, on top of the tables (read under the campaign lock)."""

    room: dict[int, int]  # item → units left under its stock limit
    held: dict[tuple[int, int], int]  # (member, item) → units in live sign-ups
    capacity: dict[int, int | None]  # leader → sign-ups its point still takes that day (None: no limit)


def _materialise_batch(campaign_id: int, requests: Sequence[Request]) -> list[tuple[list[Claim], str]]:
    """Write a campaign's requests in one transaction under its row lock (so the duplicate, room,
    cap and capacity reads are exact): set-based reads, the orders through
    ``orders.actions.create_orders`` (checkout's builder), one conditional UPDATE per item, the
    sign-ups, their lines and claims in bulk. The database checks again what the gate decided
    (open, cap, room), and what the gate does not know (the member's leader, the pickup point's
    daily capacity). A request that cannot become a sign-up is released with its reason; its units
    go back to the gate after commit, except for want of room (the gate had a unit too many: a
    pool rebuilt while a claim was in flight; it keeps it and is right again)."""
    outcomes: list[tuple[list[Claim], str]] = []
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        ids = [c.claim_id for group, _ in requests for c in group]
        known = set(SignUpClaim.objects.filter(claim_id__any_of=ids).values_list("claim_id", flat=True))
        fresh: list[Request] = []
        for group, leader_id in requests:
            new = [c for c in group if c.claim_id not in known]
            if len(new) < len(group):
                outcomes.append(([c for c in group if c.claim_id in known], "duplicates"))
            if new:
                fresh.append((new, leader_id))
        if not fresh:
            return outcomes
        members = sorted({group[0].member_id for group, _ in fresh})
        users = {user.pk: user for user in get_user_model().objects.filter(pk__any_of=members)}
        items = {x.pk: x for x in CampaignItem.objects.filter(campaign=campaign).select_related("sku__product")}
        leaders = selectors.pickup_leaders_of(members, campaign)
        tally = _read_tally(campaign, members, items, leaders)
        now = timezone.now()
        planned: list[tuple[Request, Leader, order_actions.OrderRequest]] = []
        refused: list[tuple[list[Claim], DomainError]] = []
        for group, leader_id in fresh:
            try:
                leader, request = _plan(campaign, group, leader_id, users, items, leaders, tally, now)
            except DomainError as error:
                refused.append((group, error))
                continue
            planned.append(((group, leader_id), leader, request))
        created = order_actions.create_orders([request for _, _, request in planned])
        made: list[tuple[list[Claim], Leader, Order]] = []
        for ((group, _leader_id), leader, _request), order in zip(planned, created, strict=True):
            if isinstance(order, Order):
                made.append((group, leader, order))
            else:
                refused.append((group, order))
        _take_room(made, items)  # after the SKUs create_orders took (lock order)
        _write_sign_ups(campaign, made, items)
        _release(refused)
    outcomes += [(group, "signed_up") for group, _, _ in made]
    outcomes += [(group, "released") for group, _ in refused]
    return outcomes


def _read_tally(
    campaign: Campaign,
    members: Sequence[int],
    items: Mapping[int, CampaignItem],
    leaders: Mapping[int, tuple[list[Leader], Leader | None]],
) -> _Tally:
    held = (
        SignUpLine.objects.filter(
            sign_up__campaign=campaign, sign_up__user_id__any_of=members, sign_up__status__in=selectors.LIVE_STATUSES
        )
        .values("sign_up__user_id", "item_id")
        .annotate(units=Sum("units"))
        .values_list("sign_up__user_id", "item_id", "units")
    )
    # The leaders' rows, locked in key order, make the capacity counts exact when two campaigns
    # share a pickup date.
    leader_ids = sorted({x.pk for theirs, _ in leaders.values() for x in theirs})
    limits = dict(
        Leader.objects.select_for_update(of=("self",))
        .filter(pk__in=leader_ids)
        .order_by("pk")
        .values_list("pk", "capacity_per_day")
    )
    taken = dict(
        SignUp.objects.filter(
            leader_id__in=leader_ids, campaign__pickup_date=campaign.pickup_date, status__in=selectors.LIVE_STATUSES
        )
        .values("leader_id")
        .annotate(n=Count("pk"))
        .values_list("leader_id", "n")
    )
    return _Tally(
        room={x.pk: x.stock_limit - x.sold for x in items.values()},
        held={(user_id, item_id): units for user_id, item_id, units in held},
        capacity={pk: None if limit is None else limit - taken.get(pk, 0) for pk, limit in limits.items()},
    )


def _plan(
    campaign: Campaign,
    claims: list[Claim],
    leader_id: int | None,
    users: Mapping[int, Any],
    items: Mapping[int, CampaignItem],
    leaders: Mapping[int, tuple[list[Leader], Leader | None]],
    tally: _Tally,
    now: datetime,
) -> tuple[Leader, order_actions.OrderRequest]:
    """One request's checks against the tables and the batch so far, and its pickup order."""
    member_id = claims[0].member_id
    user = users.get(member_id)
    if user is None or not user.is_active:
        raise CampaignInvalid(_("账号不可用，名额已释放"), code="account_inactive")
    _check_open(campaign.status, campaign.starts_at, campaign.deadline, now)
    theirs, default = leaders.get(member_id, ([], None))
    leader = next((x for x in theirs if x.pk == leader_id), None) or default
    if leader is None:
        raise LeaderNotFound(_("你已不在参与接龙的社群中，名额已释放"))
    left = tally.capacity.get(leader.pk)
    if left is not None and left <= 0:
        day = pickup_day(campaign.pickup_date)
        capacity = leader.capacity_per_day
        raise PickupPointFull(
            _("「%(point_name)s」%(day)s的取货名额已满（每天 %(capacity)s 单），请选择其他团长")
            % {"point_name": leader.point_name, "day": day, "capacity": capacity},
            details={"leader_id": leader.pk, "capacity_per_day": capacity},
        )
    wanted = {_item_id(c): c.quantity for c in claims}
    for item_id, count in sorted(wanted.items()):
        item = items[item_id]
        cap = item.per_person_cap
        if cap is not None and tally.held.get((member_id, item_id), 0) + count > cap:
            raise PerPersonCapExceeded(
                _("「%(name)s」每人限购 %(cap)s 件") % {"name": _item_name(item), "cap": cap},
                details={"item_id": item_id, "cap": cap},
            )
        if tally.room[item_id] < count:
            raise CampaignSoldOut(
                _("「%(name)s」已接满") % {"name": _item_name(item)}, details={"item_id": item_id, "left": 0}
            )
    for item_id, count in wanted.items():
        tally.room[item_id] -= count
        tally.held[(member_id, item_id)] = tally.held.get((member_id, item_id), 0) + count
    if left is not None:
        tally.capacity[leader.pk] = left - 1
    return leader, order_actions.OrderRequest(
        user=user,
        lines=[(items[item_id].sku_id, count) for item_id, count in sorted(wanted.items())],
        unit_prices={items[item_id].sku_id: _current_price(items[item_id]) for item_id in wanted},
        fulfilment=Fulfilment.PICKUP,
        pickup_point=leader.pickup_point,
        payment_method=PaymentMethod.SANDBOX,
        pay_by=campaign.deadline,
        hold=_("接龙尚未成团"),  # no goods handed over before the campaign succeeds
    )


def _take_room(made: Sequence[tuple[list[Claim], Leader, Order]], items: Mapping[int, CampaignItem]) -> None:
    """One conditional UPDATE per item for the batch's units, never above the limit (the room was
    read under the campaign lock, and only a consumer holding it takes any)."""
    units: dict[int, int] = {}
    for group, _leader, _order in made:
        for claim in group:
            units[_item_id(claim)] = units.get(_item_id(claim), 0) + claim.quantity
    for item_id, count in sorted(units.items()):
        taken = CampaignItem.objects.filter(pk=item_id, sold__lte=F("stock_limit") - count).update(
            sold=F("sold") + count
        )
        if taken != 1:
            raise CampaignSoldOut(
                _("「%(name)s」已接满") % {"name": _item_name(items[item_id])}, details={"item_id": item_id, "left": 0}
            )


def _write_sign_ups(
    campaign: Campaign, made: Sequence[tuple[list[Claim], Leader, Order]], items: Mapping[int, CampaignItem]
) -> None:
    """The batch's sign-ups, lines and claims: three inserts of rows, no model instance per row
    (``core.sql.insert_values``; Django's ``bulk_create`` preparing each value was most of the
    consumer's time, bench/groupbuy_materialise.py)."""
    if not made:
        return
    entry_ids = insert_values(
        SignUp,
        [
            {
                "campaign_id": campaign.pk,
                "leader_id": leader.pk,
                "user_id": group[0].member_id,
                "order_id": order.pk,
                "units": sum(c.quantity for c in group),
            }
            for group, leader, order in made
        ],
        returning=("id",),
    )
    order_lines = {
        (order_id, sku_id): (line_id, price)
        for line_id, order_id, sku_id, price in OrderLine.objects.filter(
            order_id__any_of=[o.pk for _group, _leader, o in made]
        ).values_list("pk", "order_id", "sku_id", "unit_price_fen")
    }
    lines: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    for (entry_id,), (group, _leader, order) in zip(entry_ids, made, strict=True):
        for claim in sorted(group, key=_item_id):
            item_id = _item_id(claim)
            line_id, price = order_lines[(order.pk, items[item_id].sku_id)]
            lines.append(
                {
                    "sign_up_id": entry_id,
                    "item_id": item_id,
                    "order_line_id": line_id,
                    "units": claim.quantity,
                    "unit_price_fen": price,
                }
            )
            claims.append(_claim_row(claim, sign_up_id=entry_id))
    insert_values(SignUpLine, lines)
    insert_values(SignUpClaim, claims)


def _release(refused: Sequence[tuple[list[Claim], DomainError]]) -> None:
    rows: list[dict[str, Any]] = []
    for group, error in refused:
        rows += [_claim_row(c, released_code=error.code, released_reason=error.message[:200]) for c in group]
        if not isinstance(error, CampaignSoldOut):
            on_commit(_release_at_gate, group[0].member_id, {_item_id(c): c.quantity for c in group})
    insert_values(SignUpClaim, rows)


def _claim_row(claim: Claim, **written: Any) -> dict[str, Any]:
    return {
        "claim_id": claim.claim_id,
        "item_id": _item_id(claim),
        "user_id": claim.member_id,
        "units": claim.quantity,
        "admitted_at": claim.admitted_at,
        **written,
    }


def _release_at_gate(member_id: int, units_by_item: Mapping[int, int]) -> None:
    """After the release committed: the units go back to the gate (a lost pool rebuilds from the
    tables instead; a crash before this line undersells until then, never oversells)."""
    gate = get_gate()
    for item_id, units in sorted(units_by_item.items()):
        gate.release(pool_key(item_id), member_id, units)


CONSUMER_KEY = "jielong:consumer"
CONSUMER_QUIET_SECONDS = 2.0  # a dedicated consumer idle this long is taken for gone


def run_consumer(seconds: float, *, count: int = 500, consumer: str = CONSUMER) -> Materialised:
    """A dedicated consumer for a burst: ``materialise_claims`` in a loop for ``seconds``. While it
    runs, members' ticket polls only read (``ticket_status``): a burst's polls would otherwise all
    run the consumer and queue on the campaign's row lock. Give each consumer its own name."""
    reverse("orders:order_detail", args=["0"])  # load the URLconf (order links) before the first batch
    total = Materialised()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        cache.set(CONSUMER_KEY, consumer, CONSUMER_QUIET_SECONDS)
        done = materialise_claims(count=count, consumer=consumer)
        total.signed_up += done.signed_up
        total.released += done.released
        total.duplicates += done.duplicates
        if done == Materialised():
            time.sleep(0.02)  # nothing queued
    return total


def ticket_status(user: Any, ticket: str) -> SignUpClaim | None:
    """The member's ticket as the consumer wrote it (with its sign-up, or why it was released), or
    None while it waits in the gate's queue. When no dedicated consumer is running (an embedded
    deployment has none), the poll runs the consumer for a moment first."""
    if not SignUpClaim.objects.filter(claim_id=ticket).exists() and cache.get(CONSUMER_KEY) is None:
        materialise_claims(count=50)
    found = SignUpClaim.objects.filter(claim_id=ticket).select_related("sign_up__order", "item").first()
    if found is not None and found.user_id != getattr(user, "pk", None):
        raise TicketNotFound(_("接龙排队记录不存在"))  # another member's ticket looks absent
    return found


def sign_up(user: Any, campaign_id: int, quantities: Mapping[int, int], *, leader_id: int | None = None) -> SignUp:
    """Join the queue and wait for the consumer: the sign-up with its order, or the reason it was
    released (``ClaimReleased`` with the reason's code). For callers that need the sign-up now
    (the demo data, tests, the benchmark's reference); members' requests answer at once instead."""
    ticket = join_queue(user, campaign_id, quantities, leader_id=leader_id)
    found = ticket_status(user, ticket.ticket)
    waited = time.monotonic() + SIGN_UP_WAIT_SECONDS
    while found is None and time.monotonic() < waited:
        time.sleep(0.01)  # another consumer is writing the claim right now
        found = ticket_status(user, ticket.ticket)
    if found is None:
        raise CampaignBusy(_("接龙排队中，请稍后在「我的接龙」查看"))
    if found.sign_up is None:
        raise RELEASE_ERRORS.get(found.released_code, ClaimReleased)(found.released_reason, code=found.released_code)
    return found.sign_up


# What a released claim's stored code is raised as again by ``sign_up``.
RELEASE_ERRORS: dict[str, type[DomainError]] = {
    CampaignSoldOut.code: CampaignSoldOut,
    PerPersonCapExceeded.code: PerPersonCapExceeded,
    PickupPointFull.code: PickupPointFull,
    LeaderNotFound.code: LeaderNotFound,
    "account_inactive": CampaignInvalid,
    CampaignNotOpen.code: CampaignNotOpen,
    "campaign_not_started": CampaignNotOpen,
    "campaign_deadline_passed": CampaignNotOpen,
}


def _current_price(item: CampaignItem) -> int:
    return min(item.price_fen, item.tier_price_fen or item.price_fen)


# --- order lifecycle (receivers of orders.signals) ------------------------------------------


def _give_back(lines: Iterable[SignUpLine], *, paid: bool, user_id: int) -> None:
    """Units a sign-up no longer holds go back to the campaign, and after commit to the gate.
    Callers decide exactly once (a conditional status move, or the order and campaign locks)."""
    released: dict[int, int] = {}
    for line in sorted(lines, key=lambda x: x.item_id):
        if line.units <= 0:
            continue
        CampaignItem.objects.filter(pk=line.item_id, sold__gte=line.units).update(sold=F("sold") - line.units)
        if paid:
            CampaignItem.objects.filter(pk=line.item_id, paid_units__gte=line.units).update(
                paid_units=F("paid_units") - line.units
            )
        released[line.item_id] = line.units
    if released:
        on_commit(_release_at_gate, user_id, released)


def _owed(line: SignUpLine, order_line: OrderLine, price_now: int | None) -> int:
    """What is still to go back on ``line``: paid − kept − already returned (never negative)."""
    unit = line.unit_price_fen if price_now is None else min(line.unit_price_fen, price_now)
    return max(0, order_line.total_fen - line.units * unit - line.returned_fen)


def _return(order: Order, line: SignUpLine, amount: int, reason: str, *, tier: bool = False) -> int:
    """Ask the gateway for ``amount`` of ``line`` back (caller holds the order lock); book it."""
    if amount <= 0:
        return 0
    refund = order_actions.refund_automatically(order, line.order_line, reason, amount_fen=amount)
    given = refund.amount_fen if refund is not None else 0
    if given:
        SignUpLine.objects.filter(pk=line.pk).update(
            returned_fen=F("returned_fen") + given,
            tier_refunded_fen=F("tier_refunded_fen") + (given if tier else 0),
        )
        if tier:
            SignUp.objects.filter(pk=line.sign_up_id).update(tier_refunded_fen=F("tier_refunded_fen") + given)
    return given


def _refund_everything(order: Order, entry: SignUp, reason: str) -> int:
    """Refund all a sign-up still holds (caller holds the order lock); the sign-up is refunded."""
    given = 0
    for line in SignUpLine.objects.filter(sign_up=entry).select_related("order_line").order_by("order_line__sku_id"):
        SignUpLine.objects.filter(pk=line.pk).update(units=0)
        order_actions.restock_line(line.order_line, line.units)  # never handed over: back on the shelf
        line.units = 0
        given += _return(order, line, _owed(line, line.order_line, None), reason)
    SignUp.objects.filter(pk=entry.pk).update(status=SignUpStatus.REFUNDED, units=0)
    return given


def on_order_reinstating(sender: Any, order: Order, **kwargs: Any) -> None:
    """A late payment reinstates a sign-up's order: its campaign's row now, before the SKUs the
    reinstating takes (lock order), as ``on_order_paid`` will want it."""
    campaign_ids = SignUp.objects.filter(order_id=order.pk).values_list("campaign_id", flat=True)
    list(Campaign.objects.select_for_update(of=("self",)).filter(pk__in=campaign_ids).values_list("pk", flat=True))


def on_order_paid(sender: Any, order: Order, **kwargs: Any) -> None:
    entry = SignUp.objects.filter(order_id=order.pk).first()
    if entry is None:
        return
    campaign = Campaign.objects.select_for_update().get(pk=entry.campaign_id)
    entry = SignUp.objects.get(pk=entry.pk)
    if entry.status == SignUpStatus.CONFIRMED:
        return
    lines = list(SignUpLine.objects.filter(sign_up=entry).select_related("order_line"))
    if entry.status != SignUpStatus.PENDING_PAYMENT or campaign.status != CampaignStatus.OPEN:
        # Paid too late: the campaign closed (or the order had closed and a late payment
        # reinstated it). It was not counted, so it cannot stay: the money goes back in full.
        # The SKUs (restocked by the refund) before the items (lock order).
        _refund_everything(
            order, entry, _("接龙「%(title)s」已截止，付款未能计入，全额退款") % {"title": campaign.title}
        )
        if entry.status == SignUpStatus.PENDING_PAYMENT:
            _give_back(lines, paid=False, user_id=entry.user_id)
        # A cancelled one gave its counters back when the order closed.
        return
    sequence = campaign.last_sequence + 1
    Campaign.objects.filter(pk=campaign.pk).update(last_sequence=sequence)
    SignUp.objects.filter(pk=entry.pk).update(
        status=SignUpStatus.CONFIRMED, sequence=sequence, paid_at=order.paid_at or timezone.now()
    )
    tier_moved = False
    for line in sorted(lines, key=lambda x: x.item_id):
        CampaignItem.objects.filter(pk=line.item_id).update(paid_units=F("paid_units") + line.units)
        tier_moved |= _reach_tier(line.item_id)
    if tier_moved or _pays_above_tier(lines):
        on_commit(tasks.start_tier_refunds, campaign.pk)


def _reach_tier(item_id: int) -> bool:
    """Under the campaign lock: lower the item's price to the best tier its paid units reached."""
    item = CampaignItem.objects.get(pk=item_id)
    tier = CampaignTier.objects.filter(item_id=item_id, min_quantity__lte=item.paid_units).order_by("price_fen").first()
    if tier is None or tier.price_fen >= _current_price(item):
        return False
    CampaignItem.objects.filter(pk=item_id).update(tier_price_fen=tier.price_fen)
    return True


def _pays_above_tier(lines: Sequence[SignUpLine]) -> bool:
    prices = dict(CampaignItem.objects.filter(pk__in=[x.item_id for x in lines]).values_list("pk", "tier_price_fen"))
    return any(x.unit_price_fen > (prices.get(x.item_id) or x.unit_price_fen) for x in lines)


def on_order_released(sender: Any, order: Order, **kwargs: Any) -> None:
    """An unpaid sign-up's order closed or was cancelled: its units go back to the campaign."""
    entry = SignUp.objects.filter(order_id=order.pk).first()
    if entry is None:
        return
    if (
        SignUp.objects.filter(pk=entry.pk, status=SignUpStatus.PENDING_PAYMENT).update(status=SignUpStatus.CANCELLED)
        != 1
    ):
        return
    _give_back(SignUpLine.objects.filter(sign_up=entry), paid=False, user_id=entry.user_id)


def on_line_refunded(sender: Any, order: Order, line: OrderLine, amount_fen: int, **kwargs: Any) -> None:
    """Bookkeeping: a confirmed sign-up whose order was refunded in full outside this app
    (staff approved a member's request) leaves the list and gives its units back."""
    entry = SignUp.objects.filter(order_id=order.pk).first()
    if entry is None or order.refunded_fen < order.total_fen:
        return
    Campaign.objects.select_for_update().get(pk=entry.campaign_id)
    if SignUp.objects.filter(pk=entry.pk, status=SignUpStatus.CONFIRMED).update(status=SignUpStatus.REFUNDED) == 1:
        lines = list(SignUpLine.objects.filter(sign_up=entry))
        _give_back(lines, paid=True, user_id=entry.user_id)
        SignUpLine.objects.filter(sign_up=entry).update(units=0)
        SignUp.objects.filter(pk=entry.pk).update(units=0)


# --- members change or cancel --------------------------------------------------------------


def change_sign_up(user: Any, sign_up_id: int, quantities: Mapping[int, int]) -> SignUp:
    """Fewer units before the deadline (0 everywhere = cancel): the difference is refunded once."""
    entry = selectors.access_my_sign_up(user, sign_up_id)
    new_units = {int(item_id): int(count) for item_id, count in quantities.items()}
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("user", "shop").get(pk=entry.order_id)
        campaign = Campaign.objects.select_for_update().get(pk=entry.campaign_id)
        entry = SignUp.objects.get(pk=entry.pk)
        _check_changeable(campaign, entry)
        if entry.status == SignUpStatus.PENDING_PAYMENT:
            raise SignUpNotChangeable(_("未付款的接龙不能修改数量，可以取消后重新接龙"), code="sign_up_unpaid")
        lines = list(SignUpLine.objects.filter(sign_up=entry).select_related("order_line", "item__sku__product"))
        known = {line.item_id for line in lines}
        if any(item_id not in known for item_id in new_units):
            raise CampaignInvalid(_("商品不在这次接龙中"), details={"field": "quantities"})
        for line in lines:
            count = new_units.get(line.item_id, line.units)
            if count < 0 or count > line.units:
                raise CampaignInvalid(
                    _("「%(name)s」只能减少数量") % {"name": _item_name(line.item)}, details={"field": "quantities"}
                )
        if all(new_units.get(line.item_id, line.units) == 0 for line in lines):
            _refund_everything(order, entry, _("取消接龙「%(title)s」") % {"title": campaign.title})
            _give_back(lines, paid=True, user_id=entry.user_id)
            return SignUp.objects.get(pk=entry.pk)
        fewer = {x.pk: x.units - new_units[x.item_id] for x in lines if new_units.get(x.item_id, x.units) < x.units}
        reduced = sorted((x for x in lines if x.pk in fewer), key=lambda x: x.order_line.sku_id)
        for line in reduced:  # the SKUs, then the items (lock order)
            order_actions.restock_line(line.order_line, fewer[line.pk])
        _give_back(
            [SignUpLine(item_id=x.item_id, units=fewer[x.pk]) for x in reduced], paid=True, user_id=entry.user_id
        )
        for line in reduced:
            count, less = line.units - fewer[line.pk], fewer[line.pk]
            SignUpLine.objects.filter(pk=line.pk).update(units=count)
            line.units = count
            _return(
                order,
                line,
                _owed(line, line.order_line, line.item.tier_price_fen),
                _("接龙「%(title)s」减少 %(less)s 件%(product)s")
                % {"title": campaign.title, "less": less, "product": line.item.sku.product.title},
            )
        SignUp.objects.filter(pk=entry.pk).update(units=sum(new_units.get(x.item_id, x.units) for x in lines))
    return SignUp.objects.get(pk=entry.pk)


def cancel_sign_up(user: Any, sign_up_id: int) -> SignUp:
    """Cancel before the deadline: an unpaid order is cancelled, a paid one refunded in full once."""
    entry = selectors.access_my_sign_up(user, sign_up_id)
    if entry.status == SignUpStatus.PENDING_PAYMENT:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=entry.order_id)
            campaign = Campaign.objects.select_for_update().get(pk=entry.campaign_id)
            fresh = SignUp.objects.get(pk=entry.pk)
            _check_changeable(campaign, fresh)
            if fresh.status == SignUpStatus.PENDING_PAYMENT and order.status == OrderStatus.PENDING_PAYMENT:
                order_actions.cancel_order_by_member(user, order.number)
                return SignUp.objects.get(pk=entry.pk)
    lines = SignUpLine.objects.filter(sign_up=entry)
    return change_sign_up(user, sign_up_id, {line.item_id: 0 for line in lines})


def _check_changeable(campaign: Campaign, entry: SignUp) -> None:
    if entry.status not in selectors.LIVE_STATUSES:
        raise SignUpNotChangeable(_("接龙%(status)s，不能再修改") % {"status": SignUpStatus(entry.status).label})
    if campaign.status != CampaignStatus.OPEN or timezone.now() >= campaign.deadline:
        raise SignUpNotChangeable(_("接龙已截止，不能再修改或取消"), code="campaign_deadline_passed")


# --- tiers ------------------------------------------------------------------------------


def give_tier_differences(campaign_id: int) -> int:
    """Give every confirmed sign-up that paid above the reached tier price the difference, once.

    Each sign-up in its own transaction: its order's row lock, then the campaign's (lock order).
    Returns the fen given back in this run.
    """
    given = 0
    candidates = (
        SignUpLine.objects.filter(
            sign_up__campaign_id=campaign_id,
            sign_up__status=SignUpStatus.CONFIRMED,
            item__tier_price_fen__isnull=False,
            unit_price_fen__gt=F("item__tier_price_fen"),
        )
        .values_list("sign_up__order_id", flat=True)
        .distinct()
    )
    for order_id in sorted(set(candidates)):
        with transaction.atomic():
            order = Order.objects.select_for_update(of=("self",)).select_related("user", "shop").get(pk=order_id)
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            entry = SignUp.objects.get(order_id=order_id)
            if entry.status != SignUpStatus.CONFIRMED:
                continue
            for line in SignUpLine.objects.filter(sign_up=entry).select_related("order_line", "item").order_by("pk"):
                tier = line.item.tier_price_fen
                if tier is None or line.unit_price_fen <= tier:
                    continue
                given += _return(
                    order,
                    line,
                    _owed(line, line.order_line, tier),
                    _("接龙「%(title)s」达到阶梯价 %(tier)s，退还差价")
                    % {"title": campaign.title, "tier": format_fen(tier)},
                    tier=True,
                )
    return given


# --- the deadline -----------------------------------------------------------------------


def close_campaign(
    campaign_id: int, *, now: datetime | None = None, cancel: bool = False, reason: str = ""
) -> str | None:
    """Close a campaign exactly once: at its deadline (succeeded or failed) or called off.

    Returns the new status, or None when it was closed already (or not yet due).
    """
    now = now or timezone.now()
    materialise_claims()  # claims admitted before the close are sign-ups it counts (or cancels)
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",)).select_related("shop").filter(pk=campaign_id).first()
        )
        allowed = (CampaignStatus.OPEN, CampaignStatus.DRAFT) if cancel else (CampaignStatus.OPEN,)
        if campaign is None or campaign.status not in allowed:
            return None
        if not cancel and campaign.deadline > now:
            return None
        if cancel:
            status = CampaignStatus.CANCELLED
        else:
            reached = selectors.paid_units(campaign) >= campaign.min_total_units
            status = CampaignStatus.SUCCEEDED if reached else CampaignStatus.FAILED
        if Campaign.objects.filter(pk=campaign.pk, status=campaign.status).update(status=status, closed_at=now) != 1:
            return None
        campaign.status, campaign.closed_at = status, now
        on_commit(_close_pools, campaign.pk)
        if status == CampaignStatus.SUCCEEDED:
            _notify_success(campaign)
    finish_closed_campaign(campaign, reason=reason)
    return status


def _notify_success(campaign: Campaign) -> None:
    confirmed = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED).select_related(
        "user", "leader__pickup_point"
    )
    for entry in confirmed:
        point = entry.leader.pickup_point
        with in_language_of(entry.user):
            where = (
                _("「%(name)s」（%(address)s）") % {"name": point.name, "address": point.address}
                if point
                else _("团长自提点")
            )
            notify(
                entry.user,
                shop=campaign.shop,
                kind="groupbuy.succeeded",
                title=_("接龙成团啦"),
                body=_("「%(title)s」已成团，请于 %(pickup_date)s 到%(where)s自提。")
                % {"title": campaign.title, "pickup_date": pickup_day(campaign.pickup_date), "where": where},
                link=campaign_link(campaign),
            )


def _refund_notice(campaign: Campaign, reason: str) -> tuple[str, str]:
    """What a member of a failed or cancelled campaign is told about their refund (title, text)."""
    if campaign.status == CampaignStatus.FAILED:
        return _("接龙未成团"), _("「%(title)s」未达到成团件数，已为你全额退款，原路退回。") % {"title": campaign.title}
    body = (
        _("「%(title)s」已取消：%(reason)s，已为你全额退款，原路退回。") % {"title": campaign.title, "reason": reason}
        if reason
        else _("「%(title)s」已取消，已为你全额退款，原路退回。") % {"title": campaign.title}
    )
    return _("接龙已取消"), body


def finish_closed_campaign(campaign: Campaign, *, reason: str = "") -> int:
    """After the close: cancel unpaid orders; when failed or cancelled, refund every paid one.

    One order at a time with its row lock; each sign-up is handled once (by its status).
    Returns how many sign-ups it finished.
    """
    finished = 0
    pending = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.PENDING_PAYMENT).values_list(
        "order_id", flat=True
    )
    for order_id in list(pending):
        if order_actions.cancel_automatically(
            order_id, _("接龙「%(title)s」已截止，未付款的接龙已取消") % {"title": campaign.title}
        ):
            finished += 1
    if campaign.status == CampaignStatus.SUCCEEDED:
        return finished + _release_holds(campaign)
    if campaign.status != CampaignStatus.FAILED and campaign.status != CampaignStatus.CANCELLED:
        return finished
    if campaign.status == CampaignStatus.FAILED:
        why = _("接龙「%(title)s」未达到成团件数，全额退款") % {"title": campaign.title}
    else:
        why = _("接龙「%(title)s」已取消，全额退款") % {"title": campaign.title}
    confirmed = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED).values_list("pk", "order_id")
    for entry_id, order_id in list(confirmed):
        with transaction.atomic():
            order = Order.objects.select_for_update(of=("self",)).select_related("user", "shop").get(pk=order_id)
            entry = SignUp.objects.select_related("user").get(pk=entry_id)
            if entry.status != SignUpStatus.CONFIRMED:
                continue
            _refund_everything(order, entry, why)
            with in_language_of(entry.user):
                title, body = _refund_notice(campaign, reason)
                notify(
                    entry.user,
                    shop=order.shop,
                    kind="groupbuy.failed",
                    title=title,
                    body=body,
                    link=campaign_link(campaign),
                )
            finished += 1
    return finished


def _release_holds(campaign: Campaign) -> int:
    """The campaign succeeded: its confirmed orders may now be prepared and picked up."""
    released = 0
    held = SignUp.objects.filter(campaign=campaign, status=SignUpStatus.CONFIRMED).exclude(order__hold_reason="")
    for order_id in list(held.values_list("order_id", flat=True)):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order_actions.release_hold(
                order, _("接龙「%(title)s」已成团，可以备货提货") % {"title": campaign.title}
            ):
                released += 1
    return released


def close_due_campaigns(*, now: datetime | None = None, limit: int = 100) -> int:
    """The sweeper: close open campaigns past their deadline, and finish closed ones a crash left
    with unpaid or unrefunded sign-ups. Returns how many campaigns it closed."""
    now = now or timezone.now()
    closed = 0
    due = Campaign.objects.filter(status=CampaignStatus.OPEN, deadline__lte=now).values_list("pk", flat=True)
    for campaign_id in list(due[:limit]):
        if close_campaign(campaign_id, now=now) is not None:
            closed += 1
    leftovers = (
        Campaign.objects.filter(status__in=selectors.CLOSED_STATUSES, sign_ups__status=SignUpStatus.PENDING_PAYMENT)
        | Campaign.objects.filter(
            status__in=(CampaignStatus.FAILED, CampaignStatus.CANCELLED), sign_ups__status=SignUpStatus.CONFIRMED
        )
        | Campaign.objects.filter(status=CampaignStatus.SUCCEEDED, sign_ups__status=SignUpStatus.CONFIRMED).exclude(
            sign_ups__order__hold_reason=""
        )
    ).distinct()
    for campaign in list(leftovers[:limit]):
        finish_closed_campaign(campaign)
    return closed
