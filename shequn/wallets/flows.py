"""The money flows other apps use (the contract with distribution and fulfilment).

    freeze(shop, holder, amount_fen, *, reference, memo="")       COMMISSION_EXPENSE → FROZEN
    settle(shop, holder, amount_fen, *, reference, memo="")       FROZEN → AVAILABLE
    settle_from(moves)   the same for a batch, set-based: moves is a query of
                         (shop id, holder id, amount_fen, reference, memo)
    reverse(shop, holder, amount_fen, *, frozen, reference, memo="")
        FROZEN (frozen=True) or AVAILABLE (frozen=False; may go negative = a debt that later
        settles pay back, since they land on the same AVAILABLE account) → COMMISSION_EXPENSE
    credit_available(shop, holder, amount_fen, *, reference, memo="")  COMMISSION_EXPENSE → AVAILABLE

Each returns the ledger transaction; the same reference moves money once (a second call returns the
first transaction and writes nothing). Amounts must be positive integers (fen). ``settle_from``
returns how many it posted and refuses (IntegrityError) a reference posted before.
"""

from typing import Any

from django.db.models import QuerySet

from . import ledger
from .enums import AccountKind
from .models import LedgerTransaction


def _amount(amount_fen: int) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValueError(f"a ledger flow moves a positive integer of fen, not {amount_fen!r}")
    return amount_fen


def _move(
    shop: Any, holder: Any, source: str, target: str, amount_fen: int, reference: str, memo: str
) -> LedgerTransaction:
    amount = _amount(amount_fen)
    source_account = ledger.account(shop, source, None if source == AccountKind.COMMISSION_EXPENSE else holder)
    target_account = ledger.account(shop, target, None if target == AccountKind.COMMISSION_EXPENSE else holder)
    txn, _ = ledger.post(shop, reference, [(source_account, -amount), (target_account, amount)], memo=memo)
    return txn


def freeze(shop: Any, holder: Any, amount_fen: int, *, reference: str, memo: str = "") -> LedgerTransaction:
    """Commission earned on a paid order, held until the after-sales window closes."""
    return _move(shop, holder, AccountKind.COMMISSION_EXPENSE, AccountKind.FROZEN, amount_fen, reference, memo)


def settle(shop: Any, holder: Any, amount_fen: int, *, reference: str, memo: str = "") -> LedgerTransaction:
    """Frozen commission becomes withdrawable."""
    return _move(shop, holder, AccountKind.FROZEN, AccountKind.AVAILABLE, amount_fen, reference, memo)


def settle_from(moves: QuerySet[Any]) -> int:
    """``settle`` for every row of ``moves`` without bringing them to Python (a settlement sweep);
    see ``ledger.post_holder_moves``. Returns how many were posted."""
    return ledger.post_holder_moves(moves, AccountKind.FROZEN, AccountKind.AVAILABLE)


def reverse(
    shop: Any, holder: Any, amount_fen: int, *, frozen: bool, reference: str, memo: str = ""
) -> LedgerTransaction:
    """A refund takes commission back, from FROZEN (not settled yet) or AVAILABLE (settled; may
    leave a debt)."""
    source = AccountKind.FROZEN if frozen else AccountKind.AVAILABLE
    return _move(shop, holder, source, AccountKind.COMMISSION_EXPENSE, amount_fen, reference, memo)


def credit_available(shop: Any, holder: Any, amount_fen: int, *, reference: str, memo: str = "") -> LedgerTransaction:
    """Money earned outright (a confirmed group-buy leader settlement): withdrawable at once."""
    return _move(shop, holder, AccountKind.COMMISSION_EXPENSE, AccountKind.AVAILABLE, amount_fen, reference, memo)


def pay_out_externally(shop: Any, holder: Any, amount_fen: int, *, reference: str, memo: str = "") -> LedgerTransaction:
    """Money already sent to the holder outside the wallet (e.g. finance's bank transfer for a
    leader settlement): AVAILABLE → PAID_OUT, refused with InsufficientBalance if the holder no
    longer has it (already withdrawn), so the same money is never paid twice."""
    amount = _amount(amount_fen)
    available = ledger.account(shop, AccountKind.AVAILABLE, holder)
    paid_out = ledger.account(shop, AccountKind.PAID_OUT, holder)
    txn, _ = ledger.post(
        shop, reference, [(available, -amount), (paid_out, amount)], memo=memo, require_non_negative=[available]
    )
    return txn
