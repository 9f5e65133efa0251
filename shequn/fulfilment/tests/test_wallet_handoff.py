"""A confirmed leader settlement lands in the leader's wallet once, withdrawable at once."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from shequn.fulfilment import actions
from shequn.fulfilment.errors import InvalidPayout, InvalidSettlementState
from shequn.fulfilment.models import Payout
from shequn.shops.enums import StaffRole
from shequn.testing.factories import StaffFactory
from shequn.wallets import actions as wallet_actions
from shequn.wallets import ledger
from shequn.wallets.models import LedgerTransaction

pytestmark = pytest.mark.django_db


def test_confirming_a_settlement_credits_the_leaders_wallet_once(completed, shop, operator):
    first, second = completed.leaders
    day = completed.done_on
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 2)):
        made = actions.create_settlements(shop, operator, start=day - timedelta(days=3), end=day)
    statement = next(s for s in made if s.leader_id == first.pk)
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    assert ledger.holder_balances(shop, first.user)["available"] == 0

    actions.confirm_settlement(shop, statement.pk, finance)
    with pytest.raises(InvalidSettlementState):
        actions.confirm_settlement(shop, statement.pk, finance)

    assert ledger.holder_balances(shop, first.user) == {"frozen": 0, "available": 1695, "in_transit": 0, "paid_out": 0}
    assert ledger.holder_balances(shop, second.user)["available"] == 0  # their statement is not confirmed
    txn = LedgerTransaction.objects.get(reference=f"leader-settlement:{statement.pk}")
    assert txn.memo.startswith("团长佣金结算")
    withdrawal = wallet_actions.request_withdrawal(shop, first.user, 1695)
    assert ledger.holder_balances(shop, first.user)["in_transit"] == withdrawal.amount_fen == 1695


def test_a_payout_recorded_by_hand_leaves_nothing_to_withdraw_and_is_refused_after_a_withdrawal(
    completed, shop, operator
):
    first, second = completed.leaders
    day = completed.done_on
    with time_machine.travel(timezone.now() + timedelta(days=settings.AFTER_SALES_WINDOW_DAYS + 2)):
        made = actions.create_settlements(shop, operator, start=day - timedelta(days=3), end=day)
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    mine = next(s for s in made if s.leader_id == first.pk)
    theirs = next(s for s in made if s.leader_id == second.pk)
    for statement in (mine, theirs):
        actions.confirm_settlement(shop, statement.pk, finance)

    actions.record_payout(shop, mine.pk, finance, amount_fen=1695, reference="WX001")
    assert ledger.holder_balances(shop, first.user) == {"frozen": 0, "available": 0, "in_transit": 0, "paid_out": 1695}

    wallet_actions.request_withdrawal(shop, second.user, 958)  # the leader took it through the wallet
    with pytest.raises(InvalidPayout, match="已从钱包提现"):
        actions.record_payout(shop, theirs.pk, finance, amount_fen=958, reference="WX002")
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"
    assert Payout.objects.filter(settlement=theirs).count() == 0
