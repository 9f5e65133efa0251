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
