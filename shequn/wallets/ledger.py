"""Posting to the ledger: the one way money moves between accounts (see models).

    post(shop, "commission:freeze:line:42", [(expense, -300), (frozen, +300)], memo="…")
    post_many(shop, [Posting("commission-settle:7:901", [(frozen, -900), (available, +900)]), …])

- The amounts of each posting must sum to zero (else ValueError: a programming error, never user
  input).
- ``reference`` is unique: posting it again returns the first transaction and writes nothing
  (a duplicate callback, a retried task). One reference names one movement, always the same legs.
- Accounts are locked in primary-key order and their balances moved by single-statement F()
  updates in the same transaction, so concurrent posts never lose an update nor deadlock.
- ``require_non_negative`` names accounts that must not go below zero after the post (e.g. a
  holder's AVAILABLE when withdrawing): the post is refused with InsufficientBalance instead.
- ``post_many`` writes a batch in a fixed number of statements: one lock query, one insert of
  transactions, one prepared balance update run for every account, one insert of entries.
- ``post_holder_moves`` is the set-based form for thousands of moves between two accounts of
  each holder (a settlement sweep): the moves are a query, and no move comes to Python;
  ``post_to_holders`` the same from one account (a shop's) to many holders (red-packet grabs).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import F, QuerySet, Sum
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core.errors import Conflict

from .enums import HOLDER_KINDS
from .models import Account, Entry, LedgerTransaction


class InsufficientBalance(Conflict):
    code = "insufficient_balance"


@dataclass(frozen=True)
class Posting:
    reference: str
    legs: Sequence[tuple[Account, int]]
    memo: str = ""


def accounts(shop: Any, kind: str, holders: Iterable[Any]) -> dict[int | None, Account]:
    """The ``kind`` accounts of ``holders`` (None: the shop's own) by holder id, created on first use."""
    holder_ids = {getattr(holder, "pk", holder) for holder in holders}
    rows = Account.objects.filter(shop=shop, kind=kind)

    def existing() -> dict[int | None, Account]:
        found: dict[int | None, Account] = {}
        if None in holder_ids:
            found.update((a.holder_id, a) for a in rows.filter(holder__isnull=True))
        ids = [pk for pk in holder_ids if pk is not None]
        if ids:
            found.update((a.holder_id, a) for a in rows.filter(holder_id__in=ids))
        return found

    found = existing()
    missing = holder_ids - found.keys()
    if missing:
        # ignore_conflicts: a parallel first use may create some of them first.
        Account.objects.bulk_create(
            [Account(shop=shop, kind=kind, holder_id=holder_id) for holder_id in missing], ignore_conflicts=True
        )
        found = existing()
    return found


def account(shop: Any, kind: str, holder: Any = None) -> Account:
    """The account of ``kind`` for ``holder`` (None: the shop's own), created on first use."""
    return accounts(shop, kind, [holder])[getattr(holder, "pk", holder)]


def _net_legs(posting: Posting) -> dict[int, int]:
    per_account: dict[int, int] = defaultdict(int)
    for leg_account, amount in posting.legs:
        per_account[leg_account.pk] += int(amount)
    if sum(per_account.values()) != 0:
        raise ValueError(f"ledger legs of {posting.reference} do not sum to zero: {posting.legs}")
    per_account = {pk: amount for pk, amount in per_account.items() if amount}
    if not per_account:
        raise ValueError(f"ledger post {posting.reference} moves nothing")
    return per_account


def _move_balances(deltas: dict[int, int], guarded: set[int]) -> None:
    """Add each delta to its account in place (``balance = balance + delta``, one prepared
    statement run for all of them); a guarded account may not go below zero."""
    plain = [(deltas[pk], pk) for pk in sorted(deltas) if pk not in guarded or deltas[pk] >= 0]
    if plain:
        table, quote = Account._meta.db_table, connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {quote(table)} SET balance_fen = balance_fen + %s WHERE id = %s", plain)  # noqa: S608
    for pk in sorted(pk for pk in deltas if pk in guarded and deltas[pk] < 0):
        amount = deltas[pk]
        if Account.objects.filter(pk=pk, balance_fen__gte=-amount).update(balance_fen=F("balance_fen") + amount) != 1:
            raise InsufficientBalance(_("余额不足"), details={"account_id": pk, "amount_fen": -amount})


def post_many(
    shop: Any, postings: Sequence[Posting], *, require_non_negative: Iterable[Account] = ()
) -> list[tuple[LedgerTransaction, bool]]:
    """Post balanced movements in one database transaction; (transaction, created) for each, in
    order. See the module docstring."""
    legs = {posting.reference: _net_legs(posting) for posting in postings}
    if len(legs) != len(postings):
        raise ValueError("a batch of ledger postings repeats a reference")
    guarded = {a.pk for a in require_non_negative}
    with transaction.atomic():
        done = {t.reference: t for t in LedgerTransaction.objects.filter(reference__in=legs)}
        todo = [posting for posting in postings if posting.reference not in done]
        if todo:
            # Lock in primary-key order (every post does), then re-check the references under the locks.
            locked = sorted({pk for posting in todo for pk in legs[posting.reference]})
            list(Account.objects.select_for_update().filter(pk__in=locked).order_by("pk").values_list("pk"))
            done.update((t.reference, t) for t in LedgerTransaction.objects.filter(reference__in=legs))
            todo = [posting for posting in todo if posting.reference not in done]
        created = LedgerTransaction.objects.bulk_create(
            LedgerTransaction(shop=shop, reference=posting.reference, memo=posting.memo[:200]) for posting in todo
        )
        deltas: dict[int, int] = defaultdict(int)
        for posting in todo:
            for pk, amount in legs[posting.reference].items():
                deltas[pk] += amount
        _move_balances(deltas, guarded)
        Entry.objects.bulk_create(
            Entry(transaction=txn, account_id=pk, amount_fen=amount)
            for txn in created
            for pk, amount in sorted(legs[txn.reference].items())
        )
    new = {txn.reference: txn for txn in created}
    return [(new[p.reference], True) if p.reference in new else (done[p.reference], False) for p in postings]


def post(
    shop: Any,
    reference: str,
    legs: Sequence[tuple[Account, int]],
    *,
    memo: str = "",
    require_non_negative: Iterable[Account] = (),
) -> tuple[LedgerTransaction, bool]:
    """Post one balanced movement; returns (transaction, created). See the module docstring."""
    return post_many(shop, [Posting(reference, legs, memo)], require_non_negative=require_non_negative)[0]


# The statements of ``post_holder_moves``. The moves are computed once per call into a temporary
# table (every later statement reads that table, not the moves query again); {account}, {txn},
# {entry} are the models' tables, {moves} the temporary one; every value is a parameter.
_MOVES_TABLE = "ledger_holder_moves"
_CREATE_MOVES = """CREATE TEMPORARY TABLE {moves} AS
WITH m (shop_id, holder_id, amount_fen, reference, memo) AS ({select}) SELECT * FROM m"""
_HOLDER_ACCOUNTS = "JOIN {account} a ON a.shop_id = m.shop_id AND a.holder_id = m.holder_id AND a.kind IN (%s, %s)"
_OPEN_ACCOUNTS = """{insert_ignore} {account} (shop_id, holder_id, kind, balance_fen, created_at)
SELECT m.shop_id, m.holder_id, k.kind, 0, %s FROM {moves} m, (SELECT %s AS kind UNION ALL SELECT %s) k
WHERE NOT EXISTS (
    SELECT 1 FROM {account} a WHERE a.shop_id = m.shop_id AND a.holder_id = m.holder_id AND a.kind = k.kind
) ORDER BY m.shop_id, m.holder_id, k.kind {ignore_suffix}"""
_LOCK_ACCOUNTS = (
    "SELECT count(*) FROM (SELECT a.id FROM {moves} m {holder_accounts} ORDER BY a.id FOR UPDATE OF a) locked"
)
_INSERT_TRANSACTIONS = """INSERT INTO {txn} (shop_id, reference, memo, created_at)
SELECT shop_id, reference, memo, %s FROM {moves}"""
_SIGNED_AMOUNT = "CASE WHEN a.kind = %s THEN -m.amount_fen ELSE m.amount_fen END"
_INSERT_ENTRIES = """INSERT INTO {entry} (transaction_id, account_id, amount_fen)
SELECT t.id, a.id, {signed_amount} FROM {moves} m JOIN {txn} t ON t.reference = m.reference {holder_accounts}"""
_MOVE_BALANCES = """UPDATE {account} SET balance_fen = balance_fen + moved.amount_fen
FROM (SELECT a.id, SUM({signed_amount}) AS amount_fen FROM {moves} m {holder_accounts} GROUP BY a.id) moved
WHERE {account}.id = moved.id"""
_DROP_MOVES = "DROP TABLE {moves}"


def post_holder_moves(moves: QuerySet[Any], source_kind: str, target_kind: str) -> int:
    """Move money between two accounts of each holder, set-based; returns how many moves.

    ``moves`` is a ``values_list`` queryset giving (shop id, holder id, amount_fen > 0,
    reference, memo) per move. Each row becomes one ledger transaction, ``source_kind`` −amount
    and ``target_kind`` +amount, in a fixed number of statements however many rows: compute the
    moves once into a temporary table, open the accounts not opened yet, lock the holders' two
    accounts in primary-key order (as every post does), insert the transactions, insert their
    entries, move each balance by the same signed amounts (summed per account: what the entries
    just written sum to, without reading them back), drop the table. Unlike ``post``, a reference posted before is an
    IntegrityError (the caller's whole batch rolls back): the caller's own rows (a commission
    settles once) keep references new.
    """
    db = connections[moves.db]
    select, select_params = moves.query.get_compiler(using=moves.db).as_sql()
    quote = db.ops.quote_name
    names = {
        "account": quote(Account._meta.db_table),
        "txn": quote(LedgerTransaction._meta.db_table),
        "entry": quote(Entry._meta.db_table),
        "moves": quote(_MOVES_TABLE),
        "insert_ignore": db.ops.insert_statement(on_conflict=OnConflict.IGNORE),
        "ignore_suffix": db.ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], []),
        "signed_amount": _SIGNED_AMOUNT,
    }
    names["holder_accounts"] = _HOLDER_ACCOUNTS.format(**names)
    kinds = [source_kind, target_kind]
    now = db.ops.adapt_datetimefield_value(timezone.now())
    # No savepoint of its own: inside a caller's transaction (a settlement batch) that batch is
    # what commits or rolls back as one.
    with transaction.atomic(using=moves.db, savepoint=False), db.cursor() as cursor:
        cursor.execute(_CREATE_MOVES.format(select=select, **names), select_params)
        cursor.execute(_OPEN_ACCOUNTS.format(**names), [now, *kinds])
        if db.features.has_select_for_update:  # SQLite: the write transaction holds the whole file
            cursor.execute(_LOCK_ACCOUNTS.format(**names), kinds)
        cursor.execute(_INSERT_TRANSACTIONS.format(**names), [now])
        posted = int(cursor.rowcount)
        cursor.execute(_INSERT_ENTRIES.format(**names), [source_kind, *kinds])
        cursor.execute(_MOVE_BALANCES.format(**names), [source_kind, *kinds])
        cursor.execute(_DROP_MOVES.format(**names))
    return posted


# The statements of ``post_to_holders`` (the names as above; {targets} joins each move's holder
# account of the target kind, whose kind is its first parameter).
_TARGETS = "JOIN {account} a ON a.shop_id = m.shop_id AND a.holder_id = m.holder_id AND a.kind = %s"
_OPEN_TARGETS = """{insert_ignore} {account} (shop_id, holder_id, kind, balance_fen, created_at)
SELECT DISTINCT m.shop_id, m.holder_id, %s, 0, %s FROM {moves} m WHERE NOT EXISTS (
    SELECT 1 FROM {account} a WHERE a.shop_id = m.shop_id AND a.holder_id = m.holder_id AND a.kind = %s
) ORDER BY m.shop_id, m.holder_id {ignore_suffix}"""
_LOCK_SOURCE_AND_TARGETS = """SELECT count(*) FROM (SELECT b.id FROM {account} b
WHERE b.id = %s OR b.id IN (SELECT a.id FROM {moves} m {targets}) ORDER BY b.id FOR UPDATE OF b) locked"""
_INSERT_SOURCE_AND_TARGET_ENTRIES = """INSERT INTO {entry} (transaction_id, account_id, amount_fen)
SELECT t.id, a.id, m.amount_fen FROM {moves} m JOIN {txn} t ON t.reference = m.reference {targets}
UNION ALL SELECT t.id, %s, -m.amount_fen FROM {moves} m JOIN {txn} t ON t.reference = m.reference"""
_MOVE_TARGET_BALANCES = """UPDATE {account} SET balance_fen = balance_fen + moved.amount_fen
FROM (SELECT a.id, SUM(m.amount_fen) AS amount_fen FROM {moves} m {targets} GROUP BY a.id) moved
WHERE {account}.id = moved.id"""
_TAKE_FROM_SOURCE = """UPDATE {account} SET balance_fen = balance_fen - (SELECT SUM(amount_fen) FROM {moves})
WHERE id = %s AND balance_fen >= (SELECT SUM(amount_fen) FROM {moves})"""


def post_to_holders(moves: QuerySet[Any], source: Account, target_kind: str) -> int:
    """Pay many holders from one account (a shop's), set-based; returns how many moves.

    ``moves`` is a ``values_list`` queryset giving (shop id, holder id, amount_fen > 0, reference,
    memo) per move; each becomes one ledger transaction, ``source`` −amount and the holder's
    ``target_kind`` account +amount, in a fixed number of statements however many rows (as
    ``post_holder_moves``: the moves once into a temporary table, the holders' accounts opened,
    ``source`` and the holders' accounts locked in primary-key order, transactions, entries,
    balances). ``source`` may not go below zero: InsufficientBalance, and the caller's transaction
    rolls back. A reference posted before is an IntegrityError, as in ``post_holder_moves``."""
    db = connections[moves.db]
    select, select_params = moves.query.get_compiler(using=moves.db).as_sql()
    quote = db.ops.quote_name
    names = {
        "account": quote(Account._meta.db_table),
        "txn": quote(LedgerTransaction._meta.db_table),
        "entry": quote(Entry._meta.db_table),
        "moves": quote(_MOVES_TABLE),
        "insert_ignore": db.ops.insert_statement(on_conflict=OnConflict.IGNORE),
        "ignore_suffix": db.ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], []),
    }
    names["targets"] = _TARGETS.format(**names)
    now = db.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(using=moves.db, savepoint=False), db.cursor() as cursor:
        cursor.execute(_CREATE_MOVES.format(select=select, **names), select_params)
        cursor.execute(_OPEN_TARGETS.format(**names), [target_kind, now, target_kind])
        if db.features.has_select_for_update:  # SQLite: the write transaction holds the whole file
            cursor.execute(_LOCK_SOURCE_AND_TARGETS.format(**names), [source.pk, target_kind])
        cursor.execute(_INSERT_TRANSACTIONS.format(**names), [now])
        posted = int(cursor.rowcount)
        if posted:
            cursor.execute(_INSERT_SOURCE_AND_TARGET_ENTRIES.format(**names), [target_kind, source.pk])
            cursor.execute(_MOVE_TARGET_BALANCES.format(**names), [target_kind])
            cursor.execute(_TAKE_FROM_SOURCE.format(**names), [source.pk])
            if cursor.rowcount != 1:
                raise InsufficientBalance("余额不足", details={"account_id": source.pk})
        cursor.execute(_DROP_MOVES.format(**names))
    return posted


def balance(shop: Any, kind: str, holder: Any = None) -> int:
    """The balance of an account (0 when it does not exist yet)."""
    holder_id = getattr(holder, "pk", holder)
    value = Account.objects.filter(shop=shop, holder_id=holder_id, kind=kind).values_list("balance_fen", flat=True)
    return next(iter(value), 0)


def entries_total(account_id: int) -> int:
    """The sum of an account's entries (what its balance must equal)."""
    return Entry.objects.filter(account_id=account_id).aggregate(total=Sum("amount_fen"))["total"] or 0


def holder_balances(shop: Any, holder: Any) -> dict[str, int]:
    """The withdrawal flow's balances (``HOLDER_KINDS``) for ``holder`` in ``shop`` (0 for accounts
    not opened yet)."""
    rows = dict(Account.objects.filter(shop=shop, holder=holder).values_list("kind", "balance_fen"))
    return {kind: rows.get(kind, 0) for kind in HOLDER_KINDS}
