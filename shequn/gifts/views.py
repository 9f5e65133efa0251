"""Pages of gifts: buy one (then pay at the cashier), the buyer's list with claim links, and the
claim page the link opens. Thin: parse, call one action, render."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.errors import DomainError
from shequn.core.phone import mask_name

from . import actions, selectors
from .actions import MAX_MESSAGE_LENGTH
from .enums import GiftStatus
from .kinds import rules_for


class BuyForm(forms.Form):
    sku_id = forms.IntegerField(min_value=1, max_value=2**53)
    payment_method = forms.CharField(max_length=16)
    message = forms.CharField(max_length=MAX_MESSAGE_LENGTH, required=False)


@login_required
@require_POST
def buy(request: HttpRequest) -> HttpResponse:
    form = BuyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请重新选择要送的礼物"))
        return redirect("gifts:mine")
    try:
        gift = actions.do_buy(
            request.user,
            form.cleaned_data["sku_id"],
            payment_method=form.cleaned_data["payment_method"],
            message=form.cleaned_data["message"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("gifts:mine")
    return redirect("orders:order_detail", gift.order.number)  # pay it there, as any order


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    gifts = list(selectors.sent_gifts(request.user)[:100])
    rows = [
        {
            "gift": gift,
            "link": request.build_absolute_uri(f"/gifts/claim/{gift.token}/"),
            "recipient": mask_name(gift.recipient.nickname) if gift.recipient else "",
        }
        for gift in gifts
    ]
    return render(request, "gifts/mine.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    gift = selectors.access_claimable(token)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            gift = actions.do_claim(request.user, token)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("gifts:claim", token)
        rules = rules_for(gift.kind)
        messages.success(request, _("领取成功，礼物已放入你的账户"))
        return redirect(rules.claimed_url(gift) if rules else "/")
    claimable = gift.status == GiftStatus.OPEN and gift.claim_by is not None and gift.claim_by > timezone.now()
    context = {
        "gift": gift,
        "sender": mask_name(gift.sender.nickname or ""),
        "claimable": claimable,
        "line": gift.order.lines.first(),
    }
    return render(request, "gifts/claim.html", context)
