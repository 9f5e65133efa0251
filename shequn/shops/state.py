"""The shop lifecycle the platform drives: allowed moves, and the one place that makes them.

``transition`` moves a shop with a conditional UPDATE (``WHERE status = <from>``), so of two
platform admins acting at once exactly one wins; every move writes an audit entry in the
shop's log with the platform admin as actor and the reason.
"""

from typing import Any

from django.utils.translation import gettext as _

from shequn.core import audit
from shequn.core.errors import InvalidTransition

from .enums import ShopStatus
from .models import Shop

S = ShopStatus

SHOP_TRANSITIONS: dict[str, frozenset[str]] = {
    S.ACTIVE: frozenset({S.SUSPENDED, S.CLOSED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.CLOSED}),  # reinstate, or close for good
    S.CLOSED: frozenset(),  # data kept; nothing reopens it
}

# The audit action each move writes.
AUDIT_ACTIONS: dict[str, str] = {S.SUSPENDED: "shop.suspend", S.ACTIVE: "shop.reinstate", S.CLOSED: "shop.close"}


def transition(shop: Shop, to_status: str, *, actor: Any, reason: str, ip: str | None = None) -> Shop:
    from_status = shop.status
    if to_status not in SHOP_TRANSITIONS.get(from_status, frozenset()):
        raise InvalidTransition(
            _("店铺%(label)s，不能改为%(label2)s") % {"label": S(from_status).label, "label2": S(to_status).label},
            code="shop_transition_invalid",
            details={"from": from_status, "to": to_status},
        )
    # The shop keeps why it is paused or closed (its pages and console show it); a reinstated
    # shop has nothing to explain, and the reason for reinstating stays in the audit entry.
    shown_reason = "" if to_status == S.ACTIVE else reason[:200]
    rows = Shop.objects.filter(pk=shop.pk, status=from_status)
    if not rows.update(status=to_status, status_reason=shown_reason):
        raise InvalidTransition(_("店铺状态已被他人修改，请刷新后重试"), code="shop_transition_invalid")
    shop.status, shop.status_reason = to_status, shown_reason
    audit.record(
        actor=actor, shop=shop, action=AUDIT_ACTIONS[to_status], obj=shop, ip=ip, reason=reason,
        from_status=from_status, to_status=to_status,
    )  # fmt: skip
    return shop
