"""The holder's wallet page (/wallet/), the finance withdrawals queue (/console/withdrawals/) and
the payout gateway's callback. Thin: parse, call one action, render."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.pages import form_errors, int_or_none
from shequn.shops.console import console_view

from . import actions, conf, ledger, selectors
from .enums import AccountKind, WithdrawalStatus
from .forms import WithdrawalForm

PAGE_SIZE = 30


@require_http_methods(["GET", "POST"])
def wallet(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    shops = list(selectors.holder_shops(request.user))
    wanted = int_or_none(request.POST.get("shop") if request.method == "POST" else request.GET.get("shop"))
    shop = next((s for s in shops if s.pk == wanted), shops[0] if shops else None)
    errors: dict[str, str] = {}
    amount_text = ""
    if request.method == "POST" and shop is not None:
        amount_text = request.POST.get("amount") or ""
        form = WithdrawalForm(request.POST)
        if not form.is_valid():
            errors = form_errors(form)
        else:
            try:
                withdrawal = actions.request_withdrawal(shop, request.user, form.cleaned_data["amount"])
            except DomainError as error:
                errors["amount"] = error.message
            else:
                messages.success(
                    request, _("已提交提现申请 %(out_bill_no)s，等待审核") % {"out_bill_no": withdrawal.out_bill_no}
                )
                return redirect(f"{reverse('wallets:wallet')}?shop={shop.pk}")
    context: dict = {"shops": shops, "shop": shop, "errors": errors, "amount_text": amount_text}
    if shop is not None:
        context.update(
            balances=ledger.holder_balances(shop, request.user),
            spendable_fen=ledger.balance(shop, AccountKind.SPENDABLE, request.user),
            entries=Paginator(selectors.holder_entries(shop, request.user), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            withdrawals=selectors.holder_withdrawals(shop, request.user)[:10],
            min_fen=conf.min_withdrawal_fen(),
            daily_limit_fen=conf.daily_withdrawal_limit_fen(),
        )
    return render(request, "wallets/wallet.html", context, status=422 if errors else 200)


@console_view(actions.FINANCE_PERMISSION)
@require_GET
def console_withdrawals(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    status = request.GET.get("status") or ""
    if status not in WithdrawalStatus.values:
        status = ""
    return render(
        request,
        "wallets/console/withdrawals.html",
        {
            "page_obj": Paginator(selectors.withdrawal_queue(shop, status), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "status": status,
            "statuses": WithdrawalStatus.choices,
            "second_above_fen": conf.second_approval_above_fen(),
        },
    )


@console_view(actions.FINANCE_PERMISSION)
@require_POST
def console_withdrawal_decide(request: HttpRequest, withdrawal_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    try:
        if request.POST.get("action") == "reject":
            done = actions.reject_withdrawal(
                shop, withdrawal_id, request.user, reason=request.POST.get("reason") or "", ip=client_ip(request)
            )
            messages.success(request, _("已驳回 %(out_bill_no)s，金额已退回") % {"out_bill_no": done.out_bill_no})
        else:
            done = actions.approve_withdrawal(shop, withdrawal_id, request.user, ip=client_ip(request))
            if done.status == WithdrawalStatus.FIRST_APPROVED:
                messages.success(
                    request, _("已初审 %(out_bill_no)s，需要另一位财务人员复核") % {"out_bill_no": done.out_bill_no}
                )
            else:
                messages.success(request, _("已审核 %(out_bill_no)s，正在打款") % {"out_bill_no": done.out_bill_no})
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(reverse("wallets:console_withdrawals"))


@csrf_exempt
@require_POST
def payout_notify(request: HttpRequest) -> HttpResponse:
    """The payout gateway's result callback (signed). Answers like WeChat expects."""
    try:
        actions.handle_payout_notification(request.headers, request.body)
    except DomainError as error:
        return JsonResponse({"code": "FAIL", "message": error.message}, status=400)
    return HttpResponse(status=204)
