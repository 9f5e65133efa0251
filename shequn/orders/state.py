"""The order and refund state machines: allowed moves, and the one place that makes them.

``transition`` moves an order with a conditional UPDATE (``WHERE status = <from>``), so
of two racing callers exactly one wins and the other gets ``InvalidTransition``; every
move writes an ``OrderEvent``.
"""

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core.errors import InvalidTransition

from .enums import Fulfilment, OrderStatus, PaymentMethod, RefundStatus
from .models import Order, OrderEvent, RefundRequest

S = OrderStatus

# Every move an order may make. Extra conditions (fulfilment, COD, paid) are in ``_refuse``.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED, S.CLOSED, S.SHIPPED, S.READY_FOR_PICKUP}),
    # completed: nothing to hand over; closed: refunded in full before anything was handed over
    S.PAID: frozenset({S.SHIPPED, S.READY_FOR_PICKUP, S.COMPLETED, S.CLOSED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.READY_FOR_PICKUP: frozenset({S.PICKED_UP}),
    S.PICKED_UP: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.CLOSED: frozenset({S.PAID}),  # a late payment of an unpaid order only, through reinstate_closed_order
}

REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    RefundStatus.REQUESTED: frozenset({RefundStatus.APPROVED, RefundStatus.REJECTED}),
    RefundStatus.APPROVED: frozenset({RefundStatus.REFUNDED, RefundStatus.FAILED}),
    RefundStatus.REJECTED: frozenset(),
    RefundStatus.REFUNDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}

_DELIVERY_ONLY = frozenset({S.SHIPPED, S.DELIVERED})
# Handing goods over: refused while the order is on hold.
_HAND_OVER = frozenset({S.SHIPPED, S.DELIVERED, S.READY_FOR_PICKUP, S.PICKED_UP})
_PICKUP_ONLY = frozenset({S.READY_FOR_PICKUP, S.PICKED_UP})

# The timestamp each status stamps on the order.
_STAMPS = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.PICKED_UP: "delivered_at",
    S.COMPLETED: "completed_at",
    S.CLOSED: "closed_at",
    S.CANCELLED: "closed_at",
}


def _refuse(order: Order, to_status: str, *, reinstate: bool) -> str | None:
    """Why ``order`` may not move to ``to_status`` (None when it may)."""
    from_status = order.status
    if to_status not in ORDER_TRANSITIONS.get(from_status, frozenset()):
        return _("订单状态为「%(label)s」，不能变为「%(label2)s」") % {
            "label": S(from_status).label,
            "label2": S(to_status).label,
        }
    if from_status == S.CLOSED and not reinstate:
        return _("已关闭的订单只能在收到迟到的付款时恢复")
    if from_status == S.CLOSED and order.paid_at is not None:
        return _("已全额退款的订单不能恢复")
    if from_status == S.PAID and to_status == S.CLOSED and order.refunded_fen < order.total_fen:
        return _("订单尚未全额退款，不能关闭")
    if order.fulfilment != Fulfilment.DELIVERY and {from_status, to_status} & _DELIVERY_ONLY:
        return _("自提订单不能发货或送达")
    if order.fulfilment != Fulfilment.PICKUP and {from_status, to_status} & _PICKUP_ONLY:
        return _("快递订单不能标记为待自提或已自提")
    if (
        from_status == S.PENDING_PAYMENT
        and to_status in (S.SHIPPED, S.READY_FOR_PICKUP)
        and order.payment_method != PaymentMethod.COD
    ):
        return _("订单尚未付款")
    if from_status == S.PENDING_PAYMENT and to_status == S.CLOSED and order.payment_method == PaymentMethod.COD:
        return _("货到付款订单不会超时关闭")
    if order.hold_reason and to_status in _HAND_OVER:
        return _("%(hold_reason)s，暂不能发货或备货") % {"hold_reason": order.hold_reason}
    if from_status == S.PAID and to_status == S.COMPLETED and order.fulfilment != Fulfilment.NONE:
        return _("订单尚未发货或自提，不能完成")
    if to_status == S.COMPLETED and order.paid_at is None:
        return _("订单尚未确认收款，不能完成")
    return None


def can_transition(order: Order, to_status: str) -> bool:
    return _refuse(order, to_status, reinstate=False) is None


def transition(
    order: Order,
    to_status: str,
    actor: Any = None,
    note: str = "",
    *,
    at: datetime | None = None,
    reinstate: bool = False,
    **fields: Any,
) -> OrderEvent:
    """Move ``order`` to ``to_status`` or raise ``InvalidTransition``; ``fields`` are saved with the move."""
    reason = _refuse(order, to_status, reinstate=reinstate)
    if reason is not None:
        raise InvalidTransition(reason, details={"from": order.status, "to": to_status})
    from_status = order.status
    at = at or timezone.now()
    values = dict(fields)
    stamp = _STAMPS.get(S(to_status))
    if stamp and stamp not in values:
        values[stamp] = at
    updated = Order.objects.filter(pk=order.pk, status=from_status).update(status=to_status, **values)
    if updated != 1:
        # Someone else moved the order first (a racing closer, a double click).
        raise InvalidTransition(_("订单状态已变化，请刷新后重试"), details={"from": from_status, "to": to_status})
    order.status = to_status
    for name, value in values.items():
        setattr(order, name, value)
    return OrderEvent.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note[:255],
    )


def transition_refund(
    refund: RefundRequest, to_status: str, actor: Any = None, note: str = "", **fields: Any
) -> OrderEvent:
    """Move a refund request; the event lands in the order's timeline with ``refund`` set."""
    from_status = refund.status
    if to_status not in REFUND_TRANSITIONS.get(from_status, frozenset()):
        raise InvalidTransition(
            _("售后状态为「%(label)s」，不能变为「%(label2)s」")
            % {"label": RefundStatus(from_status).label, "label2": RefundStatus(to_status).label},
            details={"from": from_status, "to": to_status},
        )
    updated = RefundRequest.objects.filter(pk=refund.pk, status=from_status).update(status=to_status, **fields)
    if updated != 1:
        raise InvalidTransition(_("售后状态已变化，请刷新后重试"), details={"from": from_status, "to": to_status})
    refund.status = to_status
    for name, value in fields.items():
        setattr(refund, name, value)
    return OrderEvent.objects.create(
        order_id=refund.order_id,
        refund=refund,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note[:255],
    )
