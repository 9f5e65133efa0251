"""Posting to the ledger: the one way money moves between accounts (see models).

    post(shop, "commission:freeze:line:42", [(expense, -300), (frozen, +300)], memo="…")

- The amounts must sum to zero (else ValueError: a programming error, never user input).
- ``reference`` is unique: posting it again returns the first transaction and writes nothing
  (a duplicate callback, a retried task).
- Accounts are locked in primary-key order and their balances moved by single-statement F()
  updates in the same transaction, so concurrent posts never lose an update nor deadlock.
- ``require_non_negative`` names accounts that must not go below zero after the post (e.g. a
  holder's AVAILABLE when withdrawing): the post is refused with InsufficientBalance instead.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from shequn.core.errors import Conflict

from .enums import AccountKind
from .models import Account, Entry, LedgerTransaction


class InsufficientBalance(Conflict):
    code = "insufficient_balance"


def account(shop: Any, kind: str, holder: Any = None) -> Account:
    """The account of ``kind`` for ``holder`` (None: the shop's own), created on first use."""
    holder_id = getattr(holder, "pk", holder)
    found = Account.objects.filter(shop=shop, holder_id=holder_id, kind=kind).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Account.objects.create(shop=shop, holder_id=holder_id, kind=kind)
    except IntegrityError:  # created by a parallel first use
        return Account.objects.get(shop=shop, holder_id=holder_id, kind=kind)


def post(
    shop: Any,
    reference: str,
    legs: Sequence[tuple[Account, int]],
    *,
    memo: str = "",
    require_non_negative: Iterable[Account] = (),
) -> tuple[LedgerTransaction, bool]:
    """Post one balanced movement; returns (transaction, created). See the module docstring."""
    per_account: dict[int, int] = defaultdict(int)
    for leg_account, amount in legs:
        per_account[leg_account.pk] += int(amount)
    if sum(per_account.values()) != 0:
        raise ValueError(f"ledger legs of {reference} do not sum to zero: {legs}")
    per_account = {pk: amount for pk, amount in per_account.items() if amount}
    if not per_account:
        raise ValueError(f"ledger post {reference} moves nothing")
    guarded = {a.pk for a in require_non_negative}
    with transaction.atomic():
        existing = LedgerTransaction.objects.filter(reference=reference).first()
        if existing is not None:
            return existing, False
        # Lock in primary-key order (every post does), then re-check the reference under the locks.
        list(Account.objects.select_for_update().filter(pk__in=sorted(per_account)).order_by("pk"))
        existing = LedgerTransaction.objects.filter(reference=reference).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                txn = LedgerTransaction.objects.create(shop=shop, reference=reference, memo=memo[:200])
        except IntegrityError:
            return LedgerTransaction.objects.get(reference=reference), False
        for pk in sorted(per_account):
            amount = per_account[pk]
            rows = Account.objects.filter(pk=pk)
            if pk in guarded and amount < 0:
                rows = rows.filter(balance_fen__gte=-amount)
            if rows.update(balance_fen=F("balance_fen") + amount) != 1:
                raise InsufficientBalance("余额不足", details={"account_id": pk, "amount_fen": -amount})
        Entry.objects.bulk_create(
            Entry(transaction=txn, account_id=pk, amount_fen=amount) for pk, amount in sorted(per_account.items())
        )
    return txn, True


def balance(shop: Any, kind: str, holder: Any = None) -> int:
    """The balance of an account (0 when it does not exist yet)."""
    holder_id = getattr(holder, "pk", holder)
    value = Account.objects.filter(shop=shop, holder_id=holder_id, kind=kind).values_list("balance_fen", flat=True)
    return next(iter(value), 0)


def entries_total(account_id: int) -> int:
    """The sum of an account's entries (what its balance must equal)."""
    return Entry.objects.filter(account_id=account_id).aggregate(total=Sum("amount_fen"))["total"] or 0


def holder_balances(shop: Any, holder: Any) -> dict[str, int]:
    """Every holder kind's balance for ``holder`` in ``shop`` (0 for accounts not opened yet)."""
    rows = dict(Account.objects.filter(shop=shop, holder=holder).values_list("kind", "balance_fen"))
    return {kind: rows.get(kind, 0) for kind in AccountKind.values if kind != AccountKind.COMMISSION_EXPENSE}
