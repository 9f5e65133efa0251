"""The ledger's posting rules: balanced, idempotent by reference, guarded against overdraft."""

import pytest

from shequn.testing.factories import ShopFactory, UserFactory
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Entry, LedgerTransaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    shop = ShopFactory.create()
    promoter = UserFactory.create()
    return {
        "shop": shop,
        "promoter": promoter,
        "expense": ledger.account(shop, AccountKind.COMMISSION_EXPENSE),
        "frozen": ledger.account(shop, AccountKind.FROZEN, promoter),
        "available": ledger.account(shop, AccountKind.AVAILABLE, promoter),
    }


def test_a_balanced_post_moves_balances_and_writes_entries(books):
    txn, created = ledger.post(
        books["shop"], "commission:freeze:line:1", [(books["expense"], -300), (books["frozen"], 300)], memo="佣金"
    )
    assert created is True
    assert list(txn.entries.values_list("amount_fen", flat=True)) == [-300, 300]
    assert ledger.balance(books["shop"], AccountKind.FROZEN, books["promoter"]) == 300
    assert ledger.balance(books["shop"], AccountKind.COMMISSION_EXPENSE) == -300
    for name in ("expense", "frozen", "available"):
        books[name].refresh_from_db()
        assert books[name].balance_fen == ledger.entries_total(books[name].pk)


def test_the_same_reference_posts_once(books):
    legs = [(books["expense"], -300), (books["frozen"], 300)]
    first, _ = ledger.post(books["shop"], "commission:freeze:line:1", legs)
    again, created = ledger.post(books["shop"], "commission:freeze:line:1", legs)
    assert (again.pk, created) == (first.pk, False)
    assert (LedgerTransaction.objects.count(), Entry.objects.count()) == (1, 2)
    assert ledger.balance(books["shop"], AccountKind.FROZEN, books["promoter"]) == 300


def test_unbalanced_or_empty_posts_are_programming_errors(books):
    with pytest.raises(ValueError, match="do not sum to zero"):
        ledger.post(books["shop"], "bad:1", [(books["expense"], -300), (books["frozen"], 299)])
    with pytest.raises(ValueError, match="moves nothing"):
        ledger.post(books["shop"], "bad:2", [(books["frozen"], 300), (books["frozen"], -300)])
    assert LedgerTransaction.objects.count() == 0


def test_a_guarded_account_never_goes_below_zero(books):
    ledger.post(books["shop"], "settle:1", [(books["expense"], -500), (books["available"], 500)])
    transit = ledger.account(books["shop"], AccountKind.IN_TRANSIT, books["promoter"])
    with pytest.raises(ledger.InsufficientBalance):
        ledger.post(
            books["shop"], "withdraw:1", [(books["available"], -501), (transit, 501)],
            require_non_negative=[books["available"]],
        )  # fmt: skip
    assert ledger.balance(books["shop"], AccountKind.AVAILABLE, books["promoter"]) == 500
    assert LedgerTransaction.objects.filter(reference="withdraw:1").count() == 0
    ledger.post(
        books["shop"], "withdraw:2", [(books["available"], -500), (transit, 500)],
        require_non_negative=[books["available"]],
    )  # fmt: skip
    assert ledger.holder_balances(books["shop"], books["promoter"]) == {
        "frozen": 0, "available": 0, "in_transit": 500, "paid_out": 0,
    }  # fmt: skip


def test_a_batch_posts_the_new_references_and_returns_the_old_ones(books):
    shop = books["shop"]
    others = [UserFactory.create() for _ in range(3)]
    frozen = ledger.accounts(shop, AccountKind.FROZEN, others)
    assert set(frozen) == {o.pk for o in others}
    first, _ = ledger.post(shop, "batch:0", [(books["expense"], -100), (frozen[others[0].pk], 100)])
    postings = [
        ledger.Posting(f"batch:{n}", [(books["expense"], -100 * (n + 1)), (frozen[o.pk], 100 * (n + 1))], memo="批")
        for n, o in enumerate(others)
    ]
    results = ledger.post_many(shop, postings)
    assert [created for _, created in results] == [False, True, True]
    assert results[0][0].pk == first.pk
    assert [txn.reference for txn, _ in results] == ["batch:0", "batch:1", "batch:2"]
    assert [ledger.balance(shop, AccountKind.FROZEN, o) for o in others] == [100, 200, 300]
    assert ledger.balance(shop, AccountKind.COMMISSION_EXPENSE) == -600
    assert (LedgerTransaction.objects.count(), Entry.objects.count()) == (3, 6)
    for account in [books["expense"], *frozen.values()]:
        account.refresh_from_db()
        assert account.balance_fen == ledger.entries_total(account.pk)


def test_a_batch_that_repeats_a_reference_or_does_not_balance_writes_nothing(books):
    good = ledger.Posting("b:1", [(books["expense"], -100), (books["frozen"], 100)])
    with pytest.raises(ValueError, match="repeats a reference"):
        ledger.post_many(books["shop"], [good, good])
    with pytest.raises(ValueError, match="do not sum to zero"):
        ledger.post_many(books["shop"], [good, ledger.Posting("b:2", [(books["expense"], -1)])])
    assert LedgerTransaction.objects.count() == 0


def test_a_refused_guard_refuses_the_whole_batch(books):
    shop = books["shop"]
    ledger.post(shop, "seed", [(books["expense"], -500), (books["available"], 500)])
    postings = [
        ledger.Posting("ok", [(books["expense"], -100), (books["frozen"], 100)]),
        ledger.Posting("too-much", [(books["available"], -600), (books["expense"], 600)]),
    ]
    with pytest.raises(ledger.InsufficientBalance):
        ledger.post_many(shop, postings, require_non_negative=[books["available"]])
    assert LedgerTransaction.objects.count() == 1
    assert ledger.balance(shop, AccountKind.FROZEN, books["promoter"]) == 0
    assert ledger.balance(shop, AccountKind.AVAILABLE, books["promoter"]) == 500
