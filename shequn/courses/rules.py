"""What the courses app decides about orders of kind ``course`` (see ``catalog.kinds``).

The orders app calls these inside its transactions; each delegates to ``actions``.
"""

from typing import Any

from shequn.catalog.kinds import KindRules
from shequn.core.errors import DomainError

from . import actions


class CourseRules(KindRules):
    def check_purchase(self, user: Any, sku: Any, quantity: int) -> None:
        """Refuse a member who is not in the community, is already enrolled, or picked a cohort
        that started or is full; refuse a course that is not published."""
        actions.check_purchase(user, sku, quantity)

    def paid(self, order: Any, line: Any) -> str | None:
        return actions.grant_paid_enrolment(order, line)

    def refund_refusal(self, order: Any, line: Any) -> DomainError | None:
        return actions.refund_refusal(order, line)

    def auto_approves_refund(self, order: Any, line: Any) -> bool:
        return actions.auto_approves_refund(order, line)

    def refunded(self, order: Any, line: Any, amount_fen: int) -> None:
        actions.end_paid_enrolment(order, line, amount_fen)

    def landing_url(self, order: Any) -> str | None:
        return actions.landing_path(order)
