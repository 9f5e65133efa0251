"""Reads for the wallet pages, the finance queue and the API."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequn.shops.models import Shop

from .enums import OPEN_WITHDRAWAL_STATUSES, WALLET_KINDS
from .errors import WithdrawalNotFound
from .models import Account, Entry, Withdrawal


def access_withdrawal(shop: Shop, withdrawal_id: int, *, lock: bool = False) -> Withdrawal:
    """One of the shop's withdrawals; another shop's id looks absent (404)."""
    rows = Withdrawal.objects.filter(shop=shop, pk=withdrawal_id)
    if lock:
        rows = rows.select_for_update(of=("self",))  # the withdrawal row only, not its holder
    found = rows.select_related("holder").first()
    if found is None:
        raise WithdrawalNotFound(_("提现申请不存在"))
    return found


def withdrawal_queue(shop: Shop, status: str = "") -> QuerySet[Withdrawal]:
    """The finance queue: open withdrawals (or those of ``status``), oldest first."""
    rows = Withdrawal.objects.filter(shop=shop).select_related("holder", "first_approved_by", "second_approved_by")
    if status:
        return rows.filter(status=status).order_by("-created_at", "-id")
    return rows.filter(status__in=OPEN_WITHDRAWAL_STATUSES).order_by("created_at", "id")


def holder_shops(holder: Any) -> QuerySet[Shop]:
    """The shops where ``holder`` has a wallet (an account of a wallet kind)."""
    return (
        Shop.objects.filter(ledger_accounts__holder=holder, ledger_accounts__kind__in=WALLET_KINDS)
        .distinct()
        .order_by("id")
    )


def holder_entries(shop: Shop, holder: Any) -> QuerySet[Entry]:
    """The holder's wallet entries in ``shop``, newest first, with their transaction's memo."""
    return (
        Entry.objects.filter(account__shop=shop, account__holder=holder, account__kind__in=WALLET_KINDS)
        .select_related("transaction", "account")
        .order_by("-id")
    )


def holder_withdrawals(shop: Shop, holder: Any) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(shop=shop, holder=holder).order_by("-created_at", "-id")


def holder_accounts(shop: Shop, holder: Any) -> QuerySet[Account]:
    return Account.objects.filter(shop=shop, holder=holder)
