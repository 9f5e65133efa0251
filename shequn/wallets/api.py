"""Wallet API: holders read their balances and entries and ask for withdrawals under
/wallets/shops/{shop_id}/...; finance works the withdrawals queue under /wallets/console/ (X-Shop)."""

import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from shequn.core.audit import client_ip
from shequn.core.errors import NotFound
from shequn.core.phone import mask_name
from shequn.core.schemas import Fen, Id, MultilineText, Page, PageQuery, Text, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.models import Shop

from . import actions, ledger, selectors
from .enums import AccountKind
from .models import Entry, Withdrawal

router = Router(tags=["wallets"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 404, 409, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 409, 422)


class QueueQuery(PageQuery):
    status: Text = Field("", max_length=20)


class BalancesOut(Schema):
    frozen_fen: int
    available_fen: int  # negative: a debt (commission taken back after settlement)
    in_transit_fen: int
    paid_out_fen: int
    spendable_fen: int  # red packets the member cannot withdraw (spendable at checkout with stored value)


class EntryOut(Schema):
    id: int
    account: str
    amount_fen: int
    memo: str
    created_at: datetime.datetime

    @classmethod
    def from_model(cls, entry: Entry) -> "EntryOut":
        return cls(
            id=entry.pk,
            account=entry.account.kind,
            amount_fen=entry.amount_fen,
            memo=entry.transaction.memo,
            created_at=entry.transaction.created_at,
        )


class WithdrawalOut(Schema):
    id: int
    out_bill_no: str
    amount_fen: int
    status: str
    status_label: str
    reject_reason: str
    failure_reason: str
    created_at: datetime.datetime

    @classmethod
    def from_model(cls, w: Withdrawal) -> "WithdrawalOut":
        return cls(
            id=w.pk,
            out_bill_no=w.out_bill_no,
            amount_fen=w.amount_fen,
            status=w.status,
            status_label=w.get_status_display(),
            reject_reason=w.reject_reason,
            failure_reason=w.failure_reason,
            created_at=w.created_at,
        )


class ConsoleWithdrawalOut(WithdrawalOut):
    holder_name: str
    first_approved_by_id: int | None
    second_approved_by_id: int | None

    @classmethod
    def from_model(cls, w: Withdrawal) -> "ConsoleWithdrawalOut":
        base = WithdrawalOut.from_model(w).model_dump()
        return cls(
            **base,
            holder_name=mask_name(w.holder.display_name),
            first_approved_by_id=w.first_approved_by_id,
            second_approved_by_id=w.second_approved_by_id,
        )


class WithdrawIn(Schema):
    amount_fen: Fen


class RejectIn(Schema):
    reason: MultilineText = Field(..., max_length=200)


def _shop(shop_id: int) -> Shop:
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise NotFound(_("店铺不存在"), code="shop_not_found")
    return shop


@router.get("/shops/{int:shop_id}/balances", response={200: BalancesOut, **READ_ERRORS})
def balances(request: HttpRequest, shop_id: Id) -> BalancesOut:
    shop = _shop(shop_id)
    found = ledger.holder_balances(shop, request.user)
    return BalancesOut(
        frozen_fen=found["frozen"],
        available_fen=found["available"],
        in_transit_fen=found["in_transit"],
        paid_out_fen=found["paid_out"],
        spendable_fen=ledger.balance(shop, AccountKind.SPENDABLE, request.user),
    )


@router.get("/shops/{int:shop_id}/entries", response={200: Page[EntryOut], **READ_ERRORS})
def entries(request: HttpRequest, shop_id: Id, query: Query[PageQuery]) -> dict:
    page = paginate(selectors.holder_entries(_shop(shop_id), request.user), query.page, query.page_size)
    page["items"] = [EntryOut.from_model(e) for e in page["items"]]
    return page


@router.get("/shops/{int:shop_id}/withdrawals", response={200: Page[WithdrawalOut], **READ_ERRORS})
def withdrawals(request: HttpRequest, shop_id: Id, query: Query[PageQuery]) -> dict:
    page = paginate(selectors.holder_withdrawals(_shop(shop_id), request.user), query.page, query.page_size)
    page["items"] = [WithdrawalOut.from_model(w) for w in page["items"]]
    return page


@router.post("/shops/{int:shop_id}/withdrawals", response={201: WithdrawalOut, **WRITE_ERRORS})
def withdraw(request: HttpRequest, shop_id: Id, body: WithdrawIn) -> Status[WithdrawalOut]:
    withdrawal = actions.request_withdrawal(_shop(shop_id), request.user, body.amount_fen)
    return Status(201, WithdrawalOut.from_model(withdrawal))


@router.get("/console/withdrawals", response={200: Page[ConsoleWithdrawalOut], **CONSOLE_ERRORS})
def console_withdrawals(request: HttpRequest, query: Query[QueueQuery]) -> dict:
    shop = api_console_shop(request, actions.FINANCE_PERMISSION)
    page = paginate(selectors.withdrawal_queue(shop, query.status), query.page, query.page_size)
    page["items"] = [ConsoleWithdrawalOut.from_model(w) for w in page["items"]]
    return page


@router.post("/console/withdrawals/{int:withdrawal_id}/approve", response={200: ConsoleWithdrawalOut, **CONSOLE_ERRORS})
def console_approve(request: HttpRequest, withdrawal_id: Id) -> ConsoleWithdrawalOut:
    shop = api_console_shop(request, actions.FINANCE_PERMISSION)
    withdrawal = actions.approve_withdrawal(shop, withdrawal_id, request.user, ip=client_ip(request))
    return ConsoleWithdrawalOut.from_model(withdrawal)


@router.post("/console/withdrawals/{int:withdrawal_id}/reject", response={200: ConsoleWithdrawalOut, **CONSOLE_ERRORS})
def console_reject(request: HttpRequest, withdrawal_id: Id, body: RejectIn) -> ConsoleWithdrawalOut:
    shop = api_console_shop(request, actions.FINANCE_PERMISSION)
    withdrawal = actions.reject_withdrawal(shop, withdrawal_id, request.user, reason=body.reason, ip=client_ip(request))
    return ConsoleWithdrawalOut.from_model(withdrawal)
