"""Every write of stored value: plans (console), top-ups, paying from a balance, refunds by source,
and a member asking for unused principal back.

The ledger movements (``wallets.ledger``; the shop's accounts on the left, the member's on the right):

    top-up paid     STORED_VALUE_FUNDS −paid,  PROMOTION_EXPENSE −bonus
                    → STORED_PRINCIPAL +paid, STORED_BONUS +bonus          "storedvalue:top-up:{line}"
    pay from balance STORED_PRINCIPAL, STORED_BONUS, SPENDABLE −parts
                    → BALANCE_SALES +taken                                  "storedvalue:pay:{order}"
    refund / release the reverse, in proportion to what is still taken   "storedvalue:refund:{refund}",
                                                                          "storedvalue:release:{order}"
    ask principal   STORED_PRINCIPAL → STORED_REFUNDING, per refund       "storedvalue:ask:{refund}"
    bonus forfeited STORED_BONUS → PROMOTION_EXPENSE                      "storedvalue:forfeit:{refund}"
    principal back  STORED_REFUNDING → STORED_VALUE_FUNDS (gateway confirmed)
                                                                          "storedvalue:back:{line}:{refunded}"

Paying takes the red packets' non-withdrawable balance (SPENDABLE) first, then principal and bonus
in proportion to their balances (largest remainder), so asking the principal back later never
leaves a member with a bonus that outlived what earned it. Lock order: the Order row, then the
ledger accounts in primary-key order (every ledger post does).
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from shequn.catalog.actions import save_kind_product
from shequn.catalog.kinds import ProductKind
from shequn.core import audit
from shequn.core.money import format_fen, split_by_weights
from shequn.orders import actions as order_actions
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, OrderLine
from shequn.orders.selectors import refundable_left_fen
from shequn.shops import permissions
from shequn.shops.models import Shop
from shequn.shops.selectors import require_permission
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account

from .errors import BalanceNotUsable, NothingToRefund, PlanInvalid, PlanNotFound
from .models import BalanceCharge, TopUpPlan

# The member's sources, in the order a BalanceCharge keeps them.
SOURCES = (AccountKind.STORED_PRINCIPAL, AccountKind.STORED_BONUS, AccountKind.SPENDABLE)
# A top-up card never sells out (stock is the catalog's way of counting; topped up on every save).
TOP_UP_STOCK = 1_000_000
MAX_TOP_UP_FEN = 5_000_000  # ¥50,000 in one top-up
MAX_BONUS_FEN = 5_000_000


# --- plans (console) -------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    principal_fen: int
    bonus_fen: int = 0


def plan_spec(principal_fen: int, bonus_fen: int) -> str:
    if bonus_fen:
        return _("充%(principal)s送%(bonus)s") % {
            "principal": format_fen(principal_fen),
            "bonus": format_fen(bonus_fen),
        }
    return _("充%(principal)s") % {"principal": format_fen(principal_fen)}


def check_plan(data: PlanInput) -> None:
    fields: dict[str, str] = {}
    if not 1 <= data.principal_fen <= MAX_TOP_UP_FEN:
        fields["principal"] = _("充值金额应在 ¥0.01 到 %(max)s 之间") % {"max": format_fen(MAX_TOP_UP_FEN)}
    if not 0 <= data.bonus_fen <= MAX_BONUS_FEN:
        fields["bonus"] = _("赠送金额应在 ¥0 到 %(max)s 之间") % {"max": format_fen(MAX_BONUS_FEN)}
    if fields:
        raise PlanInvalid(next(iter(fields.values())), details={"fields": fields})


def do_create_plan(shop: Shop, actor: Any, data: PlanInput, *, ip: str | None = None) -> TopUpPlan:
    """A new plan, on sale at once. Plans are never edited (an order pays for the bonus it showed):
    stop one and create another instead."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    check_plan(data)
    spec = plan_spec(data.principal_fen, data.bonus_fen)
    with transaction.atomic():
        product = save_kind_product(shop, ProductKind.STORED_VALUE, spec, [(spec, data.principal_fen, TOP_UP_STOCK)])
        plan = TopUpPlan.objects.create(
            shop=shop, product=product, principal_fen=data.principal_fen, bonus_fen=data.bonus_fen
        )
        audit.record(
            actor=actor,
            shop=shop,
            action="storedvalue.plan.create",
            obj=plan,
            ip=ip,
            principal_fen=data.principal_fen,
            bonus_fen=data.bonus_fen,
        )
    return plan


def do_set_plan_active(shop: Shop, actor: Any, plan_id: int, active: bool, *, ip: str | None = None) -> TopUpPlan:
    """Stop selling a plan (orders already placed keep it), or sell it again."""
    require_permission(actor, shop, permissions.MANAGE_CATALOG)
    with transaction.atomic():
        plan = TopUpPlan.objects.select_for_update().filter(shop=shop, pk=plan_id).select_related("product").first()
        if plan is None:
            raise PlanNotFound(_("充值方案不存在"))
        spec = plan_spec(plan.principal_fen, plan.bonus_fen)
        save_kind_product(
            shop,
            ProductKind.STORED_VALUE,
            spec,
            [(spec, plan.principal_fen, TOP_UP_STOCK)],
            product=plan.product,
            on_shelf=active,
        )
        TopUpPlan.objects.filter(pk=plan.pk).update(active=active)
        plan.active = active
        audit.record(actor=actor, shop=shop, action="storedvalue.plan.active", obj=plan, ip=ip, active=active)
    return plan


# --- top-ups (the ``stored_value`` product kind, see rules.py) -------------------------------


def check_purchase(sku: Any) -> None:
    if not TopUpPlan.objects.filter(product_id=sku.product_id, active=True).exists():
        raise PlanNotFound(_("该充值方案已停止"))


def credit_top_up(order: Order, line: OrderLine) -> None:
    """A paid top-up: what was paid becomes principal, the plan's bonus (per card) bonus."""
    plan = TopUpPlan.objects.get(product_id=line.product_id)
    shop, member = order.shop, order.user
    legs = [
        (ledger.account(shop, AccountKind.STORED_VALUE_FUNDS), -line.paid_fen),
        (ledger.account(shop, AccountKind.STORED_PRINCIPAL, member), line.paid_fen),
    ]
    bonus = plan.bonus_fen * line.quantity
    if bonus:
        legs += [
            (ledger.account(shop, AccountKind.PROMOTION_EXPENSE), -bonus),
            (ledger.account(shop, AccountKind.STORED_BONUS, member), bonus),
        ]
    ledger.post(
        shop,
        f"storedvalue:top-up:{line.pk}",
        legs,
        memo=_("充值 %(number)s") % {"number": order.number},
    )


def principal_paid_back(order: Order, line: OrderLine, amount_fen: int) -> None:
    """The gateway confirmed principal asked back went to the member: it leaves STORED_REFUNDING."""
    shop = order.shop
    ledger.post(
        shop,
        f"storedvalue:back:{line.pk}:{line.refunded_fen}",
        [
            (ledger.account(shop, AccountKind.STORED_REFUNDING, order.user), -amount_fen),
            (ledger.account(shop, AccountKind.STORED_VALUE_FUNDS), amount_fen),
        ],
        memo=_("本金已退回 %(number)s") % {"number": order.number},
        require_non_negative=[ledger.account(shop, AccountKind.STORED_REFUNDING, order.user)],
    )


# --- paying from a balance ----------------------------------------------------------------


def _locked(accounts: list[Account]) -> list[Account]:
    """``accounts`` read again under row locks taken in primary-key order (as every ledger post takes
    them), so the balances read stay true until this transaction's posts; in the order given."""
    rows = Account.objects.select_for_update().filter(pk__in=[a.pk for a in accounts]).order_by("pk")
    locked = {account.pk: account for account in rows}
    return [locked[account.pk] for account in accounts]


def plan_take(balances: list[int], due_fen: int) -> list[int]:
    """What paying ``due_fen`` takes from (principal, bonus, spendable) balances: spendable first,
    then principal and bonus in proportion to their balances (largest remainder)."""
    principal, bonus, spendable = balances
    from_spendable = min(spendable, due_fen)
    rest = min(due_fen - from_spendable, principal + bonus)
    from_principal, from_bonus = split_by_weights(rest, [principal, bonus]) if rest else (0, 0)
    return [from_principal, from_bonus, from_spendable]


def take_balance(order: Order) -> int:
    """Pay what the member's balances afford of ``order`` (all of it, or a part and the gateway the
    rest); returns the fen taken. The caller holds the order's row lock (``payments.start_payment``);
    an order takes from balances once (a second call returns what the first took)."""
    existing = BalanceCharge.objects.filter(order=order).first()
    if existing is not None:
        return 0 if existing.released else existing.amount_fen
    if order.kind == ProductKind.STORED_VALUE:
        raise BalanceNotUsable(_("储值卡不能用余额购买"))
    shop, member = order.shop, order.user
    *sources, sales = _locked(
        [*(ledger.account(shop, kind, member) for kind in SOURCES), ledger.account(shop, AccountKind.BALANCE_SALES)]
    )
    parts = plan_take([account.balance_fen for account in sources], order.total_fen)
    taken = sum(parts)
    if not taken:
        return 0
    ledger.post(
        shop,
        f"storedvalue:pay:{order.number}",
        [*((account, -part) for account, part in zip(sources, parts, strict=True)), (sales, taken)],
        memo=_("余额支付 %(number)s") % {"number": order.number},
        require_non_negative=sources,
    )
    BalanceCharge.objects.create(
        shop=shop, order=order, user=member, principal_fen=parts[0], bonus_fen=parts[1], spendable_fen=parts[2]
    )
    return taken


def _give_back(charge: BalanceCharge, parts: list[int], reference: str, memo: str) -> None:
    shop = charge.order.shop
    member = charge.user
    amount = sum(parts)
    sales = ledger.account(shop, AccountKind.BALANCE_SALES)
    ledger.post(
        shop,
        reference,
        [
            (sales, -amount),
            *((ledger.account(shop, kind, member), part) for kind, part in zip(SOURCES, parts, strict=True)),
        ],
        memo=memo,
    )
    BalanceCharge.objects.filter(pk=charge.pk).update(
        returned_principal_fen=F("returned_principal_fen") + parts[0],
        returned_bonus_fen=F("returned_bonus_fen") + parts[1],
        returned_spendable_fen=F("returned_spendable_fen") + parts[2],
    )


def release_charge(sender: Any, order: Order, **kwargs: Any) -> None:
    """Receiver of ``orders.signals.order_released``: an unpaid order closed or was cancelled, so
    what it took from the balances goes back to each source."""
    charge = BalanceCharge.objects.select_for_update().filter(order_id=order.pk, released=False).first()
    if charge is None:
        return
    left = charge.left
    if sum(left):
        _give_back(
            charge,
            left,
            f"storedvalue:release:{order.number}",
            _("订单 %(number)s 未支付，余额退回") % {"number": order.number},
        )
    BalanceCharge.objects.filter(pk=charge.pk).update(released=True)


def charge_released(order: Order) -> bool:
    """Whether the order took from balances and gave it back when it closed unpaid (a late gateway
    payment then cannot reinstate it: the balance part is no longer held)."""
    return BalanceCharge.objects.filter(order_id=order.pk, released=True).exists()


def split_refund(amount_fen: int, left: list[int], gateway_left_fen: int) -> tuple[list[int], int]:
    """A refund of ``amount_fen`` split between the balances (per source, by what is still taken
    from each: ``left``) and the gateway (``gateway_left_fen`` still held), in proportion to what
    each holds, by largest remainder; returns (parts per source, the gateway's part). Splitting by
    what is left keeps every part within what its source gave, and the last refund takes exactly
    the rest."""
    balance_share = min(split_by_weights(amount_fen, [sum(left), gateway_left_fen])[0], sum(left))
    parts = split_by_weights(balance_share, left) if balance_share else [0] * len(left)
    return parts, amount_fen - balance_share


def return_refund_share(order: Order, refund_number: str, amount_fen: int, gateway_left_fen: int) -> int:
    """An approved refund of ``amount_fen`` on ``order``: the balances' share (``split_refund``) goes
    back at once to each source. Returns that share (the gateway refunds the rest)."""
    charge = BalanceCharge.objects.select_for_update().filter(order_id=order.pk).first()
    if charge is None:
        return 0
    parts, _gateway_part = split_refund(amount_fen, charge.left, gateway_left_fen)
    if sum(parts):
        _give_back(
            charge,
            parts,
            f"storedvalue:refund:{refund_number}",
            _("退款 %(number)s 退回余额") % {"number": refund_number},
        )
    return sum(parts)


# --- the member asks for unused principal back ----------------------------------------------


def do_request_principal_refund(user: Any, shop: Shop) -> int:
    """Pay the member's unused principal back through the payments of their top-ups (newest first),
    each as an approved refund of that top-up; the bonus still unused is forfeited (it came with the
    principal). Returns the principal asked back. While the gateway works, the money waits in
    STORED_REFUNDING (not spendable, still owed)."""
    with transaction.atomic():
        lines = list(
            OrderLine.objects.filter(
                order__shop=shop,
                order__user=user,
                order__kind=ProductKind.STORED_VALUE,
                order__paid_at__isnull=False,
                order__status=OrderStatus.COMPLETED,
            ).order_by("-order__paid_at", "-pk")
        )
        orders = {
            order.pk: order
            for order in Order.objects.select_for_update(of=("self",))
            .filter(pk__in={line.order_id for line in lines})
            .select_related("user", "shop")
            .order_by("pk")
        }
        principal, bonus, refunding, promotion = _locked(
            [
                ledger.account(shop, AccountKind.STORED_PRINCIPAL, user),
                ledger.account(shop, AccountKind.STORED_BONUS, user),
                ledger.account(shop, AccountKind.STORED_REFUNDING, user),
                ledger.account(shop, AccountKind.PROMOTION_EXPENSE),
            ]
        )
        wanted = principal.balance_fen
        if wanted <= 0:
            raise NothingToRefund(_("没有可退还的储值本金"))
        asked = 0
        first_number = ""
        for line in lines:
            amount = min(refundable_left_fen(line), wanted - asked)
            if amount <= 0:
                continue
            refund = order_actions.refund_automatically(
                orders[line.order_id], line, _("会员申请退还未使用的储值本金"), amount_fen=amount
            )
            if refund is None:
                continue
            first_number = first_number or refund.number
            ledger.post(
                shop,
                f"storedvalue:ask:{refund.number}",
                [(principal, -amount), (refunding, amount)],
                memo=_("申请退还本金 %(number)s") % {"number": refund.number},
                require_non_negative=[principal],
            )
            asked += amount
            if asked == wanted:
                break
        if not asked:
            raise NothingToRefund(_("没有可退还的储值本金"))
        if bonus.balance_fen > 0:
            ledger.post(
                shop,
                f"storedvalue:forfeit:{first_number}",
                [(bonus, -bonus.balance_fen), (promotion, bonus.balance_fen)],
                memo=_("退还本金，赠送金额作废"),
                require_non_negative=[bonus],
            )
        audit.record(actor=user, shop=shop, action="storedvalue.principal_refund", obj=user, amount_fen=asked)
    return asked
