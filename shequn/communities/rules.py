"""The membership fee as a product kind: what the orders app asks the communities app (ADR 0003).

The orders app calls these inside its own transactions; each delegates to one action.
"""

from typing import Any

from django.urls import reverse

from shequn.catalog.kinds import KindRules
from shequn.core.errors import DomainError

from . import actions, selectors


class MembershipRules(KindRules):
    def check_purchase(self, user: Any, sku: Any, quantity: int) -> None:
        actions.check_fee_purchase(user, sku, quantity)

    def paid(self, order: Any, line: Any) -> str | None:
        return actions.grant_paid_membership(order, line)

    def refund_refusal(self, order: Any, line: Any) -> DomainError | None:
        return actions.fee_refund_refusal(order, line)

    def auto_approves_refund(self, order: Any, line: Any) -> bool:
        # Inside the refund window the fee comes back without waiting for staff.
        return actions.fee_refund_refusal(order, line) is None and actions.has_term(line)

    def refunded(self, order: Any, line: Any, amount_fen: int) -> None:
        actions.end_refunded_term(order, line, amount_fen)

    def landing_url(self, order: Any) -> str | None:
        line = order.lines.first()
        if line is None:
            return None
        community = selectors.community_of_product(line.product_id)
        return reverse("communities:community_home", args=[community.pk])
