"""Allowed moves of a sale and of a claim; ``transition`` and ``transition_claim`` are the only
writers of their status, conditional on the old one, and each move is a ``FlashEvent``."""

from typing import Any

from shequn.core.errors import InvalidTransition

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
            f"活动状态为「{SaleStatus(from_status).label}」，不能变为「{SaleStatus(to_status).label}」",
            details={"from": from_status, "to": to_status},
        )
    if FlashSale.objects.filter(pk=sale.pk, status=from_status).update(status=to_status) != 1:
        raise InvalidTransition("活动状态已变化，请刷新后重试", details={"from": from_status, "to": to_status})
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
            f"抢购记录状态为「{ClaimStatus(from_status).label}」，不能变为「{ClaimStatus(to_status).label}」",
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
