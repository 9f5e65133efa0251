"""The points ledger: the one way points move (the discipline of ``wallets.ledger``, in points).

    move(shop, "points:earn:order:42", PointsAccountKind.ISSUED, PointsAccountKind.PENDING, member, 35)

- Every movement is one ``PointsTransaction`` whose entries sum to zero; ``reference`` is unique, so
  posting it again writes nothing and returns False (a retried task, a second callback).
- The accounts are locked in primary-key order and their balances moved by single-statement
  ``F()`` updates in the same transaction; a member's account never goes below zero (the debit is
  a conditional UPDATE, refused with ``InsufficientPoints``).
- Points are not money: they have their own ledger, so wallet pages, payouts and the money
  liabilities never see them (ADR 0020).
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from .enums import MEMBER_KINDS, SHOP_KINDS
from .errors import InsufficientPoints
from .models import PointsAccount, PointsEntry, PointsTransaction


def account(shop: Any, kind: str, holder: Any = None) -> PointsAccount:
    """The ``kind`` account of ``holder`` (None: the shop's own), created on first use."""
    holder_id = getattr(holder, "pk", holder)
    rows = PointsAccount.objects.filter(shop=shop, kind=kind, holder_id=holder_id)
    found = rows.first()
    if found is None:
        # ignore_conflicts: a parallel first use may create it first.
        PointsAccount.objects.bulk_create(
            [PointsAccount(shop=shop, kind=kind, holder_id=holder_id)], ignore_conflicts=True
        )
        found = rows.get()
    return found


def _shop_side(kind: str) -> bool:
    return kind in SHOP_KINDS


def move(shop: Any, reference: str, source: str, target: str, holder: Any, points: int, *, memo: str = "") -> bool:
    """Move ``points`` (> 0) from the ``source`` account to the ``target`` one, each the shop's own
    (shop kinds) or ``holder``'s (member kinds). Returns False when ``reference`` was posted before.
    A member account as the source may not go below zero (``InsufficientPoints``)."""
    if points <= 0:
        raise ValueError(f"points move {reference} must be positive: {points}")
    legs = [
        (account(shop, source, None if _shop_side(source) else holder), -points),
        (account(shop, target, None if _shop_side(target) else holder), points),
    ]
    with transaction.atomic():
        if PointsTransaction.objects.filter(reference=reference).exists():
            return False
        locked = sorted(leg.pk for leg, _amount in legs)
        list(PointsAccount.objects.select_for_update().filter(pk__in=locked).order_by("pk").values_list("pk"))
        try:
            with transaction.atomic():
                txn = PointsTransaction.objects.create(shop=shop, reference=reference, memo=memo[:200])
        except IntegrityError:
            return False  # posted meanwhile (SQLite, which does not lock rows)
        for leg, amount in sorted(legs, key=lambda pair: pair[0].pk):
            rows = PointsAccount.objects.filter(pk=leg.pk)
            if amount < 0 and leg.kind in MEMBER_KINDS:
                rows = rows.filter(balance__gte=-amount)
            if rows.update(balance=F("balance") + amount) != 1:
                raise InsufficientPoints(_("积分不足"), details={"points": -amount})
        PointsEntry.objects.bulk_create(
            PointsEntry(transaction=txn, account=leg, points=amount) for leg, amount in legs
        )
    return True


def balance(shop: Any, kind: str, holder: Any = None) -> int:
    """An account's balance (0 when it does not exist yet)."""
    holder_id = getattr(holder, "pk", holder)
    rows = PointsAccount.objects.filter(shop=shop, holder_id=holder_id, kind=kind).values_list("balance", flat=True)
    return next(iter(rows), 0)


def member_balances(shop: Any, holder: Any) -> dict[str, int]:
    """A member's pending and available points in ``shop`` (0 for accounts not opened yet)."""
    rows = dict(PointsAccount.objects.filter(shop=shop, holder=holder).values_list("kind", "balance"))
    return {kind: rows.get(kind, 0) for kind in MEMBER_KINDS}


# --- invariants a state machine (and the console's report) can check ---------------------------


def books_balance(shop: Any) -> int:
    """The sum of every points account of ``shop``: always 0."""
    return PointsAccount.objects.filter(shop=shop).aggregate(total=Sum("balance"))["total"] or 0


def entries_match_balances(shop: Any) -> bool:
    """Every account's balance equals the sum of its entries, every transaction sums to zero, and no
    member account is negative."""
    accounts = PointsAccount.objects.filter(shop=shop).annotate(total=Sum("entries__points"))
    if any((row.total or 0) != row.balance for row in accounts):
        return False
    if any(row.balance < 0 for row in accounts if row.kind in MEMBER_KINDS):
        return False
    unbalanced = (
        PointsTransaction.objects.filter(shop=shop).annotate(total=Sum("entries__points")).exclude(total=0).exists()
    )
    return not unbalanced


def outstanding(shop: Any) -> dict[str, int]:
    """What members of ``shop`` hold (pending and available): the points liability. Equals minus
    the sum of the shop's own accounts (``books_balance`` is 0)."""
    rows = dict(
        PointsAccount.objects.filter(shop=shop, kind__in=MEMBER_KINDS)
        .values("kind")
        .annotate(total=Sum("balance"))
        .values_list("kind", "total")
    )
    return {kind: rows.get(kind) or 0 for kind in MEMBER_KINDS}
