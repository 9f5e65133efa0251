"""The ``ticket`` product kind's rules: the orders app calls them inside its transactions
(see ``catalog.kinds``); each delegates to one function of ``events.actions``."""

from typing import Any

from shequn.catalog.kinds import KindRules
from shequn.core.errors import DomainError

from . import actions


class TicketRules(KindRules):
    def check_purchase(self, user: Any, sku: Any, quantity: int) -> None:
        actions.check_ticket_purchase(user, sku, quantity)

    def paid(self, order: Any, line: Any) -> str | None:
        return actions.grant_ticket(order, line)

    def released(self, order: Any, line: Any) -> None:
        actions.ticket_released(order, line)

    def refund_refusal(self, order: Any, line: Any) -> DomainError | None:
        return actions.ticket_refund_refusal(order, line)

    def auto_approves_refund(self, order: Any, line: Any) -> bool:
        return actions.ticket_refund_refusal(order, line) is None

    def refunded(self, order: Any, line: Any, amount_fen: int) -> None:
        actions.ticket_refunded(order, line, amount_fen)

    def landing_url(self, order: Any) -> str | None:
        return actions.ticket_landing_url(order)
