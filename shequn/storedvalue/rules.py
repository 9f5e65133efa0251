"""What the storedvalue app decides about orders of kind ``stored_value`` (see ``catalog.kinds``)."""

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from shequn.catalog.kinds import KindRules
from shequn.core.errors import DomainError
from shequn.orders.errors import NotReturnable

from . import actions


class TopUpRules(KindRules):
    def check_purchase(self, user: Any, sku: Any, quantity: int) -> None:
        actions.check_purchase(sku)

    def paid(self, order: Any, line: Any) -> str | None:
        actions.credit_top_up(order, line)
        return None

    def refund_refusal(self, order: Any, line: Any) -> DomainError | None:
        # Money topped up comes back only as unused principal (the balance page), never by the order.
        return NotReturnable(_("储值请在「我的余额」申请退还未使用的本金"), code="top_up_not_refundable")

    def refunded(self, order: Any, line: Any, amount_fen: int) -> None:
        actions.principal_paid_back(order, line, amount_fen)

    def landing_url(self, order: Any) -> str | None:
        return reverse("storedvalue:balance")
