"""Pages of the member card: the member's card (level, progress, points, QR, member prices, the
published rules), points history and my cards; the console (rules, levels, level prices, category
rates, cards). Thin: a form, one action, a redirect or the form again."""

import io

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_CATALOG
from shequn.shops.selectors import access_shop_by_slug

from . import actions, points, selectors
from .forms import BirthdayForm, CategoryRateForm, LevelForm, LevelPricesForm, ProgramForm, ShopItemForm
from .models import MemberLevel

# --- members -------------------------------------------------------------------------------


@login_required
@require_GET
def my_cards(request: HttpRequest) -> HttpResponse:
    return render(request, "loyalty/my_cards.html", {"cards": selectors.member_cards(request.user)[:50]})


@login_required
@require_GET
def card(request: HttpRequest, shop_slug: str) -> HttpResponse:
    """The member's card in a shop, or the offer to open one with the shop's published rules."""
    shop = access_shop_by_slug(shop_slug)
    view = selectors.card_view(request.user, shop)
    context = {
        "shop": shop,
        "program": view.program if view else selectors.program_of(shop),
        "view": view,
        "levels": view.levels if view else selectors.shop_levels(shop),
        "prices": selectors.level_prices(view.level) if view and view.level else [],
        "birthday_form": BirthdayForm(),
        "shop_items": selectors.points_shop(shop) if view else [],
    }
    return render(request, "loyalty/card.html", context)


@login_required
@require_POST
def open_card(request: HttpRequest, shop_slug: str) -> HttpResponse:
    shop = access_shop_by_slug(shop_slug)
    try:
        actions.open_card(request.user, shop)
        messages.success(request, _("会员卡已开通"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("loyalty:card", shop_slug=shop.slug)


@login_required
@require_POST
def set_birthday(request: HttpRequest, shop_slug: str) -> HttpResponse:
    shop = access_shop_by_slug(shop_slug)
    form = BirthdayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写正确的生日"))
    else:
        try:
            actions.set_birthday(request.user, shop, form.cleaned_data["birthday"])
            messages.success(request, _("生日已保存"))
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("loyalty:card", shop_slug=shop.slug)


@login_required
@require_POST
def exchange(request: HttpRequest, shop_slug: str, points_shop_item_id: int) -> HttpResponse:
    """积分兑换: a coupon of the points shop for its points."""
    shop = access_shop_by_slug(shop_slug)
    try:
        coupon = actions.exchange(request.user, shop, points_shop_item_id)
        messages.success(request, _("兑换成功：%(name)s") % {"name": coupon.template.name})
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("loyalty:card", shop_slug=shop.slug)


@login_required
@require_GET
def card_qr(request: HttpRequest, shop_slug: str) -> HttpResponse:
    """The card's QR (its number), shown at the counter."""
    shop = access_shop_by_slug(shop_slug)
    view = selectors.card_view(request.user, shop)
    if view is None:
        return HttpResponse(status=404)
    buffer = io.BytesIO()
    segno.make(view.card.number, error="m").save(
        buffer, kind="svg", scale=6, border=2, xmldecl=True, title=_("会员卡二维码")
    )
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_GET
def points_history(request: HttpRequest, shop_slug: str) -> HttpResponse:
    shop = access_shop_by_slug(shop_slug)
    entries = selectors.points_history(shop, request.user)[:200]
    return render(request, "loyalty/points.html", {"shop": shop, "entries": entries})


# --- console -------------------------------------------------------------------------------


def _home(request: HttpRequest, program_form: ProgramForm | None = None, status: int = 200) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    program = selectors.program_of(shop)
    context = {
        "program": program,
        "program_form": program_form or ProgramForm(program=program),
        "levels": selectors.shop_levels(shop),
        "rates": selectors.category_rates(shop),
        "cards": selectors.shop_cards(shop)[:50],
        "shop_items": selectors.points_shop(shop, active_only=False),
        "item_form": ShopItemForm(shop=shop),
        "card_count": selectors.shop_cards(shop).count(),
        "outstanding": points.outstanding(shop),
    }
    return render(request, "loyalty/console/home.html", context, status=status)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_home(request: HttpRequest) -> HttpResponse:
    """The shop's card rules (a form), its levels and category rates, and the latest cards."""
    if request.method == "GET":
        return _home(request)
    form = ProgramForm(request.POST)
    if form.is_valid():
        try:
            actions.save_program(request.console_shop, request.user, form.to_input(), ip=client_ip(request))  # type: ignore[attr-defined]
            messages.success(request, _("会员卡规则已保存"))
            return redirect("loyalty:console_home")
        except DomainError as error:
            form.show_error(error.message, (error.details or {}).get("field"))
    return _home(request, form, status=422)


@console_view(MANAGE_CATALOG)
@require_POST
def console_shop_item(request: HttpRequest) -> HttpResponse:
    """Offer a coupon in the points shop (or change its points, or take it off)."""
    shop = request.console_shop  # type: ignore[attr-defined]
    form = ShopItemForm(request.POST, shop=shop)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.save_shop_item(
                shop,
                request.user,
                data["coupon_template"].pk,
                data["points"],
                is_active=data["is_active"],
                ip=client_ip(request),
            )
            messages.success(request, _("积分商城已保存"))
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("请选择优惠券并填写兑换所需积分"))
    return redirect("loyalty:console_home")


@console_view(MANAGE_CATALOG)
@require_POST
def console_category_rate(request: HttpRequest) -> HttpResponse:
    form = CategoryRateForm(request.POST)
    if form.is_valid():
        try:
            actions.set_category_rate(
                request.console_shop,  # type: ignore[attr-defined]
                request.user,
                form.cleaned_data["category_id"],
                form.cleaned_data["points_per_yuan"],
                ip=client_ip(request),
            )
            messages.success(request, _("分类积分已保存"))
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("请填写 0 到 100 的整数"))
    return redirect("loyalty:console_home")


def _level_page(request: HttpRequest, level: MemberLevel | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        form = LevelForm(request.POST, shop=shop, level=level)
        if form.is_valid():
            try:
                saved = actions.save_level(
                    shop, request.user, form.to_input(), level_id=level.pk if level else None, ip=client_ip(request)
                )
                messages.success(request, _("等级已保存"))
                return redirect("loyalty:console_level", saved.pk)
            except DomainError as error:
                form.show_error(error.message, (error.details or {}).get("field"))
        status = 422
    else:
        form, status = LevelForm(shop=shop, level=level), 200
    prices_form = None
    if level is not None:
        skus = selectors.level_price_skus(shop)
        prices_form = LevelPricesForm(skus=skus, prices=selectors.prices_of(level))
    context = {"form": form, "level": level, "prices_form": prices_form}
    return render(request, "loyalty/console/level.html", context, status=status)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_level_create(request: HttpRequest) -> HttpResponse:
    return _level_page(request, None)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_level(request: HttpRequest, member_level_id: int) -> HttpResponse:
    return _level_page(request, selectors.access_level(request.console_shop, member_level_id))  # type: ignore[attr-defined]


@console_view(MANAGE_CATALOG)
@require_POST
def console_level_prices(request: HttpRequest, member_level_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    level = selectors.access_level(shop, member_level_id)
    form = LevelPricesForm(request.POST, skus=selectors.level_price_skus(shop), prices=selectors.prices_of(level))
    if form.is_valid():
        try:
            count = actions.set_level_prices(shop, request.user, level.pk, form.to_prices(), ip=client_ip(request))
            messages.success(request, _("已保存 %(count)s 个等级价") % {"count": count})
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("请检查价格：%(error)s") % {"error": next(iter(form.errors.values()))[0]})
    return redirect("loyalty:console_level", level.pk)


@console_view(MANAGE_CATALOG)
@require_POST
def console_level_delete(request: HttpRequest, member_level_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    level = selectors.access_level(shop, member_level_id)  # another shop's level: 404
    try:
        actions.delete_level(shop, request.user, level.pk, ip=client_ip(request))
        messages.success(request, _("等级已删除"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("loyalty:console_home")
