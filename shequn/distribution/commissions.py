"""The commission lifecycle, driven by the orders signals (receivers are idempotent).

- Paid: for each line, commission on what the buyer actually paid for it (its total less its
  share of the coupon, ``OrderLine.paid_fen``) net of refunds so far → the buyer's promoter (tier 1) and, if
  the shop enables it, that promoter's own promoter (tier 2); frozen in wallets.
- Refunded: commission comes back in proportion to the refunded amount, from frozen if not
  settled yet, else from available (which may go negative: a debt later commission pays back).
- Completed (every line's after-sales window closed): a periodic sweep settles what is left,
  in batches, set-based (one ledger transaction per promoter and batch).
Nobody earns for a sign-up: commission only ever starts from a paid order line, and never from
a community's membership fee (that would be paying per recruit).
"""

from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, Count, Exists, F, Min, OuterRef, Sum, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shequn.catalog.kinds import ProductKind
from shequn.core.i18n import in_language_of, readers_by_language
from shequn.core.money import FormatFen, format_fen, percent_of
from shequn.notifications.actions import notify, notify_from
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order, OrderLine
from shequn.wallets import flows

from . import selectors
from .enums import CommissionStatus, PromoterStatus, RuleKind
from .models import Commission, CommissionRule, Promoter

SETTLE_BATCH = 10_000
LINK = "/promoter/"


def _sql_sentence(template: str, value: Any) -> Concat:
    """A translated sentence around one value computed in SQL: the words either side of ``%(n)s``."""
    before, after = template.split("%(n)s")
    return Concat(Value(before), value, Value(after))


def line_paid_amounts(order: Order) -> dict[int, int]:
    """What the buyer paid for each line: its total less its share of the order's coupon, as
    checkout stored it (``OrderLine.paid_fen``)."""
    return {line.pk: line.paid_fen for line in order.lines.all()}


def commission_amount(rule: CommissionRule, tier: int, base_fen: int, quantity: int, extra_bp: int = 0) -> int:
    value = rule.tier1_value if tier == 1 else rule.tier2_value
    if value == 0 or base_fen <= 0:
        return 0
    if rule.kind == RuleKind.PERCENT:
        return percent_of(base_fen, value + (extra_bp if tier == 1 else 0))
    return min(base_fen, value * quantity)


def _earners(order: Order) -> list[tuple[int, Promoter]]:
    """(tier, promoter) for the buyer: their bound promoter and, if enabled, that promoter's own."""
    binding = selectors.active_binding(order.shop, order.user)
    if binding is None or binding.promoter.status != PromoterStatus.APPROVED:
        return []
    settings = selectors.shop_settings(order.shop)
    if not settings.enabled:
        return []
    tier1 = binding.promoter
    if tier1.user_id == order.user_id:
        return []
    earners = [(1, tier1)]
    if settings.tier2_enabled:
        tier2 = selectors.upline(tier1)
        if tier2 is not None and tier2.user_id not in (order.user_id, tier1.user_id):
            earners.append((2, tier2))
    return earners


def freeze_reference(tier: int, line_id: int) -> str:
    return f"commission:{tier}:line:{line_id}"


def on_order_paid(sender: Any, order: Order, **kwargs: Any) -> None:
    if order.kind == ProductKind.MEMBERSHIP:
        # A community's fee earns nobody commission: paying for bringing in fee-paying members
        # is paying per recruit (RULES.md, anti-pyramid), however the fee is called.
        return
    if order.kind == ProductKind.STORED_VALUE:
        return  # a top-up buys nothing yet: the orders later paid from the balance earn the commission
    earners = _earners(order)
    if not earners:
        return
    paid = line_paid_amounts(order)
    levels = {p.pk: selectors.promoter_level(p) for _, p in earners}
    for line in order.lines.select_related("product"):
        base = max(0, paid[line.pk] - line.refunded_fen)
        rule = selectors.rule_for(order.shop, line.product)
        if rule is None:
            continue
        for tier, promoter in earners:
            level = levels[promoter.pk]
            amount = commission_amount(rule, tier, base, line.quantity, level.extra_bp if level else 0)
            if amount <= 0:
                continue
            _commission, created = Commission.objects.get_or_create(
                line=line,
                tier=tier,
                defaults={
                    "shop": order.shop,
                    "promoter": promoter,
                    "order": order,
                    "base_fen": base,
                    "amount_fen": amount,
                },
            )
            if created:
                flows.freeze(
                    order.shop,
                    promoter.user,
                    amount,
                    reference=freeze_reference(tier, line.pk),
                    memo=_("订单 %(pk)s 第%(tier)s级佣金") % {"pk": order.pk, "tier": tier},
                )
                with in_language_of(promoter.user):
                    notify(
                        promoter.user,
                        shop=order.shop,
                        kind="distribution",
                        title=_("新佣金 %(amount)s（冻结中）") % {"amount": format_fen(amount)},
                        body=_("售后期结束后结算为可提现"),
                        link="/promoter/",
                    )


def on_line_refunded(sender: Any, order: Order, line: OrderLine, amount_fen: int, **kwargs: Any) -> None:
    """Take back commission in proportion to the line's refunded total (idempotent per refund total)."""
    line.refresh_from_db(fields=["refunded_fen"])
    for commission in (
        Commission.objects.select_for_update(of=("self",)).filter(line=line).select_related("promoter__user")
    ):
        if commission.base_fen <= 0:
            continue
        refunded = min(line.refunded_fen, commission.base_fen)
        target = (commission.amount_fen * refunded + commission.base_fen // 2) // commission.base_fen
        if refunded >= commission.base_fen:
            target = commission.amount_fen
        delta = min(target, commission.amount_fen) - commission.reversed_fen
        if delta <= 0:
            continue
        frozen = commission.status == CommissionStatus.FROZEN
        flows.reverse(
            commission.shop,
            commission.promoter.user,
            delta,
            frozen=frozen,
            reference=f"commission-reverse:{commission.tier}:line:{line.pk}:{target}",
            memo=_("订单 %(pk)s 退款，退回佣金") % {"pk": order.pk},
        )
        commission.reversed_fen = F("reversed_fen") + delta
        fields = ["reversed_fen"]
        if frozen and target >= commission.amount_fen:
            commission.status = CommissionStatus.REVERSED
            fields.append("status")
        commission.save(update_fields=fields)


def settle_completed(limit: int = SETTLE_BATCH) -> int:
    """Settle one batch of frozen commission on completed orders; returns how many it settled
    (fewer than ``limit``: nothing is left).

    The batch's rows are locked (rows another sweep holds are skipped) and marked settled (or
    reversed, when refunds took all of it) in one update; then set-based, whatever the batch
    holds: each promoter's part (what is left after reversals) moves FROZEN → AVAILABLE in one
    ledger transaction (a debt from an earlier reversal is paid back first, being on the same
    AVAILABLE account), and each promoter is told once. Only the batch's ids come to Python; a
    fixed number of statements per batch, however many promoters it pays."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Commission.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=CommissionStatus.FROZEN)  # walked in id order through commission_frozen_idx
            .filter(Exists(Order.objects.filter(pk=OuterRef("order_id"), status=OrderStatus.COMPLETED)))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return 0
        # The id range (the ids come in order) lets the planner walk the primary key over the
        # batch instead of testing every commission row against the list.
        batch = Commission.objects.filter(pk__range=(ids[0], ids[-1]), pk__any_of=ids)
        batch.update(
            status=Case(
                When(amount_fen__gt=F("reversed_fen"), then=Value(CommissionStatus.SETTLED)),
                default=Value(CommissionStatus.REVERSED),
            ),
            settled_at=now,
        )
        earned = (
            batch.values("shop_id", "promoter_id", "promoter__user_id")
            .annotate(
                left=Sum(F("amount_fen") - F("reversed_fen")), first=Min("id"), orders=Count("order_id", distinct=True)
            )
            .filter(left__gt=0)
        )
        orders = Cast("orders", CharField())
        flows.settle_from(
            earned.values_list(
                "shop_id",
                "promoter__user_id",
                "left",
                Concat(
                    Value("commission-settle:"),
                    Cast("promoter_id", CharField()),
                    Value(":"),
                    Cast("first", CharField()),
                ),
                _sql_sentence(_("%(n)s 笔订单售后期结束，佣金结算"), orders),
            )
        )
        for language, readers in readers_by_language("promoter__user__language"):
            with translation.override(language):
                title = _sql_sentence(_("佣金 %(n)s 已结算，可提现"), FormatFen("left"))
                note = _sql_sentence(_("%(n)s 笔订单售后期已结束"), orders)
            notify_from(
                earned.filter(readers).values_list(
                    "promoter__user_id", "shop_id", Value("distribution"), title, note, Value(LINK), Value(now)
                )
            )
    return len(ids)
