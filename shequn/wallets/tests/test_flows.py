"""The flows other apps call: freeze, settle, reverse (from frozen or available), credit_available."""

import pytest
from django.db.models import CharField, IntegerField, Value
from django.db.models.functions import Cast, Concat

from shequn.testing.factories import ShopFactory, UserFactory
from shequn.wallets import flows, ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account, LedgerTransaction

pytestmark = pytest.mark.django_db


def balances(shop, holder):
    return ledger.holder_balances(shop, holder) | {"expense": ledger.balance(shop, AccountKind.COMMISSION_EXPENSE)}


def test_freeze_then_settle_moves_commission_to_available():
    shop, promoter = ShopFactory.create(), UserFactory.create()
    txn = flows.freeze(shop, promoter, 300, reference="c:freeze:1", memo="订单佣金")
    assert txn.memo == "订单佣金"
    assert balances(shop, promoter) == {"frozen": 300, "available": 0, "in_transit": 0, "paid_out": 0, "expense": -300}
    flows.settle(shop, promoter, 300, reference="c:settle:1")
    assert balances(shop, promoter) == {"frozen": 0, "available": 300, "in_transit": 0, "paid_out": 0, "expense": -300}


def test_the_same_reference_moves_money_once():
    shop, promoter = ShopFactory.create(), UserFactory.create()
    first = flows.freeze(shop, promoter, 300, reference="c:freeze:1")
    again = flows.freeze(shop, promoter, 300, reference="c:freeze:1")
    assert again.pk == first.pk
    assert LedgerTransaction.objects.count() == 1
    assert ledger.balance(shop, AccountKind.FROZEN, promoter) == 300


def test_reverse_from_frozen_before_settlement():
    shop, promoter = ShopFactory.create(), UserFactory.create()
    flows.freeze(shop, promoter, 300, reference="c:freeze:1")
    flows.reverse(shop, promoter, 300, frozen=True, reference="c:reverse:1")
    assert balances(shop, promoter) == {"frozen": 0, "available": 0, "in_transit": 0, "paid_out": 0, "expense": 0}


def test_reverse_after_settlement_leaves_a_debt_that_later_settles_pay_back():
    shop, promoter = ShopFactory.create(), UserFactory.create()
    flows.freeze(shop, promoter, 300, reference="c:freeze:1")
    flows.settle(shop, promoter, 300, reference="c:settle:1")
    # A refund of a bigger, already settled order takes 500 back: AVAILABLE goes into debt.
    flows.reverse(shop, promoter, 500, frozen=False, reference="c:reverse:2")
    assert ledger.balance(shop, AccountKind.AVAILABLE, promoter) == -200
    flows.freeze(shop, promoter, 450, reference="c:freeze:3")
    flows.settle(shop, promoter, 450, reference="c:settle:3")
    assert ledger.balance(shop, AccountKind.AVAILABLE, promoter) == 250
    assert ledger.balance(shop, AccountKind.COMMISSION_EXPENSE) == -250


def test_credit_available_is_withdrawable_at_once():
    shop, leader = ShopFactory.create(), UserFactory.create()
    flows.credit_available(shop, leader, 1_280, reference="settlement:9", memo="团长结算")
    assert balances(shop, leader) == {
        "frozen": 0,
        "available": 1_280,
        "in_transit": 0,
        "paid_out": 0,
        "expense": -1_280,
    }
    for acc in Account.objects.all():
        assert acc.balance_fen == ledger.entries_total(acc.pk)


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_amounts_must_be_positive_integer_fen(amount):
    shop, promoter = ShopFactory.create(), UserFactory.create()
    with pytest.raises(ValueError, match="positive integer of fen"):
        flows.freeze(shop, promoter, amount, reference="c:bad")
    assert LedgerTransaction.objects.count() == 0


def test_holders_of_different_shops_have_separate_books():
    shop, other, promoter = ShopFactory.create(), ShopFactory.create(), UserFactory.create()
    flows.credit_available(shop, promoter, 100, reference="a")
    flows.credit_available(other, promoter, 200, reference="b")
    assert ledger.balance(shop, AccountKind.AVAILABLE, promoter) == 100
    assert ledger.balance(other, AccountKind.AVAILABLE, promoter) == 200


def test_an_external_payout_takes_available_once_and_never_below_zero():
    shop, leader = ShopFactory.create(), UserFactory.create()
    flows.credit_available(shop, leader, 1_000, reference="s:1")
    flows.pay_out_externally(shop, leader, 1_000, reference="p:1", memo="银行转账")
    flows.pay_out_externally(shop, leader, 1_000, reference="p:1")  # the same payout recorded again
    assert balances(shop, leader) == {
        "frozen": 0,
        "available": 0,
        "in_transit": 0,
        "paid_out": 1_000,
        "expense": -1_000,
    }
    with pytest.raises(ledger.InsufficientBalance):
        flows.pay_out_externally(shop, leader, 1, reference="p:2")
    assert LedgerTransaction.objects.filter(reference="p:2").count() == 0


def test_settle_from_posts_every_move_even_two_for_one_holder_and_balances_equal_the_entries():
    shop, first, second = ShopFactory.create(), UserFactory.create(), UserFactory.create()
    flows.freeze(shop, first, 500, reference="c:freeze:1")
    flows.freeze(shop, second, 300, reference="c:freeze:2")
    frozen = Account.objects.filter(shop=shop, kind=AccountKind.FROZEN)

    def moves(amount_fen, tag):
        return frozen.values_list(
            "shop_id",
            "holder_id",
            Value(amount_fen, output_field=IntegerField()),
            Concat(Value(f"c:settle:{tag}:"), Cast("holder_id", CharField())),
            Value("结算"),
        )

    # Two moves per holder in one call; neither holder has an AVAILABLE account yet.
    assert flows.settle_from(moves(100, "a").union(moves(200, "b"), all=True)) == 4
    assert ledger.holder_balances(shop, first) == {"frozen": 200, "available": 300, "in_transit": 0, "paid_out": 0}
    assert ledger.holder_balances(shop, second) == {"frozen": 0, "available": 300, "in_transit": 0, "paid_out": 0}
    accounts = Account.objects.filter(shop=shop)
    assert sum(accounts.values_list("balance_fen", flat=True)) == 0
    assert all(account.balance_fen == ledger.entries_total(account.pk) for account in accounts)
    assert LedgerTransaction.objects.filter(reference__startswith="c:settle:", memo="结算").count() == 4
