"""Every write of team buys (拼团). ``check_*`` validates and authorises, ``do_*`` changes data.

A team is filled only by real members who open or join it themselves and order at the team
price. There are no robots, no "virtual" members, no staff fill-ins and no way to mark a
team complete other than N members paying: ``seats_taken`` only moves by single conditional
UPDATEs (never above ``team_size``, which the database checks too), and a team succeeds
exactly once, under its row lock, when the N-th member's payment lands.

Lock order: an order's row (held by the orders app when it sends its signals) before the
team's row, before the member's row. Expiry marks the team failed under the team lock alone,
then settles each member in its own transaction taking the order lock first.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.catalog.kinds import is_goods
from shequn.catalog.models import Sku
from shequn.core import audit
from shequn.core.events import on_commit
from shequn.core.i18n import in_language_of
from shequn.core.money import format_fen
from shequn.notifications.actions import notify
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderLine
from shequn.shops import permissions
from shequn.shops.models import Shop
from shequn.shops.selectors import require_permission

from . import tasks
from .enums import MemberStatus, TeamStatus
from .errors import AlreadyInTeam, InvalidOffer, OfferClosed, TeamClosed, TeamFull
from .models import Team, TeamMember, TeamOffer
from .selectors import LIVE_MEMBER_STATUSES, public_offer, public_team

MIN_TEAM_SIZE, MAX_TEAM_SIZE = 2, 10
MIN_HOURS, MAX_HOURS = 1, 72
MAX_TITLE_LENGTH = 60


# Orders of a forming team keep their goods until the team succeeds (Order.hold_reason).
TEAM_HOLD = gettext_lazy("拼团中，成团后发货")


def team_link(team: Team) -> str:
    return reverse("teambuy:team", args=[team.pk])


# --- offers (console) -------------------------------------------------------------------


@dataclass
class OfferInput:
    sku_id: int | None
    team_size: int | None
    team_price_fen: int | None
    time_limit_hours: int | None = 24
    title: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    is_active: bool = True


def check_offer(shop: Shop, data: OfferInput, *, offer: TeamOffer | None = None) -> Sku:
    """Validate an offer; every problem is reported per field (``details["fields"]``)."""
    errors: dict[str, str] = {}
    sku = None
    if isinstance(data.sku_id, int) and 0 < data.sku_id < 2**31:  # out of range: no such SKU
        sku = (
            Sku.objects.select_related("product")
            .filter(pk=data.sku_id, shop=shop, product__shop=shop, is_active=True)
            .first()
        )
    if sku is None or not is_goods(sku.product.kind):
        errors["sku_id"] = _("请选择本店在售的商品规格")
    elif offer is not None and offer.sku_id != sku.pk and offer.teams.exists():
        errors["sku_id"] = _("已有人开团，不能更换商品")
    if not isinstance(data.team_size, int) or not MIN_TEAM_SIZE <= data.team_size <= MAX_TEAM_SIZE:
        errors["team_size"] = _("成团人数应为 %(min)s 到 %(max)s 人") % {"min": MIN_TEAM_SIZE, "max": MAX_TEAM_SIZE}
    price = data.team_price_fen
    if not isinstance(price, int) or price < 1:
        errors["team_price_fen"] = _("拼团价至少 ¥0.01")
    elif sku is not None and price >= sku.price_fen:
        errors["team_price_fen"] = _("拼团价应低于原价 %(price_fen)s") % {"price_fen": format_fen(sku.price_fen)}
    hours = data.time_limit_hours
    if not isinstance(hours, int) or not MIN_HOURS <= hours <= MAX_HOURS:
        errors["time_limit_hours"] = _("成团时限应为 %(min)s 到 %(max)s 小时") % {"min": MIN_HOURS, "max": MAX_HOURS}
    if len((data.title or "").strip()) > MAX_TITLE_LENGTH:
        errors["title"] = _("标题最多 %(max)s 个字") % {"max": MAX_TITLE_LENGTH}
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        errors["ends_at"] = _("结束时间应晚于开始时间")
    if errors:
        raise InvalidOffer(next(iter(errors.values())), details={"fields": errors})
    assert sku is not None
    return sku


def _offer_values(sku: Sku, data: OfferInput) -> dict[str, Any]:
    return {
        "sku": sku,
        "title": (data.title or "").strip() or f"{sku.product.title} {sku.spec}",
        "team_size": data.team_size,
        "team_price_fen": data.team_price_fen,
        "time_limit_hours": data.time_limit_hours,
        "starts_at": data.starts_at or timezone.now(),
        "ends_at": data.ends_at,
        "is_active": data.is_active,
    }


def do_create_offer(shop: Shop, data: OfferInput, *, actor: Any, ip: str | None = None) -> TeamOffer:
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    sku = check_offer(shop, data)
    with transaction.atomic():
        offer = TeamOffer.objects.create(shop=shop, **_offer_values(sku, data))
        audit.record(
            actor=actor,
            shop=shop,
            action="teambuy.offer_create",
            obj=offer,
            ip=ip,
            team_size=offer.team_size,
            team_price_fen=offer.team_price_fen,
        )
    return offer


def do_update_offer(shop: Shop, offer: TeamOffer, data: OfferInput, *, actor: Any, ip: str | None = None) -> TeamOffer:
    """Edits apply to teams opened from now on: an open team keeps its size, price and deadline."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    sku = check_offer(shop, data, offer=offer)
    with transaction.atomic():
        values = _offer_values(sku, data)
        if data.starts_at is None:
            values["starts_at"] = offer.starts_at
        for name, value in values.items():
            setattr(offer, name, value)
        offer.save()
        audit.record(
            actor=actor,
            shop=shop,
            action="teambuy.offer_update",
            obj=offer,
            ip=ip,
            team_size=offer.team_size,
            team_price_fen=offer.team_price_fen,
            is_active=offer.is_active,
        )
    return offer


# --- open and join (members) ------------------------------------------------------------


@dataclass
class Destination:
    """How the member gets the goods, as on an ordinary checkout."""

    fulfilment: str = "pickup"
    pickup_point_id: int | None = None
    address_id: int | None = None
    payment_method: str = PaymentMethod.SANDBOX


def check_offer_open(offer: TeamOffer, now: datetime) -> None:
    if not offer.is_active or offer.starts_at > now or (offer.ends_at is not None and offer.ends_at <= now):
        raise OfferClosed(_("该拼团活动未开始或已结束"))
    order_actions.check_available_sku(offer.sku_id)


def _take_seat(user: Any, team: Team, offer: TeamOffer, destination: Destination, *, opener: bool) -> TeamMember:
    """Take one seat (a single conditional UPDATE) and order at the team price; the caller's
    transaction rolls the seat back with anything that fails after it."""
    if payment_method_is_cod(destination.payment_method):
        raise InvalidOffer(_("拼团需在线支付"), code="team_online_payment_only")
    now = timezone.now()
    taken = Team.objects.filter(
        pk=team.pk, status=TeamStatus.FORMING, expires_at__gt=now, seats_taken__lt=F("team_size")
    ).update(seats_taken=F("seats_taken") + 1)
    if taken != 1:
        team.refresh_from_db()
        if team.status != TeamStatus.FORMING or team.expires_at <= now:
            raise TeamClosed(_("该团已结束，可以自己开一个新团"))
        raise TeamFull(_("该团已满员，可以自己开一个新团"))
    # The team row is locked now, so a parallel join of the same member waits and sees this one.
    if TeamMember.objects.filter(team=team, user=user, status__in=LIVE_MEMBER_STATUSES).exists():
        raise AlreadyInTeam(_("你已在这个团里了"))
    order = order_actions.create_order(
        user,
        sku_id=offer.sku_id,
        quantity=1,
        unit_prices={offer.sku_id: team.team_price_fen},
        pay_by=team.expires_at,
        fulfilment=destination.fulfilment,
        pickup_point_id=destination.pickup_point_id,
        address_id=destination.address_id,
        payment_method=destination.payment_method,
        hold=str(TEAM_HOLD),
    )
    try:
        with transaction.atomic():
            member = TeamMember.objects.create(shop=team.shop, team=team, user=user, order=order, is_opener=opener)
    except IntegrityError as error:
        raise AlreadyInTeam(_("你已在这个团里了")) from error
    team.refresh_from_db(fields=["seats_taken", "paid_count", "status"])
    return member


def payment_method_is_cod(method: str) -> bool:
    # A team is settled by payments landing before its deadline: cash on delivery cannot count.
    return method == PaymentMethod.COD


def do_open_team(user: Any, offer_id: int, destination: Destination) -> TeamMember:
    """The member opens a team of the offer's size and holds its first seat with their order."""
    offer = public_offer(offer_id)
    now = timezone.now()
    check_offer_open(offer, now)
    with transaction.atomic():
        team = Team.objects.create(
            shop=offer.shop,
            offer=offer,
            opened_by=user,
            team_size=offer.team_size,
            team_price_fen=offer.team_price_fen,
            expires_at=now + timedelta(hours=offer.time_limit_hours),
        )
        member = _take_seat(user, team, offer, destination, opener=True)
        on_commit(tasks.schedule_expiry, team.pk, team.expires_at)
    return member


def do_join_team(user: Any, team_id: int, destination: Destination) -> TeamMember:
    """The member takes a free seat in someone's team (from the share link)."""
    team = public_team(team_id)
    offer = team.offer
    order_actions.check_available_sku(offer.sku_id)
    with transaction.atomic():
        return _take_seat(user, team, offer, destination, opener=False)


# --- order lifecycle (receivers of orders.signals; the order row is locked) -------------


def _member_of_order(order: Order) -> TeamMember | None:
    return TeamMember.objects.select_for_update().filter(order_id=order.pk).first()


def _notify(user: Any, team: Team, kind: str, title: str, body: str) -> None:
    notify(user, shop=team.shop, kind=kind, title=title, body=body, link=team_link(team))


def _refund_member(order: Order, member: TeamMember, reason: str) -> None:
    """Refund all that is left of the member's order, once: the member row turns refunded."""
    for line in OrderLine.objects.filter(order=order).order_by("pk"):
        order_actions.refund_automatically(order, line, reason)
    TeamMember.objects.filter(pk=member.pk).update(status=MemberStatus.REFUNDED)
    member.status = MemberStatus.REFUNDED


def _fail(team: Team, now: datetime) -> bool:
    """Mark a forming team failed (the caller holds its row lock); tell its live members."""
    if Team.objects.filter(pk=team.pk, status=TeamStatus.FORMING).update(status=TeamStatus.FAILED, failed_at=now) != 1:
        return False
    team.status, team.failed_at = TeamStatus.FAILED, now
    members = TeamMember.objects.filter(team=team, status__in=LIVE_MEMBER_STATUSES).select_related("user")
    for member in members:
        with in_language_of(member.user):
            _notify(
                member.user,
                team,
                "teambuy.failed",
                _("拼团未成功"),
                _("「%(title)s」未在时限内凑满 %(team_size)s 人，已付款项将原路全额退回。")
                % {"title": team.offer.title, "team_size": team.team_size},
            )
    on_commit(tasks.settle_team_later, team.pk)
    return True


def on_order_reinstating(sender: Any, order: Order, **kwargs: Any) -> None:
    """A late payment reinstates a team member's order: the team's row now, before the SKUs the
    reinstating takes (lock order), as ``on_order_paid`` will want it."""
    team_ids = TeamMember.objects.filter(order_id=order.pk).values_list("team_id", flat=True)
    list(Team.objects.select_for_update(of=("self",)).filter(pk__in=team_ids).values_list("pk", flat=True))


def on_order_paid(sender: Any, order: Order, **kwargs: Any) -> None:
    member = _member_of_order(order)
    if member is None or member.status in (MemberStatus.PAID, MemberStatus.REFUNDED):
        return
    team = Team.objects.select_for_update(of=("self",)).select_related("offer", "shop").get(pk=member.team_id)
    now = timezone.now()
    if team.status == TeamStatus.FORMING and team.expires_at <= now:
        _fail(team, now)
    if member.status == MemberStatus.LEFT or team.status != TeamStatus.FORMING:
        # Paid for a seat that was given up, or into a team that has already failed.
        reason = (
            _("拼团已结束，付款全额退回") if team.status == TeamStatus.FAILED else _("拼团席位已释放，付款全额退回")
        )
        _refund_member(order, member, reason)
        return
    TeamMember.objects.filter(pk=member.pk).update(status=MemberStatus.PAID, paid_at=now)
    Team.objects.filter(pk=team.pk).update(paid_count=F("paid_count") + 1)
    team.refresh_from_db()
    if team.paid_count == team.team_size:
        _succeed(team, now)


def _succeed(team: Team, now: datetime) -> None:
    if (
        Team.objects.filter(pk=team.pk, status=TeamStatus.FORMING).update(status=TeamStatus.SUCCEEDED, succeeded_at=now)
        != 1
    ):
        return
    team.status, team.succeeded_at = TeamStatus.SUCCEEDED, now
    for member in TeamMember.objects.filter(team=team, status=MemberStatus.PAID).select_related("user"):
        with in_language_of(member.user):
            _notify(
                member.user,
                team,
                "teambuy.succeeded",
                _("拼团成功"),
                _("「%(title)s」%(team_size)s 人已成团，我们会尽快为你安排发货或备货。")
                % {"title": team.offer.title, "team_size": team.team_size},
            )
    # After commit, each order in its own transaction: releasing here would lock other members'
    # orders while a parallel payment holds one of them and waits for this team (a deadlock).
    on_commit(tasks.release_team_holds_later, team.pk)


def release_team_holds(team_id: int) -> int:
    """A succeeded team's orders may be fulfilled now. Returns how many were released; idempotent
    (the sweeper calls it again for any order still held)."""
    released = 0
    held = TeamMember.objects.filter(
        team_id=team_id, team__status=TeamStatus.SUCCEEDED, status=MemberStatus.PAID
    ).exclude(order__hold_reason="")
    for order_id in list(held.values_list("order_id", flat=True)):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order_actions.release_hold(order, _("拼团成功，可以发货或备货")):
                released += 1
    return released


def on_order_released(sender: Any, order: Order, **kwargs: Any) -> None:
    """An unpaid order closed or was cancelled: its member leaves and the seat is free again."""
    member = _member_of_order(order)
    if member is None or member.status != MemberStatus.PENDING:
        return
    TeamMember.objects.filter(pk=member.pk, status=MemberStatus.PENDING).update(status=MemberStatus.LEFT)
    Team.objects.filter(pk=member.team_id, status=TeamStatus.FORMING, seats_taken__gt=0).update(
        seats_taken=F("seats_taken") - 1
    )


def on_line_refunded(sender: Any, order: Order, line: OrderLine, amount_fen: int, **kwargs: Any) -> None:
    """A paid member of a forming team got all their money back (after-sales): they leave and
    their seat is free again. After success a refund is ordinary after-sales; after failure the
    member was already marked refunded when the automatic refund was made."""
    locked = Order.objects.select_for_update().filter(pk=order.pk).first()
    if locked is None or locked.refunded_fen < locked.total_fen:
        return
    member = _member_of_order(locked)
    if member is None or member.status != MemberStatus.PAID:
        return
    freed = Team.objects.filter(
        pk=member.team_id, status=TeamStatus.FORMING, paid_count__gt=0, seats_taken__gt=0
    ).update(paid_count=F("paid_count") - 1, seats_taken=F("seats_taken") - 1)
    if freed == 1:
        TeamMember.objects.filter(pk=member.pk).update(status=MemberStatus.REFUNDED)


# --- expiry ------------------------------------------------------------------------------


def expire_team(team_id: int, *, now: datetime | None = None) -> bool:
    """Fail a team still forming past its deadline, then settle its members. Safe to run twice.

    Returns True when this call failed the team.
    """
    now = now or timezone.now()
    with transaction.atomic():
        team = Team.objects.select_for_update(of=("self",)).select_related("offer", "shop").filter(pk=team_id).first()
        if team is None or team.status != TeamStatus.FORMING or team.expires_at > now:
            failed = False
        else:
            failed = _fail(team, now)
    settle_failed_team(team_id)
    return failed


def settle_failed_team(team_id: int) -> int:
    """Refund every paid member of a failed team and cancel every unpaid order, each exactly once.

    Each member is settled in its own transaction under its order's row lock, so a payment
    landing at the same moment is either refunded here or by ``on_order_paid``, never both.
    """
    if not Team.objects.filter(pk=team_id, status=TeamStatus.FAILED).exists():
        return 0
    settled = 0
    pending = (
        TeamMember.objects.filter(team_id=team_id, status__in=LIVE_MEMBER_STATUSES)
        .order_by("order_id")
        .values_list("pk", "order_id")
    )
    for member_id, order_id in list(pending):
        with transaction.atomic():
            order = Order.objects.select_for_update(of=("self",)).select_related("user", "shop").get(pk=order_id)
            member = TeamMember.objects.select_for_update().get(pk=member_id)
            if member.status == MemberStatus.PAID:
                _refund_member(order, member, _("拼团未在时限内成团，付款全额退回"))
                settled += 1
            elif member.status == MemberStatus.PENDING:
                if order.status == OrderStatus.PENDING_PAYMENT:
                    order_actions.cancel_automatically(order.pk, _("拼团未在时限内成团，订单已取消"))
                else:  # already closed elsewhere: nothing held any more
                    TeamMember.objects.filter(pk=member.pk).update(status=MemberStatus.LEFT)
                settled += 1
    return settled


def expire_due_teams(*, now: datetime | None = None, limit: int = 200) -> int:
    """The sweeper: fail teams past their deadline and finish settling failed ones."""
    now = now or timezone.now()
    failed = 0
    due = Team.objects.filter(status=TeamStatus.FORMING, expires_at__lte=now).order_by("expires_at", "id")
    for team_id in list(due.values_list("pk", flat=True)[:limit]):
        if expire_team(team_id, now=now):
            failed += 1
    unsettled = (
        Team.objects.filter(status=TeamStatus.FAILED, members__status__in=LIVE_MEMBER_STATUSES)
        .values_list("pk", flat=True)
        .distinct()
    )
    for team_id in list(unsettled[:limit]):
        settle_failed_team(team_id)
    still_held = (
        Team.objects.filter(
            status=TeamStatus.SUCCEEDED, members__status=MemberStatus.PAID, members__order__hold_reason__gt=""
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    for team_id in list(still_held[:limit]):
        release_team_holds(team_id)
    return failed
