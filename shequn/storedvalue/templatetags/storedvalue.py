"""``{% balance_option order %}``: the "use my balance" choice of an unpaid order's pay form."""

from typing import Any

from django import template

from shequn.catalog.kinds import ProductKind

from ..selectors import charge_of, member_balances

register = template.Library()


@register.inclusion_tag("storedvalue/_balance_option.html")
def balance_option(order: Any) -> dict[str, Any]:
    """Offered until the payment starts (then the balance part is fixed: ``payments.start_payment``)."""
    started = getattr(order, "payment", None) is not None  # the reverse one-to-one: absent until started
    if started or order.kind == ProductKind.STORED_VALUE:
        return {"usable_fen": 0}
    usable = member_balances(order.shop_id, order.user_id).usable_fen
    return {"usable_fen": usable, "covers": usable >= order.total_fen}


@register.inclusion_tag("storedvalue/_balance_paid.html")
def balance_paid(order: Any) -> dict[str, Any]:
    """The part of the order paid from balances, and what of it went back there (refunds)."""
    charge = charge_of(order)
    if charge is None or charge.released:
        return {"charge": None}
    return {"charge": charge, "returned_fen": charge.amount_fen - sum(charge.left)}
