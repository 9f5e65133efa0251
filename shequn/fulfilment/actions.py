"""Every fulfilment and settlement write. ``check_*`` validates, ``do_*``/verbs change data.

Goods received (``receive_goods``): once per campaign × leader, serialised on the leader's
row. A shortage of a SKU is given to the **latest sign-ups first** (highest sequence number
first: the earliest neighbours to sign up keep their goods); each short sign-up gets an
automatic partial refund of unit price × missing units (all that is left on the line when
the whole line is short). Every order with something left to hand over then moves to
ready-for-pickup, gets a pickup ticket (6-digit code + QR token) and the member is told.

Uncollected goods (``remind_uncollected``): N days (``UNCOLLECTED_AFTER_DAYS``) after ready,
an open ticket gets one reminder to the member and one alert to the operator. Nothing is
refunded: the goods are fresh and were handed over to the pickup point; the ticket stays
open so the member can still collect, and the operator settles anything else with the
member by hand (a refund through the order's after-sales if they decide so).
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.catalog.weights import MAX_ACTUAL_OVER_ESTIMATE, line_weight, refund_step_fen
from shequn.core import audit
from shequn.core.alerts import raise_alert
from shequn.core.errors import InvalidTransition, NotFound
from shequn.core.i18n import in_language_of
from shequn.core.money import format_fen
from shequn.groupbuy.enums import CampaignStatus
from shequn.groupbuy.models import SignUp
from shequn.leaders.models import Leader
from shequn.notifications.actions import notify
from shequn.orders import actions as order_actions
from shequn.orders import selectors as order_selectors
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, OrderEvent, OrderLine, RefundRequest
from shequn.orders.selectors import refundable_left_fen
from shequn.shops.models import Shop
from shequn.shops.permissions import CONFIRM_COD, FULFIL_ORDERS
from shequn.shops.selectors import require_permission
from shequn.wallets import flows as wallet_flows
from shequn.wallets.ledger import InsufficientBalance

from . import selectors
from .enums import SettlementStatus, TicketStatus
from .errors import (
    AlreadyPickedUp,
    CampaignNotSucceeded,
    GoodsAlreadyReceived,
    InvalidPayout,
    InvalidPeriod,
    InvalidReceipt,
    InvalidSettlementState,
    InvalidWeight,
    NothingToSettle,
    NotReadyForPickup,
    NotSoldByWeight,
    NotYourPickupPoint,
    TicketNotFound,
    WeighingClosed,
)
from .models import GoodsReceipt, Payout, PickupTicket, Settlement, SettlementLine, ShortageRefund

UNCOLLECTED_AFTER_DAYS = getattr(settings, "FULFILMENT_UNCOLLECTED_DAYS", 3)
CODE_ATTEMPTS = 20
MAX_PERIOD_DAYS = 366


def _hhmm(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else ""


def verify_url(ticket: PickupTicket) -> str:
    return settings.SITE_URL + reverse("fulfilment:leader_verify_token", args=[ticket.token])


# --- goods received -------------------------------------------------------------------


@dataclass
class Shortfall:
    sign_up: SignUp
    want: selectors.Wanted
    units: int  # missing units of this line


def allocate_shortage(sign_ups: list[SignUp], sku_id: int, shortage: int) -> list[Shortfall]:
    """Give ``shortage`` missing units of ``sku_id`` to the latest sign-ups first (by sequence)."""
    found: list[Shortfall] = []
    for sign_up in sorted(sign_ups, key=lambda s: (s.sequence or 0, s.pk), reverse=True):
        if shortage <= 0:
            break
        for want in selectors.wanted(sign_up):
            if want.sku_id != sku_id or shortage <= 0:
                continue
            units = min(want.units, shortage)
            found.append(Shortfall(sign_up, want, units))
            shortage -= units
    return found


def check_received(expected: dict[int, tuple[str, str, int]], received: dict[int, int]) -> dict[int, int]:
    fields: dict[str, str] = {}
    clean: dict[int, int] = {}
    for sku_id, (title, _spec, units) in expected.items():
        value = received.get(sku_id)
        if value is None:
            fields[str(sku_id)] = _("请填写「%(title)s」的实收数量") % {"title": title}
        elif not isinstance(value, int) or value < 0 or value > units:
            fields[str(sku_id)] = _("「%(title)s」的实收数量应在 0 到 %(units)s 之间") % {
                "title": title,
                "units": units,
            }
        else:
            clean[sku_id] = value
    unknown = set(received) - set(expected)
    if unknown:
        fields[str(min(unknown))] = _("这件商品不在本次接龙的到货清单中")
    if fields:
        raise InvalidReceipt(next(iter(fields.values())), details={"fields": fields})
    return clean


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def issue_ticket(sign_up: SignUp, order: Order, *, now: datetime) -> PickupTicket:
    """The sign-up's pickup ticket (one per sign-up); the code is unique among open codes of the point."""
    existing = PickupTicket.objects.filter(sign_up=sign_up).first()
    if existing is not None:
        return existing
    for attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return PickupTicket.objects.create(
                    shop_id=order.shop_id,
                    sign_up=sign_up,
                    order=order,
                    pickup_point_id=order.pickup_point_id or 0,
                    code=_new_code(),
                    token=secrets.token_urlsafe(24),
                    ready_at=now,
                )
        except IntegrityError:
            if attempt == CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def receive_goods(leader: Leader, campaign_id: int, received: dict[int, int], *, actor: Any) -> list[GoodsReceipt]:
    """The leader confirms what arrived at their point, once per campaign (see the module docstring)."""
    with transaction.atomic():
        leader = Leader.objects.select_for_update(of=("self",)).select_related("pickup_point").get(pk=leader.pk)
        campaign = selectors.access_leader_campaign(leader, campaign_id)
        if campaign.status != CampaignStatus.SUCCEEDED:
            raise CampaignNotSucceeded(_("接龙成团后才能确认收货"))
        done = GoodsReceipt.objects.filter(campaign=campaign, leader=leader).order_by("id").first()
        if done is not None:
            raise GoodsAlreadyReceived(
                _("已确认收货（%(confirmed_at)s），不能重复提交") % {"confirmed_at": _hhmm(done.confirmed_at)}
            )
        expected = selectors.expected_units(campaign, leader)
        clean = check_received(expected, received)
        now = timezone.now()
        receipts = [
            GoodsReceipt.objects.create(
                shop_id=leader.shop_id,
                campaign=campaign,
                leader=leader,
                sku_id=sku_id,
                expected=expected[sku_id][2],
                received=clean[sku_id],
                confirmed_by=actor,
            )
            for sku_id in sorted(expected)
        ]
        sign_ups = list(selectors.confirmed_sign_ups(campaign, leader))
        short: dict[int, list[tuple[GoodsReceipt, Shortfall]]] = {}
        for receipt in receipts:
            for shortfall in allocate_shortage(sign_ups, receipt.sku_id, receipt.shortage):
                short.setdefault(shortfall.sign_up.pk, []).append((receipt, shortfall))
        # Lock orders in id order so two points never wait on each other.
        for sign_up in sorted(sign_ups, key=lambda s: s.order_id):
            order = (
                Order.objects.select_for_update(of=("self",))
                .select_related("user", "shop", "pickup_point")
                .get(pk=sign_up.order_id)
            )
            missing_units = {want.order_line.pk: 0 for want in selectors.wanted(sign_up)}
            for receipt, shortfall in short.get(sign_up.pk, []):
                whole_line = shortfall.units >= shortfall.want.units
                amount = None if whole_line else shortfall.want.unit_price_fen * shortfall.units
                reason = _("「%(title)s」到货少 %(units)s 份，自动退款") % {
                    "title": shortfall.want.title,
                    "units": shortfall.units,
                }
                refund = order_actions.refund_automatically(order, shortfall.want.order_line, reason, amount_fen=amount)
                ShortageRefund.objects.create(
                    receipt=receipt,
                    sign_up=sign_up,
                    units=shortfall.units,
                    amount_fen=refund.amount_fen if refund else 0,
                    refund=refund,
                )
                missing_units[shortfall.want.order_line.pk] += shortfall.units
            wants = {want.order_line.pk: want.units for want in selectors.wanted(sign_up)}
            if all(missing_units.get(pk, 0) >= units for pk, units in wants.items()):
                continue  # nothing left to hand over: fully refunded, no pickup
            if order.status == OrderStatus.PAID:
                order_actions.move_for_pickup(
                    order, OrderStatus.READY_FOR_PICKUP, actor=actor, note=_("团长已确认到货")
                )
            elif order.status != OrderStatus.READY_FOR_PICKUP:
                continue  # already handed over (staff marked it picked up): no code needed
            ticket = issue_ticket(sign_up, order, now=now)
            with in_language_of(order.user):
                where = order.pickup_point.name if order.pickup_point else _("自提点")
                notify(
                    order.user,
                    shop=order.shop,
                    kind="groupbuy.pickup_code",
                    title=_("取货码"),
                    body=_("「%(title)s」已到「%(where)s」，取货码 %(code)s，出示二维码或报取货码即可取货。")
                    % {"title": campaign.title, "where": where, "code": ticket.code},
                    link=reverse("fulfilment:my_pickup", args=[order.number]),
                )
        return receipts


# --- pickup verification ----------------------------------------------------------------


def _hand_over(ticket: PickupTicket, leader: Leader, actor: Any) -> PickupTicket:
    if ticket.status == TicketStatus.PICKED_UP:
        raise AlreadyPickedUp(
            _("已核销（%(picked_up_at)s）") % {"picked_up_at": _hhmm(ticket.picked_up_at)},
            details={"picked_up_at": ticket.picked_up_at.isoformat() if ticket.picked_up_at else None},
        )
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("user", "shop", "pickup_point")
        .get(pk=ticket.order_id)
    )
    if order.status != OrderStatus.READY_FOR_PICKUP:
        raise NotReadyForPickup(_("订单状态为「%(label)s」，不能核销") % {"label": OrderStatus(order.status).label})
    try:
        order_actions.move_for_pickup(
            order, OrderStatus.PICKED_UP, actor=actor, note=_("团长核销取货码 %(code)s") % {"code": ticket.code}
        )
    except InvalidTransition:
        raise NotReadyForPickup(_("订单当前不能核销")) from None
    now = timezone.now()
    PickupTicket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.PICKED_UP, picked_up_at=now, picked_up_by=actor
    )
    ticket.status, ticket.picked_up_at, ticket.picked_up_by = TicketStatus.PICKED_UP, now, actor
    return ticket


def verify_code(leader: Leader, code: str, *, actor: Any) -> PickupTicket:
    """The leader types a member's 6-digit code: only codes of their own point are found."""
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise TicketNotFound(_("请输入 6 位数字取货码"))
    with transaction.atomic():
        tickets = PickupTicket.objects.select_for_update().filter(pickup_point_id=leader.pickup_point_id, code=code)
        ticket = (
            tickets.filter(status=TicketStatus.OPEN).first()
            or tickets.filter(status=TicketStatus.PICKED_UP).order_by("-picked_up_at").first()
        )
        if ticket is None:
            raise TicketNotFound(_("取货码无效，请核对后重新输入"))
        return _hand_over(ticket, leader, actor)


def verify_token(user: Any, token: str) -> PickupTicket:
    """The leader scanned the member's QR: only a leader of that pickup point may hand over."""
    with transaction.atomic():
        ticket = PickupTicket.objects.select_for_update().filter(token=token).first() if token else None
        if ticket is None:
            raise TicketNotFound(_("取货码无效"))
        leader = selectors.my_leaders(user).filter(shop_id=ticket.shop_id).first()
        if leader is None or leader.pickup_point_id != ticket.pickup_point_id:
            raise NotYourPickupPoint(_("这不是你的自提点的订单，不能核销"))
        return _hand_over(ticket, leader, user)


# --- uncollected goods ------------------------------------------------------------------


def remind_uncollected(*, now: datetime | None = None, limit: int = 500) -> int:
    """Remind each member once and alert the operator once, N days after their goods were ready."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=UNCOLLECTED_AFTER_DAYS)
    due = PickupTicket.objects.filter(status=TicketStatus.OPEN, reminded_at__isnull=True, ready_at__lte=cutoff)
    reminded = 0
    for ticket_id in list(due.order_by("ready_at", "id").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            claimed = PickupTicket.objects.filter(
                pk=ticket_id, status=TicketStatus.OPEN, reminded_at__isnull=True
            ).update(reminded_at=now)
            if claimed != 1:
                continue
            ticket = PickupTicket.objects.select_related("order__user", "shop", "pickup_point").get(pk=ticket_id)
            with in_language_of(ticket.order.user):
                notify(
                    ticket.order.user,
                    shop=ticket.shop,
                    kind="groupbuy.uncollected",
                    title=_("商品待取，请尽快自提"),
                    body=_(
                        "你的团购商品已在「%(name)s」放了 %(days)s 天，取货码 %(code)s。"
                        "生鲜商品不支持退款，请尽快取走。"
                    )
                    % {
                        "name": ticket.pickup_point.name,
                        "days": UNCOLLECTED_AFTER_DAYS,
                        "code": ticket.code,
                    },
                    link=reverse("fulfilment:my_pickup", args=[ticket.order.number]),
                )
            raise_alert(
                kind="groupbuy.uncollected",
                message=_("订单 %(number)s 在「%(name)s」超过 %(days)s 天未自提")
                % {
                    "number": ticket.order.number,
                    "name": ticket.pickup_point.name,
                    "days": UNCOLLECTED_AFTER_DAYS,
                },
                shop=ticket.shop,
                order=ticket.order.number,
                ticket=ticket.pk,
            )
            reminded += 1
    return reminded


# --- settlements -------------------------------------------------------------------------


def _local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), zone),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone),
    )


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    if start is None or end is None:
        raise InvalidPeriod(_("请选择结算周期的开始和结束日期"))
    if end < start:
        raise InvalidPeriod(_("结束日期不能早于开始日期"))
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidPeriod(_("结算周期不能超过一年"))
    if end >= timezone.localdate():
        raise InvalidPeriod(_("只能结算今天以前的周期"))
    return start, end


def create_settlements(
    shop: Shop, actor: Any, *, start: date | None, end: date | None, ip: str | None = None
) -> list[Settlement]:
    """One statement per leader with commission in the period: every completed campaign order
    of the period not yet settled. Orders are settled at most once (unique settlement line)."""
    require_permission(actor, shop, FULFIL_ORDERS)
    start, end = check_period(start, end)
    since, until = _local_bounds(start, end)
    completed = Q(order__completed_at__gte=since, order__completed_at__lt=until)
    created: list[Settlement] = []
    with transaction.atomic():
        for leader in Leader.objects.select_for_update().filter(shop=shop).order_by("id"):
            rows = selectors.commission_rows(leader, completed=completed, unsettled_only=True)
            if not rows:
                continue
            settlement = Settlement.objects.create(
                shop=shop,
                leader=leader,
                period_start=start,
                period_end=end,
                base_fen=sum(r.base_fen for r in rows),
                commission_fen=sum(r.commission_fen for r in rows),
                created_by=actor,
            )
            SettlementLine.objects.bulk_create(
                SettlementLine(
                    settlement=settlement,
                    order=r.order,
                    sign_up=r.sign_up,
                    paid_fen=r.paid_fen,
                    refunded_fen=r.refunded_fen,
                    base_fen=r.base_fen,
                    rate_bp=leader.commission_rate_bp,
                    commission_fen=r.commission_fen,
                )
                for r in rows
            )
            audit.record(
                actor=actor,
                shop=shop,
                action="settlement.create",
                obj=settlement,
                ip=ip,
                leader=leader.pk,
                period=f"{start}~{end}",
                orders=len(rows),
                commission_fen=settlement.commission_fen,
            )
            created.append(settlement)
        if not created:
            raise NothingToSettle(_("这个周期没有待结算的已完成订单"))
    return created


def confirm_settlement(shop: Shop, settlement_id: int, actor: Any, *, ip: str | None = None) -> Settlement:
    """Finance confirms the amount; from here on the statement never changes."""
    require_permission(actor, shop, CONFIRM_COD)
    with transaction.atomic():
        settlement = selectors.access_settlement(shop, settlement_id, lock=True)
        if settlement.status != SettlementStatus.DRAFT:
            raise InvalidSettlementState(
                _("结算单%(label)s，不能再确认") % {"label": SettlementStatus(settlement.status).label}
            )
        settlement.status = SettlementStatus.CONFIRMED
        settlement.confirmed_by = actor
        settlement.confirmed_at = timezone.now()
        settlement.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        if settlement.commission_fen > 0:
            # The hand-off to the wallet: one credit per confirmed statement, withdrawable at once.
            wallet_flows.credit_available(
                shop,
                settlement.leader.user,
                settlement.commission_fen,
                reference=f"leader-settlement:{settlement.pk}",
                memo=_("团长佣金结算 %(period_start)s~%(period_end)s")
                % {"period_start": settlement.period_start, "period_end": settlement.period_end},
            )
        audit.record(
            actor=actor,
            shop=shop,
            action="settlement.confirm",
            obj=settlement,
            ip=ip,
            amount_fen=settlement.commission_fen,
        )
    return settlement


def record_payout(
    shop: Shop, settlement_id: int, actor: Any, *, amount_fen: int, reference: str, ip: str | None = None
) -> Payout:
    """Finance records the money sent to the leader for a confirmed statement (exactly once)."""
    require_permission(actor, shop, CONFIRM_COD)
    reference = (reference or "").strip()
    with transaction.atomic():
        settlement = selectors.access_settlement(shop, settlement_id, lock=True)
        if settlement.status != SettlementStatus.CONFIRMED:
            message = _("结算单已打款") if settlement.status == SettlementStatus.PAID else _("请先确认结算单")
            raise InvalidSettlementState(message)
        if amount_fen != settlement.commission_fen:
            raise InvalidPayout(
                _("打款金额应为 %(commission_fen)s") % {"commission_fen": format_fen(settlement.commission_fen)},
                details={"fields": {"amount_fen": _("打款金额与结算金额不一致")}},
            )
        if not reference or len(reference) > 64:
            raise InvalidPayout(
                _("请填写转账流水号（最多 64 个字）"), details={"fields": {"reference": _("请填写转账流水号")}}
            )
        payout = Payout.objects.create(
            settlement=settlement, amount_fen=amount_fen, reference=reference, recorded_by=actor
        )
        if amount_fen > 0:
            # Paid by hand: take it out of the wallet the confirmation credited, so the leader cannot
            # withdraw it again (refused if they already did).
            try:
                wallet_flows.pay_out_externally(
                    shop,
                    settlement.leader.user,
                    amount_fen,
                    reference=f"leader-settlement-payout:{settlement.pk}",
                    memo=_("团长佣金线下打款 %(reference)s") % {"reference": reference},
                )
            except InsufficientBalance:
                raise InvalidPayout(_("团长已从钱包提现了这笔佣金，不能再线下打款")) from None
        settlement.status = SettlementStatus.PAID
        settlement.save(update_fields=["status"])
        audit.record(
            actor=actor,
            shop=shop,
            action="settlement.payout",
            obj=settlement,
            ip=ip,
            amount_fen=amount_fen,
            reference=reference,
        )
        with in_language_of(settlement.leader.user):
            notify(
                settlement.leader.user,
                shop=shop,
                kind="leader.payout",
                title=_("团长佣金已打款"),
                body=_("%(period_start)s~%(period_end)s 佣金 %(amount_fen)s 已打款，流水号 %(reference)s。")
                % {
                    "period_start": settlement.period_start,
                    "period_end": settlement.period_end,
                    "amount_fen": format_fen(amount_fen),
                    "reference": reference,
                },
                link=reverse("fulfilment:leader_commission"),
            )
    return payout


# --- sold by weight: weighing at packing ----------------------------------------------------


def check_weight(line: OrderLine, grams: Any) -> int:
    """Actual grams for the whole line: a positive integer, at most a few times the estimate."""
    if not line.weight_unit_grams or not line.estimated_grams:
        raise NotSoldByWeight(_("「%(title)s」按件计价，无需称重") % {"title": line.title})
    if isinstance(grams, bool) or not isinstance(grams, int) or grams < 1:
        raise InvalidWeight(_("请填写实际重量（克），须为大于 0 的整数"))
    estimated = line.estimated_grams * line.quantity
    if grams > estimated * MAX_ACTUAL_OVER_ESTIMATE:
        raise InvalidWeight(
            _("实重 %(grams)s 克超过预估 %(estimated)s 克的 %(times)s 倍，请检查是否输错")
            % {"grams": grams, "estimated": estimated, "times": MAX_ACTUAL_OVER_ESTIMATE},
            details={"estimated_grams": estimated},
        )
    return grams


def settle_weight_refund(order: Order, line: OrderLine) -> RefundRequest | None:
    """Refund what the line's recorded weight makes due and is not refunded yet (the caller
    holds the order's row lock and the order is paid).

    Idempotent: the line counts its weight refunds (``weight_refund_fen``), so weighing the
    same again refunds nothing; a lighter correction refunds only the extra; a heavier one
    takes nothing back. Never more than is still refundable on the line.
    """
    line = OrderLine.objects.select_for_update().get(pk=line.pk)
    weight = line_weight(line)
    if weight is None or weight.actual_grams is None:
        return None
    step = refund_step_fen(weight.due_fen, line.weight_refund_fen, refundable_left_fen(line))
    if step <= 0:
        return None
    lighter = (
        _("，少 %(lighter_by_label)s") % {"lighter_by_label": weight.lighter_by_label}
        if weight.lighter_by_label
        else ""
    )
    prefix = _("称重更正补退") if line.weight_refund_fen else _("称重差价退款")
    reason = _("%(prefix)s：实重 %(actual_label)s%(lighter)s") % {
        "prefix": prefix,
        "actual_label": weight.actual_label,
        "lighter": lighter,
    }
    refund = order_actions.refund_automatically(order, line, reason, amount_fen=step)
    if refund is not None:
        OrderLine.objects.filter(pk=line.pk).update(weight_refund_fen=F("weight_refund_fen") + refund.amount_fen)
    return refund


def record_line_weight(
    shop: Shop, order_id: int, line_id: int, grams: Any, *, actor: Any, ip: str | None = None
) -> OrderLine:
    """Staff record the actual weight of a weight-priced line at packing (audited).

    Lighter than paid for: the difference is refunded automatically through the order's
    refund flow (a COD order not yet paid gets it when the cash is confirmed, see
    ``settle_weights_on_paid``). Heavier: nothing more is charged (多退少不补).
    """
    require_permission(actor, shop, FULFIL_ORDERS)
    with transaction.atomic():
        order = order_selectors.access_order(shop, order_id, lock=True)
        line = OrderLine.objects.select_for_update().filter(order=order, pk=line_id).first()
        if line is None:
            raise NotFound(_("订单中没有这件商品"), code="order_line_not_found")
        grams = check_weight(line, grams)
        if not order_selectors.weighing_open(order):
            if order.paid_at is None and order.status == OrderStatus.PENDING_PAYMENT:
                raise WeighingClosed(_("订单尚未付款，付款后再称重"))
            raise WeighingClosed(_("订单%(label)s，不能再记录称重") % {"label": OrderStatus(order.status).label})
        before = line.actual_grams
        OrderLine.objects.filter(pk=line.pk).update(actual_grams=grams)
        line.actual_grams = grams
        weight = line_weight(line)
        assert weight is not None
        OrderEvent.objects.create(
            order=order,
            from_status=order.status,
            to_status=order.status,
            actor=actor,
            note=(
                _("称重：%(title)s %(spec)s 实重 %(actual_label)s（预估 %(estimated_label)s）")
                % {
                    "title": line.title,
                    "spec": line.spec,
                    "actual_label": weight.actual_label,
                    "estimated_label": weight.estimated_label,
                }
            )[:255],
        )
        audit.record(
            actor=actor,
            shop=shop,
            action="order.line_weighed",
            obj=order,
            ip=ip,
            line_id=line.pk,
            actual_grams=grams,
            previous_grams=before,
        )
        if order.paid_at is not None:
            settle_weight_refund(order, line)
        line.refresh_from_db()
    return line


def settle_weights_on_paid(sender: Any, order: Order, **kwargs: Any) -> None:
    """Receiver of ``orders.signals.order_paid``: refund weight differences recorded before the
    payment (a COD order weighed at packing; its cash refund completes at once, so what is
    kept is what the weight cost)."""
    for line in OrderLine.objects.filter(order=order, actual_grams__isnull=False).order_by("pk"):
        settle_weight_refund(order, line)
