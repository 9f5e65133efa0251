"""Every write of the lotteries app: check_* validates, the rest changes data.

Lock order: the lottery row, then its prizes (by key), then a win, then what checkout locks.
"""

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.accounts.selectors import active_members
from shequn.catalog.models import Product, Sku
from shequn.communities.models import Community
from shequn.communities.selectors import is_community_member
from shequn.core import audit, ratelimit
from shequn.core.errors import Conflict, DomainError, InvalidInput, PermissionDenied, RateLimited
from shequn.core.events import on_commit
from shequn.core.i18n import in_language_of
from shequn.core.money import format_fen
from shequn.coupons import actions as coupon_actions
from shequn.coupons.enums import CouponSource, Validity
from shequn.coupons.models import CouponTemplate
from shequn.gate.base import Claim, PoolSpec, Refusal
from shequn.gate.engine import get_gate
from shequn.notifications.actions import notify_many
from shequn.orders import actions as order_actions
from shequn.orders.enums import PaymentMethod
from shequn.orders.selectors import bought_product
from shequn.redpackets import actions as redpacket_actions
from shequn.shops.models import Shop

from . import draw, selectors, tasks
from .enums import EntryCondition, LotteryMode, LotteryStatus, PrizeKind, WinStatus
from .models import MAX_PRIZE_VALUE_FEN, Entry, Lottery, Prize, Spin, Win
from .state import transition

logger = logging.getLogger(__name__)

MAX_PRIZES = 10
MAX_PRIZE_QUANTITY = 10_000
MAX_SPINS_PER_MEMBER = 10
ENTRIES_PER_MINUTE = 10  # a member's entry and spin taps per minute, refused ones included
POOL_OWNER = "lottery"
# The gate limits spins per member and the window; prize stock lives in the database, so the pool's
# units are not a limit (a PositiveIntegerField's maximum).
POOL_UNITS = 2_147_483_647
CONSUMER = f"web-{os.getpid()}"
ACCOUNT_DELETED = gettext_lazy("账号已注销，不能参与抽奖或领奖")


def pool_key(lottery_id: int) -> str:
    return f"{POOL_OWNER}:{lottery_id}"


def _invalid(message: str, field_name: str | None = None) -> InvalidInput:
    return InvalidInput(message, code="lottery_invalid", details={"field": field_name} if field_name else None)


# --- the operator's lottery ------------------------------------------------------------


@dataclass(frozen=True)
class PrizeInput:
    name: str
    kind: str
    value_fen: int
    quantity: int
    sku_id: int | None = None  # goods
    coupon_template_id: int | None = None  # coupon
    odds_ppm: int = 0


@dataclass(frozen=True)
class LotteryInput:
    title: str
    rules: str
    mode: str
    entry_condition: str
    starts_at: datetime
    ends_at: datetime
    claim_deadline: datetime
    unclaimed_rule: str
    prizes: Sequence[PrizeInput] = field(default_factory=list)
    community_id: int | None = None
    product_id: int | None = None
    purchase_from: datetime | None = None
    purchase_until: datetime | None = None
    draw_at: datetime | None = None
    spins_per_member: int = 1


def sharing_refused() -> InvalidInput:
    return InvalidInput(
        _("参与条件只能是社群成员或购买指定商品：抽奖不能以分享、转发、发朋友圈或邀请好友为条件或奖励（微信平台规则）"),
        code="lottery_sharing_refused",
        details={"field": "entry_condition"},
    )


def check_lottery(shop: Shop, data: LotteryInput) -> dict[str, Any]:
    """Validate a lottery's rules and prizes; returns the model fields to save (without prizes)."""
    if data.entry_condition not in EntryCondition.values:
        raise sharing_refused()
    if data.mode not in LotteryMode.values:
        raise _invalid(_("请选择玩法"), "mode")
    if not data.title.strip():
        raise _invalid(_("请填写标题"), "title")
    if not data.rules.strip():
        raise _invalid(_("请填写完整的活动规则"), "rules")
    if not data.unclaimed_rule.strip():
        raise _invalid(_("请写明逾期未领取的奖品如何处理"), "unclaimed_rule")
    if data.starts_at >= data.ends_at:
        raise _invalid(_("结束时间须晚于开始时间"), "ends_at")
    decided_at = data.ends_at
    if data.mode == LotteryMode.DRAW:
        if data.draw_at is None or data.draw_at < data.ends_at:
            raise _invalid(_("开奖时间须在报名结束之后"), "draw_at")
        decided_at = data.draw_at
    if data.claim_deadline <= decided_at:
        raise _invalid(_("领奖截止时间须晚于开奖（或活动结束）时间"), "claim_deadline")
    if data.mode == LotteryMode.INSTANT and not 1 <= data.spins_per_member <= MAX_SPINS_PER_MEMBER:
        raise _invalid(_("每人可抽次数须在 1 到 %(max)d 之间") % {"max": MAX_SPINS_PER_MEMBER}, "spins_per_member")
    values: dict[str, Any] = {
        "title": data.title.strip(),
        "rules": data.rules.strip(),
        "mode": data.mode,
        "entry_condition": data.entry_condition,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "draw_at": data.draw_at if data.mode == LotteryMode.DRAW else None,
        "spins_per_member": data.spins_per_member if data.mode == LotteryMode.INSTANT else 1,
        "claim_deadline": data.claim_deadline,
        "unclaimed_rule": data.unclaimed_rule.strip(),
        "community": None,
        "product": None,
        "purchase_from": None,
        "purchase_until": None,
    }
    if data.entry_condition == EntryCondition.COMMUNITY:
        community = Community.objects.filter(pk=data.community_id or 0, shop=shop).first()
        if community is None:
            raise _invalid(_("请选择本店的社群"), "community_id")
        values["community"] = community
    else:
        product = Product.objects.filter(pk=data.product_id or 0, shop=shop).first()
        if product is None:
            raise _invalid(_("请选择本店的商品"), "product_id")
        if data.purchase_from is None or data.purchase_until is None or data.purchase_from >= data.purchase_until:
            raise _invalid(_("请填写购买时间范围（开始早于结束）"), "purchase_until")
        values.update(product=product, purchase_from=data.purchase_from, purchase_until=data.purchase_until)
    _check_prizes(shop, data)
    return values


def _check_prizes(shop: Shop, data: LotteryInput) -> None:
    if not 1 <= len(data.prizes) <= MAX_PRIZES:
        raise _invalid(_("请设置 1 到 %(max)d 个奖品") % {"max": MAX_PRIZES}, "prizes")
    for prize in data.prizes:
        if not prize.name.strip():
            raise _invalid(_("请填写奖品名称"), "prizes")
        if prize.kind not in PrizeKind.values:
            raise _invalid(_("请选择奖品类型"), "prizes")
        if prize.value_fen > MAX_PRIZE_VALUE_FEN:
            raise _invalid(
                _("「%(name)s」价值 %(value)s 超过上限 %(cap)s（反不正当竞争法：抽奖式有奖销售最高奖不超过五万元）")
                % {"name": prize.name, "value": format_fen(prize.value_fen), "cap": format_fen(MAX_PRIZE_VALUE_FEN)},
                "prizes",
            )
        if not 1 <= prize.quantity <= MAX_PRIZE_QUANTITY:
            raise _invalid(_("奖品数量须在 1 到 %(max)d 之间") % {"max": MAX_PRIZE_QUANTITY}, "prizes")
        _check_prize_kind(shop, prize, data.claim_deadline)
    if data.mode == LotteryMode.INSTANT:
        if any(prize.odds_ppm <= 0 for prize in data.prizes):
            raise _invalid(_("大转盘的每个奖品都要设置中奖率"), "prizes")
        if sum(prize.odds_ppm for prize in data.prizes) > draw.ODDS_SCALE:
            raise _invalid(_("各奖品中奖率之和不能超过 100%"), "prizes")


def _check_prize_kind(shop: Shop, prize: PrizeInput, claim_deadline: datetime) -> None:
    """What the prize gives: a SKU of the shop, a coupon template of the shop with stock for every
    prize and valid until the claim deadline (reserved at publication), or a red packet worth at
    least ¥0.01 (its value is what the winner is credited)."""
    if prize.kind == PrizeKind.GOODS:
        if not Sku.objects.filter(pk=prize.sku_id or 0, shop=shop).exists():
            raise _invalid(_("「%(name)s」：请选择本店的商品规格") % {"name": prize.name}, "prizes")
    elif prize.kind == PrizeKind.COUPON:
        template = CouponTemplate.objects.filter(pk=prize.coupon_template_id or 0, shop=shop, is_active=True).first()
        if template is None:
            raise _invalid(_("「%(name)s」：请选择本店在发放中的优惠券") % {"name": prize.name}, "prizes")
        if template.remaining < prize.quantity:
            raise _invalid(
                _("「%(name)s」：优惠券「%(coupon)s」只剩 %(left)d 张，少于奖品数量")
                % {"name": prize.name, "coupon": template.name, "left": template.remaining},
                "prizes",
            )
        if template.validity == Validity.FIXED and template.valid_until <= claim_deadline:  # type: ignore[operator]
            raise _invalid(
                _("「%(name)s」：优惠券「%(coupon)s」在领奖截止前就会过期，请换一张或提前领奖截止时间")
                % {"name": prize.name, "coupon": template.name},
                "prizes",
            )
    elif prize.value_fen < 1:
        raise _invalid(_("「%(name)s」：请填写红包金额") % {"name": prize.name}, "prizes")


def _prize_rows(lottery: Lottery, data: LotteryInput) -> list[Prize]:
    instant = data.mode == LotteryMode.INSTANT
    return [
        Prize(
            lottery=lottery,
            position=position,
            name=prize.name.strip(),
            kind=prize.kind,
            sku_id=prize.sku_id if prize.kind == PrizeKind.GOODS else None,
            coupon_template_id=prize.coupon_template_id if prize.kind == PrizeKind.COUPON else None,
            value_fen=prize.value_fen,
            quantity=prize.quantity,
            odds_ppm=prize.odds_ppm if instant else 0,
            left=prize.quantity if instant else 0,
        )
        for position, prize in enumerate(data.prizes, start=1)
    ]


def create_lottery(shop: Shop, actor: Any, data: LotteryInput, *, ip: str | None = None) -> Lottery:
    values = check_lottery(shop, data)
    with transaction.atomic():
        lottery = Lottery.objects.create(shop=shop, created_by=actor, **values)
        Prize.objects.bulk_create(_prize_rows(lottery, data))
        audit.record(actor=actor, shop=shop, action="lottery.created", obj=lottery, ip=ip)
    return lottery


def check_not_started(lottery: Lottery, now: datetime) -> None:
    if lottery.status == LotteryStatus.DRAWN or (
        lottery.status == LotteryStatus.PUBLISHED and lottery.starts_at <= now
    ):
        raise Conflict(_("抽奖已开始，规则和奖品已冻结，不能再修改"), code="lottery_frozen")


def update_lottery(shop: Shop, actor: Any, lottery_id: int, data: LotteryInput, *, ip: str | None = None) -> Lottery:
    """Change a lottery before it starts (a published one keeps its committed seed, and its coupon
    prizes' reservations follow the corrected prizes); refused once it has started."""
    with transaction.atomic():
        lottery = selectors.access_lottery(shop, lottery_id, lock=True)
        check_not_started(lottery, timezone.now())
        published = lottery.status == LotteryStatus.PUBLISHED
        if published:
            _release_coupon_prizes(lottery.prizes.all())  # checked below against the stock without this lottery's share
        values = check_lottery(shop, data)
        if published and values["mode"] != lottery.mode:
            raise Conflict(_("已发布的抽奖不能更换玩法"), code="lottery_frozen")
        Lottery.objects.filter(pk=lottery.pk).update(**values)
        lottery.prizes.all().delete()
        Prize.objects.bulk_create(_prize_rows(lottery, data))
        if published:
            _reserve_coupon_prizes(lottery)
        audit.record(actor=actor, shop=shop, action="lottery.updated", obj=lottery, ip=ip)
    lottery.refresh_from_db()
    if lottery.mode == LotteryMode.INSTANT and lottery.status == LotteryStatus.PUBLISHED:
        on_commit(get_gate().forget, pool_key(lottery.pk))  # rebuilt with the new window and cap
    return lottery


def publish_lottery(shop: Shop, actor: Any, lottery_id: int, *, ip: str | None = None) -> Lottery:
    """Publish the rules and prizes before the start, committing to the hash of a new secret seed."""
    with transaction.atomic():
        lottery = selectors.access_lottery(shop, lottery_id, lock=True)
        now = timezone.now()
        if lottery.starts_at <= now:
            raise Conflict(_("规则须在开始前公布：请先把开始时间改到以后"), code="lottery_start_passed")
        _reserve_coupon_prizes(lottery)
        seed = draw.new_seed()
        transition(
            lottery,
            LotteryStatus.PUBLISHED,
            actor=actor,
            ip=ip,
            seed=seed,
            seed_hash=draw.commitment(seed),
            published_at=now,
        )
    if lottery.mode == LotteryMode.DRAW and lottery.draw_at is not None:
        on_commit(tasks.schedule_draw, lottery.pk, lottery.draw_at)
    return lottery


def _reserve_coupon_prizes(lottery: Lottery) -> None:
    """Set aside every coupon prize's quantity from its template (``coupons.actions.reserve``), so a
    winner always gets their coupon whatever members claim meanwhile; refused, naming the prize,
    when the template has fewer left (the caller's transaction then moves nothing)."""
    prizes = list(
        lottery.prizes.filter(kind=PrizeKind.COUPON).select_related("coupon_template").order_by("coupon_template_id")
    )
    for prize in prizes:
        template = prize.coupon_template
        assert template is not None
        if not coupon_actions.reserve(template.pk, prize.quantity):
            template.refresh_from_db()
            raise Conflict(
                _("「%(name)s」：优惠券「%(coupon)s」只剩 %(left)d 张（或已停发），不够预留给 %(quantity)d 份奖品")
                % {
                    "name": prize.name,
                    "coupon": template.name,
                    "left": template.remaining if template.is_active else 0,
                    "quantity": prize.quantity,
                },
                code="lottery_coupon_short",
            )
    if prizes:
        Prize.objects.filter(pk__in=[prize.pk for prize in prizes]).update(reserved=F("quantity"))


def _release_coupon_prizes(prizes: QuerySet[Prize]) -> None:
    """Put back what coupon prizes still hold (corrected before the start, or past the claim
    deadline: not won, or won and not claimed). Locks the prizes, so a claim racing it either took
    its coupon first or finds none reserved."""
    for prize in prizes.select_for_update().filter(kind=PrizeKind.COUPON, reserved__gt=0).order_by("pk"):
        assert prize.coupon_template_id is not None
        coupon_actions.release(prize.coupon_template_id, prize.reserved)
        Prize.objects.filter(pk=prize.pk).update(reserved=0)


# --- entering a timed draw ---------------------------------------------------------------


def check_eligible(user: Any, lottery: Lottery, now: datetime) -> None:
    """The lottery is open and the member meets its published condition."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("请先登录"), code="not_authenticated")
    if not user.is_active:
        raise PermissionDenied(str(ACCOUNT_DELETED), code="account_deleted")
    if lottery.status != LotteryStatus.PUBLISHED or now < lottery.starts_at:
        raise Conflict(_("抽奖尚未开始"), code="lottery_not_open")
    if now >= lottery.ends_at:
        raise Conflict(_("抽奖已结束"), code="lottery_closed")
    if lottery.entry_condition == EntryCondition.COMMUNITY:
        assert lottery.community is not None
        if not is_community_member(user, lottery.community):
            raise PermissionDenied(
                _("仅限「%(name)s」社群成员参与") % {"name": lottery.community.name}, code="lottery_members_only"
            )
    elif not _bought(user, lottery):
        raise PermissionDenied(
            _("在活动时间内购买「%(product)s」后即可参与") % {"product": lottery.product},
            code="lottery_purchase_required",
        )


def _bought(user: Any, lottery: Lottery) -> bool:
    assert lottery.product_id is not None
    assert lottery.purchase_from is not None
    assert lottery.purchase_until is not None
    return bought_product(user, lottery.product_id, lottery.purchase_from, lottery.purchase_until)


def _count_tap(user: Any) -> None:
    ratelimit.hit(f"lottery:tap:{user.pk}", ENTRIES_PER_MINUTE, 60)


def enter(user: Any, lottery_id: int) -> tuple[Entry, bool]:
    """Take part in a timed draw: one entry per member (a second tap returns the first), numbered
    1, 2, 3 … in order of entry under the lottery's lock."""
    if getattr(user, "is_authenticated", False):
        _count_tap(user)
    lottery = selectors.public_lottery(lottery_id)
    if lottery.mode != LotteryMode.DRAW:
        raise Conflict(_("这是大转盘，请直接抽奖"), code="lottery_mode_mismatch")
    check_eligible(user, lottery, timezone.now())
    existing = Entry.objects.filter(lottery=lottery, user=user).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            locked = Lottery.objects.select_for_update().get(pk=lottery.pk)
            number = locked.entry_count + 1
            Lottery.objects.filter(pk=lottery.pk).update(entry_count=number)
            entry = Entry.objects.create(lottery=lottery, user=user, number=number)
    except IntegrityError:  # the member's other tap entered first
        return Entry.objects.get(lottery=lottery, user=user), False
    return entry, True


# --- the timed draw ------------------------------------------------------------------------


def draw_lottery(lottery_id: int, *, actor: Any = None, ip: str | None = None, now: datetime | None = None) -> bool:
    """Draw a published timed lottery whose draw time has come: reveal the seed, write the winners
    computed by ``draw.winners`` from the seed and the entry numbers, notify them, audit it all.
    Safe to call twice and from racing callers (the lottery's lock; a drawn lottery is left alone).
    Returns whether this call drew it."""
    now = now or timezone.now()
    with transaction.atomic():
        lottery = Lottery.objects.select_for_update().select_related("shop").filter(pk=lottery_id).first()
        if lottery is None or lottery.status != LotteryStatus.PUBLISHED or lottery.mode != LotteryMode.DRAW:
            return False
        if lottery.draw_at is None or now < lottery.draw_at:
            return False
        entries = {entry.number: entry for entry in Entry.objects.filter(lottery=lottery)}
        prizes = {prize.position: prize for prize in lottery.prizes.all()}
        chosen = draw.winners(lottery.seed, entries, [(p.position, p.quantity) for p in prizes.values()])
        wins = Win.objects.bulk_create(
            Win(lottery=lottery, prize=prizes[position], user_id=entries[number].user_id, entry=entries[number])
            for number, position in chosen
        )
        transition(lottery, LotteryStatus.DRAWN, actor=actor, ip=ip, drawn_at=now)
        audit.record(
            actor=actor,
            shop=lottery.shop,
            action="lottery.draw",
            obj=lottery,
            ip=ip,
            algorithm=draw.ALGORITHM,
            seed=lottery.seed,
            seed_hash=lottery.seed_hash,
            entries=len(entries),
            winners=[[number, position] for number, position in chosen],
        )
        _notify_winners(lottery, wins)
    return True


def draw_now(shop: Shop, actor: Any, lottery_id: int, *, ip: str | None = None) -> Lottery:
    """The console's 开奖 button: draws a lottery whose draw time has come (when the scheduled task
    has not yet)."""
    lottery = selectors.access_lottery(shop, lottery_id)
    if lottery.mode != LotteryMode.DRAW or lottery.status != LotteryStatus.PUBLISHED:
        raise Conflict(_("只有已发布的定时开奖抽奖可以开奖"), code="lottery_not_drawable")
    if lottery.draw_at is None or timezone.now() < lottery.draw_at:
        raise Conflict(_("开奖时间未到"), code="lottery_draw_not_due")
    draw_lottery(lottery.pk, actor=actor, ip=ip)
    lottery.refresh_from_db()
    return lottery


def draw_due(*, now: datetime | None = None) -> int:
    """Every published timed lottery whose draw time has passed (the ETA task's safety net)."""
    now = now or timezone.now()
    due = selectors.due_draws(now)
    return sum(draw_lottery(pk, now=now) for pk in due)


def _notify_winners(lottery: Lottery, wins: Sequence[Win]) -> None:
    link = f"/lotteries/{lottery.pk}/"
    deadline = timezone.localtime(lottery.claim_deadline).strftime("%Y-%m-%d %H:%M")
    if not wins:
        return
    # One read of the winners' languages: each is told in theirs.
    winners = get_user_model().objects.only("id", "language").in_bulk({win.user_id for win in wins})
    messages = []
    for win in wins:
        with in_language_of(winners[win.user_id]):
            title = _("恭喜中奖：%(prize)s") % {"prize": win.prize.name}
            body = _("你在「%(title)s」中抽中「%(prize)s」，请在 %(deadline)s 前领取。") % {
                "title": lottery.title,
                "prize": win.prize.name,
                "deadline": deadline,
            }
        messages.append((win.user_id, title, body, link))
    notify_many(lottery.shop, "lottery.won", messages)


# --- instant win through the gate ----------------------------------------------------------


@dataclass(frozen=True)
class SpinResult:
    claim_id: str
    spin: Spin | None  # None: admitted, not written yet (the page says 排队中)


REFUSALS: dict[Refusal, tuple[type[DomainError], str, Any]] = {
    Refusal.NOT_OPEN: (Conflict, "lottery_not_open", gettext_lazy("抽奖尚未开始")),
    Refusal.CLOSED: (Conflict, "lottery_closed", gettext_lazy("抽奖已结束")),
    Refusal.PAUSED: (Conflict, "lottery_closed", gettext_lazy("抽奖已结束")),
    Refusal.OVER_CAP: (Conflict, "lottery_no_spins_left", gettext_lazy("你的抽奖次数已用完")),
    Refusal.SOLD_OUT: (Conflict, "lottery_closed", gettext_lazy("抽奖已结束")),
    Refusal.PRIORITY_ONLY: (Conflict, "lottery_not_open", gettext_lazy("抽奖尚未开始")),
    Refusal.RATE_LIMITED: (RateLimited, "lottery_rate_limited", gettext_lazy("操作太频繁，请稍后再试")),
    Refusal.NOT_READY: (Conflict, "lottery_busy", gettext_lazy("参与人数较多，请稍后再试")),
}


def refusal_error(refusal: Refusal) -> DomainError:
    kind, code, message = REFUSALS[refusal]
    return kind(str(message), code=code)


def spin(user: Any, lottery_id: int, *, client_ip: str | None = None) -> SpinResult:
    """One turn of the wheel: the gate admits it (the member's spins left, the window, rate limits),
    then a consumer decides it against the prizes' stock in the database."""
    lottery = selectors.public_lottery(lottery_id)
    if lottery.mode != LotteryMode.INSTANT:
        raise Conflict(_("这是定时开奖的抽奖，请报名参与"), code="lottery_mode_mismatch")
    check_eligible(user, lottery, timezone.now())
    gate = get_gate()
    admission = gate.attempt(pool_key(lottery.pk), user.pk, 1, client_ip=client_ip)
    if admission.refusal == Refusal.NOT_READY:
        rebuild_pool(lottery.pk)
        admission = gate.attempt(pool_key(lottery.pk), user.pk, 1, client_ip=client_ip)
    if not admission.admitted:
        assert admission.refusal is not None
        raise refusal_error(admission.refusal)
    assert admission.claim_id is not None
    return SpinResult(admission.claim_id, wait_for_spin(admission.claim_id))


def wait_for_spin(claim_id: str, *, rounds: int = 40) -> Spin | None:
    """Consume claims until this one is written (usually by this very call); another consumer may
    hold it, so look again a few times before answering 排队中."""
    consumer = f"{CONSUMER}-{threading.get_ident()}"
    for _round in range(rounds):
        materialise_spins(consumer=consumer)
        found = Spin.objects.select_related("prize").filter(claim_id=claim_id).first()
        if found is not None:
            return found
        time.sleep(0.05)
    return None


def rebuild_pool(lottery_id: int) -> None:
    """(Re)build the wheel's pool from the database: each member's spins plus the claims still at
    the gate (a claim written but not yet acknowledged counts twice: the gate admits fewer, never
    more). Under the lottery's lock, so racing rebuilds see the same spins."""
    gate = get_gate()
    key = pool_key(lottery_id)
    with transaction.atomic():
        lottery = Lottery.objects.select_for_update().get(pk=lottery_id)
        if gate.state(key).ready:
            return
        held: dict[int, int] = defaultdict(int)
        for user_id, spins in Spin.objects.filter(lottery=lottery).values_list("user_id").annotate(Count("pk")):
            held[user_id] += spins
        for claim in gate.unacknowledged(POOL_OWNER):
            if claim.pool_key == key:
                held[claim.member_id] += claim.quantity
        gate.configure(
            PoolSpec(
                key=key,
                units=POOL_UNITS,
                per_member_cap=lottery.spins_per_member,
                opens_at=lottery.starts_at,
                closes_at=lottery.ends_at,
            ),
            held_by_member=held,
        )


def materialise_spins(*, consumer: str = CONSUMER, count: int = 100, idle_ms: int = 30_000) -> int:
    """Write the wheel's admitted claims in batches, a lottery's claims of a batch in one
    transaction under its lock; then acknowledge them. Idempotent by claim id. Returns how many
    spins were written."""
    gate = get_gate()
    written = 0
    while True:
        claims = gate.pending_claims(POOL_OWNER, consumer, idle_ms=idle_ms, count=count)
        claims += gate.read_claims(POOL_OWNER, consumer, count=count)
        if not claims:
            return written
        by_lottery: dict[int, list[Claim]] = defaultdict(list)
        for claim in {c.claim_id: c for c in claims}.values():
            by_lottery[int(claim.pool_key.split(":")[1])].append(claim)
        done: list[Claim] = []
        for lottery_id, group in sorted(by_lottery.items()):
            try:
                written += _write_spins(lottery_id, group)
                done += group
            except Exception:
                logger.exception("lottery %s: %d spins left at the gate", lottery_id, len(group))
        gate.ack([c for c in claims if c in done])
        if len(claims) < count:
            return written


def _write_spins(lottery_id: int, claims: Sequence[Claim]) -> int:
    with transaction.atomic():
        lottery = Lottery.objects.select_for_update().select_related("shop").filter(pk=lottery_id).first()
        if lottery is None:
            return 0
        known = set(Spin.objects.filter(claim_id__in=[c.claim_id for c in claims]).values_list("claim_id", flat=True))
        # A spin queued while its member deleted their account is dropped (nobody could claim its prize).
        active = active_members({c.member_id for c in claims}, lock=True)
        fresh = [c for c in claims if c.claim_id not in known and c.member_id in active]
        if not fresh:
            return 0
        prizes = list(Prize.objects.select_for_update().filter(lottery=lottery).order_by("pk"))
        prizes.sort(key=lambda prize: prize.position)
        left = {prize.pk: prize.left for prize in prizes}
        spun = dict(
            Spin.objects.filter(lottery=lottery, user_id__in={c.member_id for c in fresh})
            .values_list("user_id")
            .annotate(Count("pk"))
        )
        spins: list[Spin] = []
        for claim in fresh:
            sequence = spun.get(claim.member_id, 0) + 1
            if sequence > lottery.spins_per_member:
                logger.warning("lottery %s: claim %s over the member's spins, dropped", lottery.pk, claim.claim_id)
                continue
            spun[claim.member_id] = sequence
            value = draw.spin_draw()
            prize_id = draw.choose_prize(value, [(p.pk, p.odds_ppm, left[p.pk]) for p in prizes])
            if prize_id is not None:
                left[prize_id] -= 1
            spins.append(
                Spin(
                    lottery=lottery,
                    user_id=claim.member_id,
                    sequence=sequence,
                    claim_id=claim.claim_id,
                    draw=value,
                    prize_id=prize_id,
                )
            )
        Spin.objects.bulk_create(spins)
        for prize in prizes:
            taken = prize.left - left[prize.pk]
            # The lock makes this exact; the condition (and the column's sign) guard it anyway.
            if taken and Prize.objects.filter(pk=prize.pk, left__gte=taken).update(left=F("left") - taken) != 1:
                raise Conflict(f"prize {prize.pk} would go below zero")
        by_id = {prize.pk: prize for prize in prizes}
        wins = Win.objects.bulk_create(
            Win(lottery=lottery, prize=by_id[s.prize_id], user_id=s.user_id, spin=s) for s in spins if s.prize_id
        )
        audit.record(
            actor=None,
            shop=lottery.shop,
            action="lottery.spins",
            obj=lottery,
            spins=[[s.claim_id, s.user_id, s.draw, s.prize_id] for s in spins],
        )
        _notify_winners(lottery, wins)
    return len(spins)


# --- prizes ----------------------------------------------------------------------------------


def claim_prize(
    user: Any,
    win_id: int,
    *,
    fulfilment: str = "",
    address_id: int | None = None,
    pickup_point_id: int | None = None,
) -> Win:
    """The winner claims a prize, once, before the claim deadline. Goods: a zero-price order of the
    prize's SKU, picked up or delivered (a delivery fee the shop charges is the one thing left to
    pay). A coupon or a red packet is given at once (``_give_prize``)."""
    win = selectors.my_win(user, win_id)
    if not user.is_active:
        raise PermissionDenied(str(ACCOUNT_DELETED), code="account_deleted")
    _check_claimable(win, timezone.now())
    if win.prize.kind != PrizeKind.GOODS:
        return _give_prize(user, win)
    assert win.prize.sku_id is not None
    online = [method for method in order_actions.enabled_payment_methods() if method != PaymentMethod.COD]
    plan = order_actions.check_checkout(
        user,
        fulfilment=fulfilment,
        payment_method=online[0] if online else PaymentMethod.COD,
        sku_id=win.prize.sku_id,
        quantity=1,
        address_id=address_id,
        pickup_point_id=pickup_point_id,
        unit_prices={win.prize.sku_id: 0},
    )
    with transaction.atomic():
        locked = Win.objects.select_for_update().select_related("prize", "lottery").get(pk=win.pk)
        _check_claimable(locked, timezone.now())
        order = order_actions.do_create_order(plan)
        now = timezone.now()
        Win.objects.filter(pk=locked.pk).update(status=WinStatus.CLAIMED, order=order, claimed_at=now)
        if order.total_fen == 0:
            order_actions.mark_paid(order, note=_("抽奖奖品，无需付款"))
    locked.refresh_from_db()
    return locked


def _give_prize(user: Any, win: Win) -> Win:
    """A coupon prize gives the winner one of the coupons reserved for it at publication
    (``coupons.actions.issue_reserved``, source lottery: the template's validity applies; what members
    claimed meanwhile, its per-person limit and its audience do not); a red-packet prize credits its
    value from the shop's promotion account (``redpackets.actions.pay_prize``, ledger reference
    ``lottery:prize:{win}``, which posts once). Under the win's lock, so a second tap finds it claimed."""
    with transaction.atomic():
        locked = (
            Win.objects.select_for_update(of=("self",))
            .select_related("prize__coupon_template", "lottery__shop")
            .get(pk=win.pk)
        )
        _check_claimable(locked, timezone.now())
        prize, lottery = locked.prize, locked.lottery
        coupon = None
        if prize.kind == PrizeKind.COUPON:
            assert prize.coupon_template is not None
            # The prize's reservation, under its row lock (the deadline's release takes the same lock).
            if Prize.objects.filter(pk=prize.pk, reserved__gte=1).update(reserved=F("reserved") - 1) != 1:
                raise Conflict(_("领奖已截止"), code="lottery_claim_closed")
            coupon = coupon_actions.issue_reserved(prize.coupon_template, user, source=CouponSource.LOTTERY)
        else:
            redpacket_actions.pay_prize(
                lottery.shop,
                user,
                prize.value_fen,
                reference=f"lottery:prize:{locked.pk}",
                memo=f"抽奖 {lottery.title}",
            )
        Win.objects.filter(pk=locked.pk).update(status=WinStatus.CLAIMED, coupon=coupon, claimed_at=timezone.now())
        audit.record(
            actor=user, shop=lottery.shop, action="lottery.prize_given", obj=lottery, win=locked.pk, kind=prize.kind
        )
    locked.refresh_from_db()
    return locked


def _check_claimable(win: Win, now: datetime) -> None:
    if win.status == WinStatus.CLAIMED:
        raise Conflict(_("奖品已领取"), code="lottery_prize_claimed")
    if win.status == WinStatus.FORFEITED or now > win.lottery.claim_deadline:
        raise Conflict(_("领奖已截止"), code="lottery_claim_closed")


def forfeit_unclaimed(*, now: datetime | None = None) -> int:
    """Prizes not claimed by their lottery's deadline are forfeited (what happens to them is the
    published rule); one UPDATE, audited per lottery."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = Win.objects.filter(status=WinStatus.WON, lottery__claim_deadline__lt=now)
        counts = dict(overdue.values_list("lottery_id").annotate(Count("pk")))
        forfeited = Win.objects.filter(pk__in=overdue.values("pk")).update(status=WinStatus.FORFEITED)
        # Coupons set aside for prizes nobody won or claimed go back to their templates.
        _release_coupon_prizes(Prize.objects.filter(lottery__claim_deadline__lt=now))
        for lottery in Lottery.objects.filter(pk__in=counts).select_related("shop"):
            audit.record(
                actor=None, shop=lottery.shop, action="lottery.forfeited", obj=lottery, wins=counts[lottery.pk]
            )
    return forfeited
