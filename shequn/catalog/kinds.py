"""Product kinds: physical goods, and the things a community sells through the same orders.

A paid community's fee, a course and an event ticket are products of their own kind, sold
through the ordinary checkout and payment flow (one order, one payment, one refund path).
The app that owns a kind registers its ``KindRules`` in ``AppConfig.ready()``; the orders app
calls them at the moments that matter, inside the same transaction:

- ``check_purchase``   at checkout (and again when the order is created): refuse with a
                       ``DomainError`` (e.g. the recruitment window is closed, the event is full);
- ``paid``             when the order is paid (grant the membership, the seat, the enrolment);
                       it may instead return a reason (the last seat went while the member
                       was paying): the orders app then refunds the line in full at once;
- ``released``         when an unpaid order is closed or cancelled (give a held seat back);
- ``refund_refusal``   whether a line may be refunded now (e.g. only within 3 days of joining);
- ``auto_approves_refund`` whether a member's refund request is approved by rule, at once;
- ``refunded``         when the gateway confirmed a refund of the line (end the membership);
- ``landing_url``      where the member goes once the order is paid (the community, the course).

Orders of a non-goods kind hold no goods: no address, no shipping, cash on delivery refused,
and they complete as soon as they are paid. One order holds one kind only.
"""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy

from shequn.core.errors import DomainError


class ProductKind(models.TextChoices):
    GOODS = "goods", gettext_lazy("实物商品")
    MEMBERSHIP = "membership", gettext_lazy("社群会员")
    COURSE = "course", gettext_lazy("课程")
    TICKET = "ticket", gettext_lazy("活动门票")
    PACKAGE = "package", gettext_lazy("套餐卡")  # N portions of an item, paid now, redeemed over time
    STORED_VALUE = "stored_value", gettext_lazy("储值卡")  # a top-up of the member's balance (storedvalue)


class KindRules:
    """What the owner of a product kind decides. The defaults suit a kind that needs nothing."""

    def check_purchase(self, user: Any, sku: Any, quantity: int) -> None:
        """Raise a ``DomainError`` when ``user`` may not buy ``quantity`` of ``sku`` now."""

    def paid(self, order: Any, line: Any) -> str | None:
        """``order`` was paid; ``line`` is one of its lines of this kind.

        Return None when granted, or a reason shown to the member when it cannot be granted
        any more (then the line is refunded in full automatically).
        """
        return None

    def released(self, order: Any, line: Any) -> None:
        """``order`` was closed or cancelled before payment."""

    def refund_refusal(self, order: Any, line: Any) -> DomainError | None:
        """Why ``line`` may not be refunded now (None when it may)."""
        return None

    def auto_approves_refund(self, order: Any, line: Any) -> bool:
        """True when a member's request for ``line`` is approved by rule, without staff."""
        return False

    def refunded(self, order: Any, line: Any, amount_fen: int) -> None:
        """The gateway confirmed ``amount_fen`` of ``line`` went back to the member."""

    def landing_url(self, order: Any) -> str | None:
        """Where a paid order of this kind takes the member (None: the order page)."""
        return None


_RULES: dict[str, KindRules] = {}
_GOODS = KindRules()


def register(kind: str, rules: KindRules) -> None:
    """Called once per kind from the owning app's ``ready()``."""
    if kind not in ProductKind.values or kind == ProductKind.GOODS:
        raise ValueError(f"unknown or reserved product kind: {kind}")
    _RULES[kind] = rules


def rules_for(kind: str) -> KindRules:
    return _RULES.get(kind, _GOODS)


def is_goods(kind: str) -> bool:
    return kind == ProductKind.GOODS
