"""Allowed moves of a sale and of a claim; ``transition`` and ``transition_claim`` are the only
writers of their status, conditional on the old one (``create_claims`` writes new claims in their
first status), and each move is a ``FlashEvent``."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core.errors import InvalidTransition
from shequn.core.sql import insert_rows

from .enums import ClaimStatus, SaleEventKind, SaleStatus
from .models import FlashClaim, FlashEvent, FlashSale

S = SaleStatus
C = ClaimStatus

SALE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SCHEDULED}),
    S.SCHEDULED: frozenset({S.RUNNING, S.PAUSED, S.ENDED}),
    S.RUNNING: frozenset({S.PAUSED, S.ENDED}),
    S.PAUSED: frozenset({S.RUNNING, S.SCHEDULED, S.ENDED}),
    S.ENDED: frozenset(),
}

CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    C.ADMITTED: frozenset({C.ORDERED, C.RELEASED}),
    C.ORDERED: frozenset({C.RELEASED}),  # its unpaid order closed or was cancelled
    C.RELEASED: frozenset({C.ORDERED}),  # a late payment reinstated its order and the gate gave the unit again
}


def transition(sale: FlashSale, to_status: str, actor: Any = None, note: str = "") -> FlashEvent:
    from_status = sale.status
    if to_status not in SALE_TRANSITIONS[from_status]:
        raise InvalidTransition(
            _("活动状态为「%(from)s」，不能变为「%(to)s」")
            % {"from": SaleStatus(from_status).label, "to": SaleStatus(to_status).label},
            details={"from": from_status, "to": to_status},
        )
    if FlashSale.objects.filter(pk=sale.pk, status=from_status).update(status=to_status) != 1:
        raise InvalidTransition(_("活动状态已变化，请刷新后重试"), details={"from": from_status, "to": to_status})
    sale.status = to_status
    return FlashEvent.objects.create(
        kind=SaleEventKind.SALE,
        sale=sale,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note[:255],
    )


def transition_claim(claim: FlashClaim, to_status: str, *, sale_id: int, note: str = "", **fields: Any) -> bool:
    """Move ``claim``; False (and nothing written) when another writer moved it first, so a
    caller that gives units back does so exactly once."""
    from_status = claim.status
    if to_status not in CLAIM_TRANSITIONS[from_status]:
        raise InvalidTransition(
            _("抢购记录状态为「%(from)s」，不能变为「%(to)s」")
            % {"from": ClaimStatus(from_status).label, "to": ClaimStatus(to_status).label},
            details={"from": from_status, "to": to_status},
        )
    if FlashClaim.objects.filter(pk=claim.pk, status=from_status).update(status=to_status, **fields) != 1:
        return False
    claim.status = to_status
    for name, value in fields.items():
        setattr(claim, name, value)
    FlashEvent.objects.create(
        kind=SaleEventKind.CLAIM,
        sale_id=sale_id,
        claim=claim,
        from_status=from_status,
        to_status=to_status,
        note=note[:255],
    )
    return True


@dataclass(frozen=True)
class NewClaim:
    """A claim the consumer read from the gate, in the status it ends its first transaction in:
    ordered (with its order) or released (with the reason shown to the member)."""

    claim_id: str
    item_id: int
    sale_id: int
    user_id: int
    quantity: int
    admitted_at: datetime
    status: str
    order_id: int | None = None
    reason: str = ""
    note: str = ""
    returned_to_gate: bool = False  # a released claim whose units never left the gate (a surplus)


def create_claims(claims: Sequence[NewClaim]) -> set[str]:
    """Write ``claims`` and their first move (admitted → ordered or released) in the history, two
    statements for any number. A claim id already in the table is skipped (``ON CONFLICT DO
    NOTHING``: the unique ``claim_id`` is the consumer's idempotency key). Returns the claim ids
    written."""
    if not claims:
        return set()
    for claim in claims:
        if claim.status not in CLAIM_TRANSITIONS[C.ADMITTED]:
            raise InvalidTransition(
                _("抢购记录不能直接记为「%(status)s」") % {"status": ClaimStatus(claim.status).label}
            )
    now = timezone.now()
    written = {
        claim_id: pk
        for pk, claim_id in insert_rows(
            FlashClaim,
            (
                "claim_id",
                "item",
                "user",
                "quantity",
                "status",
                "order",
                "reason",
                "returned_to_gate",
                "admitted_at",
                "created_at",
            ),
            [
                (
                    c.claim_id,
                    c.item_id,
                    c.user_id,
                    c.quantity,
                    c.status,
                    c.order_id,
                    c.reason[:200],
                    c.returned_to_gate,
                    c.admitted_at,
                    now,
                )
                for c in claims
            ],
            conflict="ON CONFLICT (claim_id) DO NOTHING",
            returning=("id", "claim_id"),
        )
    }
    insert_rows(
        FlashEvent,
        ("kind", "sale", "claim", "from_status", "to_status", "actor", "note", "created_at"),
        [
            (SaleEventKind.CLAIM, c.sale_id, written[c.claim_id], C.ADMITTED, c.status, None, c.note[:255], now)
            for c in claims
            if c.claim_id in written
        ],
    )
    return set(written)
