"""Pages of lotteries: the member's lottery page (rules, prizes, commitment, enter or spin, the
entry list, after the draw the seed, the winners and an in-page verification) and the console
(list, form, publish, draw, figures). Thin: parse, call one action, render."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.orders.selectors import DRIVEN_DAYS
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, draw, selectors
from .enums import LotteryMode, LotteryStatus, WinStatus
from .forms import LotteryForm
from .models import Lottery

MOVES = {
    "publish": (actions.publish_lottery, gettext_lazy("抽奖已发布，规则和奖品已公开")),
    "draw": (actions.draw_now, gettext_lazy("已开奖")),
}


# --- members -------------------------------------------------------------------------


@require_GET
def lottery_page(request: HttpRequest, lottery_id: int) -> HttpResponse:
    lottery = selectors.public_lottery(lottery_id)
    user = request.user
    wins = selectors.my_wins(user, lottery)
    claimable = any(win.status == WinStatus.WON for win in wins)
    context = {
        "lottery": lottery,
        "prizes": selectors.prizes(lottery),
        "instant": lottery.mode == LotteryMode.INSTANT,
        "drawn": lottery.status == LotteryStatus.DRAWN,
        "entry": selectors.my_entry(user, lottery),
        "entries": selectors.public_entries(lottery) if lottery.mode == LotteryMode.DRAW else [],
        "winners": selectors.verification(lottery)["winners"],
        "spins_left": selectors.spins_left(user, lottery),
        "wins": wins,
        "destinations": selectors.claim_destinations(user, lottery) if claimable else None,
        "algorithm": draw.ALGORITHM,
    }
    return render(request, "lotteries/lottery.html", context)


def _member_post(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


@require_POST
def enter_submit(request: HttpRequest, lottery_id: int) -> HttpResponse:
    if (login := _member_post(request)) is not None:
        return login
    try:
        entry, created = actions.enter(request.user, lottery_id)
        if created:
            messages.success(request, _("参与成功，你的编号是 %(number)d") % {"number": entry.number})
        else:
            messages.info(request, _("你已参与，编号 %(number)d") % {"number": entry.number})
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("lotteries:lottery", lottery_id)


@require_POST
def spin_submit(request: HttpRequest, lottery_id: int) -> HttpResponse:
    if (login := _member_post(request)) is not None:
        return login
    try:
        result = actions.spin(request.user, lottery_id, client_ip=client_ip(request))
        if result.spin is None:
            messages.info(request, _("正在开奖，请稍后刷新查看结果"))
        elif result.spin.prize is not None:
            messages.success(request, _("恭喜你抽中「%(prize)s」！") % {"prize": result.spin.prize.name})
        else:
            messages.info(request, _("谢谢参与，未中奖"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("lotteries:lottery", lottery_id)


@require_POST
def claim_submit(request: HttpRequest, win_id: int) -> HttpResponse:
    if (login := _member_post(request)) is not None:
        return login
    win = selectors.my_win(request.user, win_id)
    fulfilment = request.POST.get("fulfilment", "")
    try:
        claimed = actions.claim_prize(
            request.user,
            win.pk,
            fulfilment=fulfilment,
            address_id=_int(request.POST.get("address_id")),
            pickup_point_id=_int(request.POST.get("pickup_point_id")),
        )
        if claimed.order is not None:
            messages.success(request, _("领取成功，已生成 0 元奖品订单"))
            return redirect("orders:order_detail", claimed.order.number)
        if claimed.coupon is not None:
            messages.success(request, _("领取成功，优惠券已放入“我的优惠券”"))
        else:
            messages.success(request, _("领取成功，红包已存入你的钱包"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("lotteries:lottery", win.lottery_id)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


# --- console ---------------------------------------------------------------------------


@console_view(MANAGE_CATALOG)
@require_GET
def console_lotteries(request: HttpRequest) -> HttpResponse:
    lotteries = selectors.shop_lotteries(request.console_shop)[:100]  # type: ignore[attr-defined]
    return render(request, "lotteries/console/lotteries.html", {"lotteries": lotteries})


def _console_form(request: HttpRequest, lottery: Lottery | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        form = LotteryForm(request.POST, shop=shop, lottery=lottery)
        if form.is_valid():
            try:
                if lottery is None:
                    lottery = actions.create_lottery(shop, request.user, form.to_input(), ip=client_ip(request))
                else:
                    actions.update_lottery(shop, request.user, lottery.pk, form.to_input(), ip=client_ip(request))
                messages.success(request, _("抽奖已保存"))
                return redirect("lotteries:console_lottery", lottery.pk)
            except DomainError as error:
                form.show_error(error.message, (error.details or {}).get("field"))
    else:
        form = LotteryForm(shop=shop, lottery=lottery)
    return render(request, "lotteries/console/form.html", {"form": form, "lottery": lottery})


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_create(request: HttpRequest) -> HttpResponse:
    return _console_form(request, None)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_edit(request: HttpRequest, lottery_id: int) -> HttpResponse:
    return _console_form(request, selectors.access_lottery(request.console_shop, lottery_id))  # type: ignore[attr-defined]


@console_view(MANAGE_CATALOG)
@require_GET
def console_lottery(request: HttpRequest, lottery_id: int) -> HttpResponse:
    lottery = selectors.access_lottery(request.console_shop, lottery_id)  # type: ignore[attr-defined]
    context = {"lottery": lottery, "figures": selectors.figures(lottery), "driven_days": DRIVEN_DAYS}
    return render(request, "lotteries/console/lottery.html", context)


@console_view(MANAGE_CATALOG)
@require_POST
def console_move(request: HttpRequest, lottery_id: int, move: str) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    lottery = selectors.access_lottery(shop, lottery_id)
    if move not in MOVES:
        return redirect("lotteries:console_lottery", lottery.pk)
    action, done = MOVES[move]
    try:
        action(shop, request.user, lottery.pk, ip=client_ip(request))
        messages.success(request, done)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("lotteries:console_lottery", lottery.pk)
