"""Withdrawals: limits, approval (two people above the set amount), rejection, payout results."""

import datetime

import pytest
import time_machine
from django.test import override_settings

from shequn.core.models import AuditLog
from shequn.notifications.models import Notification
from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory, UserFactory
from shequn.testing.payments import run_scheduled_tasks
from shequn.wallets import actions, flows, ledger, payouts
from shequn.wallets.enums import AccountKind, WithdrawalStatus
from shequn.wallets.errors import (
    DailyWithdrawalLimit,
    InsufficientBalance,
    InvalidPayoutNotification,
    InvalidWithdrawalAmount,
    InvalidWithdrawalState,
    SecondApproverRequired,
)
from shequn.wallets.models import LedgerTransaction, Withdrawal

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory.create()


@pytest.fixture
def holder(shop):
    user = UserFactory.create()
    flows.credit_available(shop, user, 800_000, reference="seed", memo="团长结算")
    return user


@pytest.fixture
def finance(shop):
    return StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user


@pytest.fixture
def finance2(shop):
    return StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user


@pytest.fixture
def approve(django_capture_on_commit_callbacks):
    """Approve as the view does: the payout is handed to the gateway once the transaction commits."""

    def run(shop, withdrawal_id, actor):
        with django_capture_on_commit_callbacks(execute=True):
            return actions.approve_withdrawal(shop, withdrawal_id, actor)

    return run


def balances(shop, holder):
    return ledger.holder_balances(shop, holder)


def test_a_request_moves_available_to_in_transit(shop, holder):
    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    assert withdrawal.status == WithdrawalStatus.REQUESTED
    assert balances(shop, holder) == {"frozen": 0, "available": 788_000, "in_transit": 12_000, "paid_out": 0}
    assert AuditLog.objects.filter(action="withdrawal.request", object_id=str(withdrawal.pk)).count() == 1


def test_under_the_minimum_is_refused(shop, holder):
    with pytest.raises(InvalidWithdrawalAmount, match=r"单笔提现至少 ¥1\.00"):
        actions.request_withdrawal(shop, holder, 99)
    assert Withdrawal.objects.count() == 0
    assert balances(shop, holder)["available"] == 800_000


def test_more_than_available_is_refused_and_writes_nothing(shop):
    poor = UserFactory.create()
    flows.credit_available(shop, poor, 500, reference="seed-poor")
    with pytest.raises(InsufficientBalance, match="余额不足"):
        actions.request_withdrawal(shop, poor, 501)
    assert Withdrawal.objects.count() == 0
    assert balances(shop, poor) == {"frozen": 0, "available": 500, "in_transit": 0, "paid_out": 0}


def test_the_daily_limit_counts_today_and_frees_up_tomorrow(shop, holder, finance):
    with time_machine.travel(datetime.datetime(2026, 11, 20, 2, 0, tzinfo=datetime.UTC), tick=False):
        actions.request_withdrawal(shop, holder, 300_000)
        actions.request_withdrawal(shop, holder, 200_000)  # exactly ¥5,000 today
        with pytest.raises(DailyWithdrawalLimit, match=r"今天还可提现 ¥0.00"):
            actions.request_withdrawal(shop, holder, 100)
    with time_machine.travel(datetime.datetime(2026, 11, 21, 2, 0, tzinfo=datetime.UTC), tick=False):
        actions.request_withdrawal(shop, holder, 100)
    assert Withdrawal.objects.count() == 3


def test_a_rejected_request_no_longer_counts_toward_the_daily_limit(shop, holder, finance):
    first = actions.request_withdrawal(shop, holder, 500_000)
    with pytest.raises(DailyWithdrawalLimit):
        actions.request_withdrawal(shop, holder, 100)
    actions.reject_withdrawal(shop, first.pk, finance, reason="信息不全")
    assert actions.request_withdrawal(shop, holder, 100).amount_fen == 100


def test_reject_returns_the_money_once_and_tells_the_holder(shop, holder, finance):
    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    actions.reject_withdrawal(shop, withdrawal.pk, finance, reason="账户未实名")
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.reject_reason, withdrawal.rejected_by) == ("rejected", "账户未实名", finance)
    assert balances(shop, holder) == {"frozen": 0, "available": 800_000, "in_transit": 0, "paid_out": 0}
    with pytest.raises(InvalidWithdrawalState, match="已驳回，不能驳回"):
        actions.reject_withdrawal(shop, withdrawal.pk, finance, reason="再驳回一次")
    with pytest.raises(InvalidWithdrawalState):
        actions.approve_withdrawal(shop, withdrawal.pk, finance)
    assert balances(shop, holder)["available"] == 800_000
    note = Notification.objects.get(user=holder, kind="wallet.withdrawal_rejected")
    assert "账户未实名" in note.body
    assert AuditLog.objects.filter(action="withdrawal.reject", actor=finance).count() == 1


def test_reject_needs_a_reason(shop, holder, finance):
    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    with pytest.raises(InvalidWithdrawalAmount, match="请填写驳回原因"):
        actions.reject_withdrawal(shop, withdrawal.pk, finance, reason="  ")
    assert Withdrawal.objects.get().status == WithdrawalStatus.REQUESTED


def test_only_finance_decides_and_foreign_ids_look_absent(shop, holder):
    from shequn.core.errors import NotFound, PermissionDenied

    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    with pytest.raises(PermissionDenied):
        actions.approve_withdrawal(shop, withdrawal.pk, operator)
    other_shop = ShopFactory.create()
    other_finance = StaffFactory.create(shop=other_shop, role=StaffRole.FINANCE).user
    with pytest.raises(NotFound):
        actions.approve_withdrawal(other_shop, withdrawal.pk, other_finance)
    assert Withdrawal.objects.get().status == WithdrawalStatus.REQUESTED


def test_a_small_withdrawal_is_paid_after_one_approval(shop, holder, finance, approve):
    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    approved = approve(shop, withdrawal.pk, finance)
    assert approved.status == WithdrawalStatus.PAYING
    assert balances(shop, holder)["in_transit"] == 12_000  # accepted, result not known yet
    assert run_scheduled_tasks() == 1  # the sandbox delivers its signed result
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PAID
    assert balances(shop, holder) == {"frozen": 0, "available": 788_000, "in_transit": 0, "paid_out": 12_000}
    assert Notification.objects.filter(user=holder, kind="wallet.withdrawal_paid").count() == 1
    assert list(
        AuditLog.objects.filter(object_id=str(withdrawal.pk)).order_by("id").values_list("action", flat=True)
    ) == [
        "withdrawal.request",
        "withdrawal.approve",
        "withdrawal.paid",
    ]


@override_settings(WALLETS_SECOND_APPROVAL_ABOVE_FEN=100_000)
def test_above_the_threshold_a_second_different_approver_is_required(shop, holder, finance, finance2, approve):
    withdrawal = actions.request_withdrawal(shop, holder, 100_001)
    first = approve(shop, withdrawal.pk, finance)
    assert first.status == WithdrawalStatus.FIRST_APPROVED
    with pytest.raises(SecondApproverRequired, match="另一位财务人员复核"):
        actions.approve_withdrawal(shop, withdrawal.pk, finance)
    assert Withdrawal.objects.get().status == WithdrawalStatus.FIRST_APPROVED
    assert run_scheduled_tasks() == 0  # nothing was sent to the gateway
    second = approve(shop, withdrawal.pk, finance2)
    assert (second.status, second.first_approved_by, second.second_approved_by) == ("paying", finance, finance2)
    run_scheduled_tasks()
    assert Withdrawal.objects.get().status == WithdrawalStatus.PAID


@override_settings(WALLETS_SECOND_APPROVAL_ABOVE_FEN=100_000)
def test_exactly_the_threshold_needs_one_approval(shop, holder, finance, approve):
    withdrawal = actions.request_withdrawal(shop, holder, 100_000)
    assert approve(shop, withdrawal.pk, finance).status == WithdrawalStatus.PAYING


def test_a_holder_who_is_also_finance_cannot_approve_their_own(shop, finance):
    flows.credit_available(shop, finance, 5_000, reference="seed-finance")
    withdrawal = actions.request_withdrawal(shop, finance, 5_000)
    from shequn.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="不能审核自己的提现申请"):
        actions.approve_withdrawal(shop, withdrawal.pk, finance)


def test_a_failed_payout_returns_the_money_once_even_if_the_callback_comes_twice(shop, holder, finance, approve):
    withdrawal = actions.request_withdrawal(shop, holder, 12_099)  # the sandbox fails amounts ending in 99 fen
    approve(shop, withdrawal.pk, finance)
    run_scheduled_tasks()
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.failure_reason) == ("failed", "收款用户账户异常")
    assert balances(shop, holder) == {"frozen": 0, "available": 800_000, "in_transit": 0, "paid_out": 0}
    # The gateway repeats its failure callback, then (wrongly) a success: nothing moves.
    headers, body = payouts.sandbox_notification(withdrawal.out_bill_no, payouts.FAIL, "收款用户账户异常")
    actions.handle_payout_notification(headers, body)
    headers, body = payouts.sandbox_notification(withdrawal.out_bill_no, payouts.SUCCESS)
    actions.handle_payout_notification(headers, body)
    assert balances(shop, holder) == {"frozen": 0, "available": 800_000, "in_transit": 0, "paid_out": 0}
    assert LedgerTransaction.objects.filter(reference__startswith="withdrawal:").count() == 2  # request + return
    assert Notification.objects.filter(user=holder, kind="wallet.withdrawal_failed").count() == 1


def test_the_callback_endpoint_verifies_the_signature(client, shop, holder, finance, settings, approve):
    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    approve(shop, withdrawal.pk, finance)
    headers, body = payouts.sandbox_notification(withdrawal.out_bill_no, payouts.FAIL, "余额不足")
    forged = {**headers, "Wechatpay-Signature": "0" * 64}
    http = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in forged.items()}
    response = client.post("/wallets/payouts/notify/", body, content_type="application/json", **http)
    assert response.status_code == 400
    assert response.json()["message"] == "回调签名无效"
    assert Withdrawal.objects.get().status == WithdrawalStatus.PAYING
    http = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    for _ in range(2):
        response = client.post("/wallets/payouts/notify/", body, content_type="application/json", **http)
        assert response.status_code == 204
    assert Withdrawal.objects.get().status == WithdrawalStatus.FAILED
    assert balances(shop, holder)["available"] == 800_000


def test_a_stale_callback_is_refused(shop, holder, finance, approve):
    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    approve(shop, withdrawal.pk, finance)
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(hours=1)):
        headers, body = payouts.sandbox_notification(withdrawal.out_bill_no, payouts.SUCCESS)
    with pytest.raises(InvalidPayoutNotification, match="时间戳过期"):
        actions.handle_payout_notification(headers, body)


def test_the_reconciler_settles_a_payout_whose_callback_was_lost(shop, holder, finance, approve):
    withdrawal = actions.request_withdrawal(shop, holder, 12_000)
    approve(shop, withdrawal.pk, finance)
    payouts.SandboxPayoutGateway().decide(withdrawal.out_bill_no)  # decided, but the callback is lost
    assert actions.reconcile_payouts() == 0  # too early: callbacks may still come
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=11)
    assert actions.reconcile_payouts(now=later) == 1
    assert Withdrawal.objects.get().status == WithdrawalStatus.PAID
    assert ledger.balance(shop, AccountKind.PAID_OUT, holder) == 12_000
