"""Withdrawals: a holder asks, finance approves (two people above a set amount) or rejects, the
payout gateway pays. Money: AVAILABLE → IN_TRANSIT at the request (guarded: never below zero,
so concurrent requests cannot overdraw), IN_TRANSIT → PAID_OUT on success, IN_TRANSIT →
AVAILABLE on rejection or failure — one ledger reference per withdrawal ("withdrawal:return:<id>"),
so the money comes back exactly once whatever arrives twice.

Finance is whoever holds ``shops.permissions.CONFIRM_COD`` (owner, admin, finance): the
permission finance already uses to confirm cash and leader settlements; no new permission.
"""

import datetime
import logging
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.core import audit
from shequn.core.errors import PermissionDenied
from shequn.core.events import on_commit
from shequn.core.i18n import in_language_of
from shequn.core.money import format_fen
from shequn.notifications.actions import notify
from shequn.shops.models import Shop
from shequn.shops.permissions import CONFIRM_COD
from shequn.shops.selectors import require_permission

from . import conf, ledger, selectors
from .enums import FORFEITED_KINDS, AccountKind, WithdrawalStatus
from .errors import (
    DailyWithdrawalLimit,
    InvalidPayoutNotification,
    InvalidWithdrawalAmount,
    InvalidWithdrawalState,
    SecondApproverRequired,
)
from .models import Account, Withdrawal
from .payouts import FAIL, FINAL_STATES, SUCCESS, PayoutResult, get_gateway

logger = logging.getLogger(__name__)

FINANCE_PERMISSION = CONFIRM_COD
REJECT_REASON_MAX = 200


def _wallet_link() -> str:
    return reverse("wallets:wallet")


def _holder_account(shop: Shop, holder: Any, kind: str) -> Account:
    return ledger.account(shop, kind, holder)


def _return_money(withdrawal: Withdrawal, memo: str) -> None:
    shop, holder = withdrawal.shop, withdrawal.holder
    ledger.post(
        shop,
        f"withdrawal:return:{withdrawal.pk}",
        [
            (_holder_account(shop, holder, AccountKind.IN_TRANSIT), -withdrawal.amount_fen),
            (_holder_account(shop, holder, AccountKind.AVAILABLE), withdrawal.amount_fen),
        ],
        memo=memo,
    )


# --- the holder ---------------------------------------------------------------------------


def check_withdrawal_amount(amount_fen: Any) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidWithdrawalAmount(_("请填写提现金额"), details={"fields": {"amount_fen": _("请填写提现金额")}})
    minimum = conf.min_withdrawal_fen()
    if amount_fen < minimum:
        message = _("单笔提现至少 %(amount)s") % {"amount": format_fen(minimum)}
        raise InvalidWithdrawalAmount(message, details={"fields": {"amount_fen": message}})
    return amount_fen


def _today_start() -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))


def request_withdrawal(shop: Shop, holder: Any, amount_fen: int) -> Withdrawal:
    """AVAILABLE → IN_TRANSIT now; refused (nothing written) under the minimum, above the daily
    limit, or above the available balance."""
    amount = check_withdrawal_amount(amount_fen)
    available = _holder_account(shop, holder, AccountKind.AVAILABLE)
    in_transit = _holder_account(shop, holder, AccountKind.IN_TRANSIT)
    with transaction.atomic():
        # One holder's requests queue here, so the daily total is read and raised atomically.
        Account.objects.select_for_update().filter(pk=available.pk).get()
        today = sum(
            Withdrawal.objects.filter(shop=shop, holder=holder, created_at__gte=_today_start())
            .exclude(status__in=(WithdrawalStatus.REJECTED, WithdrawalStatus.FAILED))
            .values_list("amount_fen", flat=True)
        )
        limit = conf.daily_withdrawal_limit_fen()
        if today + amount > limit:
            raise DailyWithdrawalLimit(
                _("每天最多提现 %(amount)s，今天还可提现 %(amount2)s")
                % {"amount": format_fen(limit), "amount2": format_fen(max(0, limit - today))},
                details={"limit_fen": limit, "remaining_fen": max(0, limit - today)},
            )
        withdrawal = Withdrawal.objects.create(shop=shop, holder=holder, amount_fen=amount)
        ledger.post(
            shop,
            f"withdrawal:request:{withdrawal.pk}",
            [(available, -amount), (in_transit, amount)],
            memo=_("提现申请 %(out_bill_no)s") % {"out_bill_no": withdrawal.out_bill_no},
            require_non_negative=[available],
        )
        audit.record(actor=holder, shop=shop, action="withdrawal.request", obj=withdrawal, amount_fen=amount)
    return withdrawal


def forfeit_spendable(holder: Any) -> None:
    """A deleted account gives up its non-withdrawable balances (``FORFEITED_KINDS``: red packets a
    shop said may not be withdrawn, a stored-value bonus): each goes back to its shop's
    PROMOTION_EXPENSE, once per account ("wallet:forfeit:<account>")."""
    for account in Account.objects.filter(holder=holder, kind__in=FORFEITED_KINDS, balance_fen__gt=0).select_related(
        "shop"
    ):
        ledger.post(
            account.shop,
            f"wallet:forfeit:{account.pk}",
            [
                (account, -account.balance_fen),
                (ledger.account(account.shop, AccountKind.PROMOTION_EXPENSE), account.balance_fen),
            ],
            memo=_("注销账号，不可提现余额作废，退回店铺"),
            require_non_negative=[account],
        )


# --- finance ------------------------------------------------------------------------------


def approve_withdrawal(shop: Shop, withdrawal_id: int, actor: Any, *, ip: str | None = None) -> Withdrawal:
    """Approve; above ``second_approval_above_fen`` the first approval waits for a second one by a
    different finance staff member. The final approval hands the payout to the gateway."""
    require_permission(actor, shop, FINANCE_PERMISSION)
    with transaction.atomic():
        withdrawal = selectors.access_withdrawal(shop, withdrawal_id, lock=True)
        if withdrawal.holder_id == actor.pk:
            raise PermissionDenied(_("不能审核自己的提现申请"), code="own_withdrawal")
        now = timezone.now()
        if withdrawal.status == WithdrawalStatus.REQUESTED:
            withdrawal.first_approved_by, withdrawal.first_approved_at = actor, now
            if withdrawal.amount_fen > conf.second_approval_above_fen():
                withdrawal.status = WithdrawalStatus.FIRST_APPROVED
                withdrawal.save(update_fields=["status", "first_approved_by", "first_approved_at"])
                audit.record(
                    actor=actor, shop=shop, action="withdrawal.first_approve", obj=withdrawal, ip=ip,
                    amount_fen=withdrawal.amount_fen,
                )  # fmt: skip
                return withdrawal
            fields = ["first_approved_by", "first_approved_at"]
        elif withdrawal.status == WithdrawalStatus.FIRST_APPROVED:
            if withdrawal.first_approved_by_id == actor.pk:
                raise SecondApproverRequired(_("大额提现需要另一位财务人员复核"))
            withdrawal.second_approved_by, withdrawal.second_approved_at = actor, now
            fields = ["second_approved_by", "second_approved_at"]
        else:
            raise InvalidWithdrawalState(
                _("提现申请%(status)s，不能再审核") % {"status": withdrawal.get_status_display()}
            )
        withdrawal.status = WithdrawalStatus.PAYING
        withdrawal.submitted_at = now
        withdrawal.save(update_fields=[*fields, "status", "submitted_at"])
        audit.record(
            actor=actor, shop=shop, action="withdrawal.approve", obj=withdrawal, ip=ip, amount_fen=withdrawal.amount_fen
        )
        with in_language_of(withdrawal.holder):
            notify(
                withdrawal.holder, shop=shop, kind="wallet.withdrawal_approved", title=_("提现已审核通过"),
                body=_("提现 %(amount)s 已审核通过，正在打款到微信零钱。")
                % {"amount": format_fen(withdrawal.amount_fen)},
                link=_wallet_link(),
            )  # fmt: skip
        on_commit(submit_payout, withdrawal.pk)
    return withdrawal


def reject_withdrawal(shop: Shop, withdrawal_id: int, actor: Any, *, reason: str, ip: str | None = None) -> Withdrawal:
    """Reject an approval-pending request: the money goes back to AVAILABLE (once)."""
    require_permission(actor, shop, FINANCE_PERMISSION)
    reason = (reason or "").strip()
    if not reason or len(reason) > REJECT_REASON_MAX:
        raise InvalidWithdrawalAmount(
            _("请填写驳回原因（最多 200 个字）"),
            code="invalid_reject_reason",
            details={"fields": {"reason": _("请填写驳回原因")}},
        )
    with transaction.atomic():
        withdrawal = selectors.access_withdrawal(shop, withdrawal_id, lock=True)
        if withdrawal.status not in (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED):
            raise InvalidWithdrawalState(
                _("提现申请%(status)s，不能驳回") % {"status": withdrawal.get_status_display()}
            )
        withdrawal.status = WithdrawalStatus.REJECTED
        withdrawal.rejected_by = actor
        withdrawal.reject_reason = reason
        withdrawal.finished_at = timezone.now()
        withdrawal.save(update_fields=["status", "rejected_by", "reject_reason", "finished_at"])
        _return_money(withdrawal, _("提现驳回退回 %(out_bill_no)s") % {"out_bill_no": withdrawal.out_bill_no})
        audit.record(actor=actor, shop=shop, action="withdrawal.reject", obj=withdrawal, ip=ip, reason=reason)
        with in_language_of(withdrawal.holder):
            notify(
                withdrawal.holder, shop=shop, kind="wallet.withdrawal_rejected", title=_("提现申请被驳回"),
                body=_("提现 %(amount)s 被驳回：%(reason)s。金额已退回可提现余额。")
                % {"amount": format_fen(withdrawal.amount_fen), "reason": reason},
                link=_wallet_link(),
            )  # fmt: skip
    return withdrawal


# --- the payout gateway -------------------------------------------------------------------


def submit_payout(withdrawal_id: int) -> PayoutResult | None:
    """Hand an approved withdrawal to the gateway (after commit). The gateway is idempotent by the
    bill number; a failure to reach it leaves the withdrawal paying, for the reconciler."""
    withdrawal = Withdrawal.objects.filter(pk=withdrawal_id, status=WithdrawalStatus.PAYING).first()
    if withdrawal is None:
        return None
    try:
        result = get_gateway().transfer(
            out_bill_no=withdrawal.out_bill_no,
            amount_fen=withdrawal.amount_fen,
            holder_id=withdrawal.holder_id,
            remark=_("佣金提现"),
        )
    except Exception:  # the reconciler retries; the money stays in transit meanwhile
        logger.exception("payout transfer of %s failed to submit", withdrawal.out_bill_no)
        return None
    if result.state in FINAL_STATES:
        apply_payout_result(result)
    return result


def _withdrawal_for_bill(out_bill_no: str) -> int | None:
    if not out_bill_no.startswith("WD") or not out_bill_no[2:].isdigit():
        return None
    return int(out_bill_no[2:])


def apply_payout_result(result: PayoutResult) -> Withdrawal | None:
    """SUCCESS: IN_TRANSIT → PAID_OUT; FAIL: IN_TRANSIT → AVAILABLE. Only a paying withdrawal
    moves; a repeated or late result changes nothing."""
    if result.state not in FINAL_STATES:
        return None
    withdrawal_id = _withdrawal_for_bill(result.out_bill_no)
    if withdrawal_id is None:
        return None
    with transaction.atomic():
        withdrawal = (
            Withdrawal.objects.select_for_update(of=("self",))
            .select_related("shop", "holder")
            .filter(pk=withdrawal_id)
            .first()
        )
        if withdrawal is None or withdrawal.status != WithdrawalStatus.PAYING:
            return withdrawal
        shop, holder = withdrawal.shop, withdrawal.holder
        withdrawal.finished_at = timezone.now()
        # The member reads this later: in their language, not the task's default.
        with in_language_of(holder):
            if result.state == SUCCESS:
                withdrawal.status = WithdrawalStatus.PAID
                ledger.post(
                    shop,
                    f"withdrawal:paid:{withdrawal.pk}",
                    [
                        (_holder_account(shop, holder, AccountKind.IN_TRANSIT), -withdrawal.amount_fen),
                        (_holder_account(shop, holder, AccountKind.PAID_OUT), withdrawal.amount_fen),
                    ],
                    memo=_("提现到账 %(out_bill_no)s") % {"out_bill_no": withdrawal.out_bill_no},
                )
                title, body = (
                    _("提现已到账"),
                    _("提现 %(amount)s 已到账微信零钱。") % {"amount": format_fen(withdrawal.amount_fen)},
                )
            else:
                withdrawal.status = WithdrawalStatus.FAILED
                withdrawal.failure_reason = (result.fail_reason or _("打款失败"))[:200]
                _return_money(withdrawal, _("提现失败退回 %(out_bill_no)s") % {"out_bill_no": withdrawal.out_bill_no})
                title = _("提现打款失败")
                amount = format_fen(withdrawal.amount_fen)
                body = _("提现 %(amount)s 打款失败（%(failure_reason)s），金额已退回可提现余额。") % {
                    "amount": amount,
                    "failure_reason": withdrawal.failure_reason,
                }
            withdrawal.save(update_fields=["status", "finished_at", "failure_reason"])
            audit.record(
                actor=None, shop=shop, action=f"withdrawal.{'paid' if result.state == SUCCESS else 'failed'}",
                obj=withdrawal, amount_fen=withdrawal.amount_fen, reason=withdrawal.failure_reason,
            )  # fmt: skip
            notify(holder, shop=shop, kind=f"wallet.withdrawal_{withdrawal.status}", title=title, body=body,
                   link=_wallet_link())  # fmt: skip
    return withdrawal


def handle_payout_notification(headers: Any, body: bytes) -> Withdrawal | None:
    """A callback from the payout gateway: verified (else InvalidPayoutNotification), then applied."""
    result = get_gateway().parse_notification(headers, body)
    if _withdrawal_for_bill(result.out_bill_no) is None:
        raise InvalidPayoutNotification(_("未知的打款单号"))
    return apply_payout_result(result)


def reconcile_payouts(now: datetime.datetime | None = None) -> int:
    """Ask the gateway about withdrawals paying for a while (a lost callback); submit again those
    it never saw. Returns how many were settled (paid or failed)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(minutes=conf.reconcile_after_minutes())
    gateway = get_gateway()
    settled = 0
    paying = Withdrawal.objects.filter(status=WithdrawalStatus.PAYING, submitted_at__lte=cutoff)
    for withdrawal_id in paying.values_list("pk", flat=True):
        withdrawal = Withdrawal.objects.get(pk=withdrawal_id)
        result = gateway.query(withdrawal.out_bill_no)
        if result is None:
            submit_payout(withdrawal_id)
        elif result.state in (SUCCESS, FAIL):
            apply_payout_result(result)
            settled += 1
    return settled
