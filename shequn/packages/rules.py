"""What the packages app decides about orders of kind ``package`` (``catalog.kinds``) and about
packages sent as gifts (``gifts.kinds``). Each delegates to ``actions``."""

from typing import Any

from django.urls import reverse

from shequn.catalog.kinds import KindRules
from shequn.core.errors import DomainError

from . import actions


class PackageRules(KindRules):
    def check_purchase(self, user: Any, sku: Any, quantity: int) -> None:
        actions.check_purchase(user, sku, quantity)

    def paid(self, order: Any, line: Any) -> str | None:
        actions.grant(order, line)
        return None

    def refund_refusal(self, order: Any, line: Any) -> DomainError | None:
        return actions.refund_refusal(order, line)

    def landing_url(self, order: Any) -> str | None:
        return actions.landing_path(order)


class PackageGiftRules:
    def claim(self, gift: Any, recipient: Any) -> None:
        actions.claim_gift(gift.subject_id, recipient)

    def refund(self, gift: Any) -> None:
        actions.refund_gift(gift.subject_id)

    def claimed_url(self, gift: Any) -> str:
        return reverse("packages:mine_detail", args=[gift.subject_id])
