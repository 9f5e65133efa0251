"""Pages: the landing hop of a promoter link (/r/<code>/?to=<path>), the member's promoter
centre (/promoter/) with share links and QR codes, and the QR image itself."""

import contextlib
import io
from decimal import Decimal
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shequn.catalog import selectors as catalog_selectors
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Category, Product
from shequn.communities.models import Community, CommunityMembership
from shequn.communities.selectors import current_q
from shequn.content.enums import ArticleStatus
from shequn.content.models import Article
from shequn.core.audit import client_ip
from shequn.core.errors import DomainError, InvalidInput, NotFound
from shequn.core.money import InvalidAmount, format_fen, parse_yuan
from shequn.core.pages import int_or_none
from shequn.core.phone import mask_name
from shequn.orders.models import Order
from shequn.shops.console import console_view
from shequn.shops.models import Shop
from shequn.shops.permissions import MANAGE_CATALOG
from shequn.wallets import ledger
from shequn.wallets.enums import AccountKind

from . import actions, figures, links, selectors
from .enums import PromoterStatus, RuleKind
from .errors import InvalidCode, LevelNotFound
from .models import Binding, DistributionSettings, Promoter, Visit

PENDING_CODE_SESSION_KEY = "distribution_ref"
SHOPS_TO_PROMOTE = 20
RULE_PRODUCT_CHOICES = 200
MAX_HUNDREDTHS_INPUT = 10_000_000  # ¥10,000,000 as a level threshold is more than enough


def bind_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A visitor who arrived through a link signed out is bound when they sign in."""
    if request is None or not hasattr(request, "session"):
        return
    code = request.session.pop(PENDING_CODE_SESSION_KEY, None)
    if not code:
        return
    with contextlib.suppress(DomainError):
        actions.do_bind(selectors.promoter_by_code(code), user)


def _safe_target(request: HttpRequest, target: str, fallback: str) -> str:
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return fallback


@require_GET
def landing(request: HttpRequest, code: str) -> HttpResponse:
    """Record the visit, bind a signed-in visitor (self-referral and loops are simply not bound),
    and go on to the page the link points at."""
    try:
        promoter = selectors.promoter_by_code(code)
    except InvalidCode:
        return redirect("/")
    home = reverse("catalog:shop_home", args=[promoter.shop.slug])
    target = _safe_target(request, request.GET.get("to", ""), home)
    device = actions.device_hash(client_ip(request), request.headers.get("User-Agent", ""))
    # The visit is kept even when the binding is refused (own code or a loop).
    with contextlib.suppress(DomainError):
        actions.record_visit(promoter.code, request.user, device=device, target=target)
    if not request.user.is_authenticated:
        request.session[PENDING_CODE_SESSION_KEY] = promoter.code  # bound when they sign in
    return redirect(target)


def promoter_home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    rows: list[dict[str, Any]] = []
    for promoter in Promoter.objects.filter(user=request.user).select_related("shop"):
        row: dict[str, Any] = {"promoter": promoter}
        if promoter.status == PromoterStatus.APPROVED:
            found = ledger.holder_balances(promoter.shop, request.user)
            row.update(
                shares=links.shares(promoter),
                visits=Visit.objects.filter(promoter=promoter).count(),
                customers=Binding.objects.filter(promoter=promoter).count(),
                frozen_fen=found.get(AccountKind.FROZEN, 0),
                available_fen=found.get(AccountKind.AVAILABLE, 0),
                paid_out_fen=found.get(AccountKind.PAID_OUT, 0),
                level=selectors.promoter_level(promoter),
                figures=figures.promoter_figures(promoter),
            )
        rows.append(row)
    apply_shop = Shop.objects.filter(slug=request.GET.get("shop", "")).first()
    if apply_shop is not None and any(row["promoter"].shop_id == apply_shop.pk for row in rows):
        apply_shop = None
    taken = {row["promoter"].shop_id for row in rows} | ({apply_shop.pk} if apply_shop else set())
    return render(
        request,
        "distribution/promoter_home.html",
        {"rows": rows, "apply_shop": apply_shop, "shops_to_promote": _shops_to_promote(request.user, taken)},
    )


def _shops_to_promote(user: Any, taken: set[int]) -> QuerySet[Shop]:
    """Shops the member knows (a current community member, or bought there) whose promotion is
    open and that they have not applied to: offered on the promoter centre, free to apply."""
    member_of = CommunityMembership.objects.filter(current_q(), user=user, community__is_active=True)
    bought_from = Order.objects.filter(user=user, paid_at__isnull=False)
    closed = DistributionSettings.objects.filter(enabled=False).values("shop_id")
    return (
        Shop.objects.filter(Q(pk__in=member_of.values("community__shop_id")) | Q(pk__in=bought_from.values("shop_id")))
        .exclude(pk__in=taken)
        .exclude(pk__in=closed)
        .order_by("name", "pk")[:SHOPS_TO_PROMOTE]
    )


@require_POST
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("distribution:promoter_home"))
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        return redirect("distribution:promoter_home")
    try:
        promoter = actions.do_apply(request.user, shop)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("申请已通过") if promoter.status == PromoterStatus.APPROVED else _("申请已提交，请等待审核")
        )
    return redirect("distribution:promoter_home")


@require_GET
def qr(request: HttpRequest, code: str) -> HttpResponse:
    """An SVG QR code of the full share link for ``?to=<page>``."""
    try:
        promoter = selectors.promoter_by_code(code)
    except InvalidCode:
        raise InvalidInput(_("推广码无效"), code="invalid_code") from None
    target = _safe_target(request, request.GET.get("to", ""), reverse("catalog:shop_home", args=[promoter.shop.slug]))
    url = request.build_absolute_uri(links.share_path(promoter, target))
    # A standalone SVG document (with its namespace), so that <img src> and a saved file render it.
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, xmldecl=False, title=_("推广二维码"))
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


def _poster_subject(promoter: Promoter, target: str) -> dict[str, Any] | None:
    """What a share target shows on the poster: one of the shop's pages that the promoter centre
    offers (home, a product on the shelf, a community poster, a published article), else None."""
    shop = promoter.shop
    try:
        match = resolve(target.split("?", 1)[0])
    except Resolver404:
        return None
    name, kwargs = match.view_name, match.kwargs
    if name == "catalog:shop_home" and kwargs.get("slug") == shop.slug:
        return {"title": shop.name, "image": shop.logo.url if shop.logo else None, "price_fen": None}
    if name == "catalog:product_detail" and kwargs.get("slug") == shop.slug:
        product = Product.objects.filter(shop=shop, pk=kwargs["product_id"], on_shelf=True).first()
        if product is None:
            return None
        prices = sorted({sku.price_fen for sku in catalog_selectors.active_skus(product)})
        cover = catalog_selectors.cover_image(product)
        return {
            "title": product.title,
            "image": cover.image.url if cover is not None else None,
            "price_fen": prices[0] if prices else None,
            "price_from": len(prices) > 1,
        }
    if name == "communities:join":
        community = Community.objects.filter(shop=shop, invite_code=kwargs["invite_code"], is_active=True).first()
        if community is None:
            return None
        return {"title": community.name, "image": community.cover.url if community.cover else None, "price_fen": None}
    if name == "content:article_detail":
        article = Article.objects.filter(
            shop=shop,
            pk=kwargs["article_id"],
            community_id=kwargs["community_id"],
            status=ArticleStatus.PUBLISHED,
            community__is_active=True,
        ).first()
        if article is None:
            return None
        return {"title": article.title, "image": article.cover.url if article.cover else None, "price_fen": None}
    return None


@require_GET
def poster(request: HttpRequest, code: str) -> HttpResponse:
    """The promoter's own share poster for ``?to=<page>``: what is shared, the QR code and the link,
    to be saved as an image. Only the (approved) promoter themself may open it; others get 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    promoter = (
        Promoter.objects.filter(code=code, user=request.user, status=PromoterStatus.APPROVED)
        .select_related("shop", "user")
        .first()
    )
    if promoter is None:
        raise NotFound(_("推广码不存在"), code="invalid_code")
    target = _safe_target(request, request.GET.get("to", ""), "")
    subject = _poster_subject(promoter, target) if target else None
    if subject is None:
        raise InvalidInput(
            _("不能为这个页面生成海报：只能分享本店的首页、在售商品、社群海报和已发布的文章"), code="invalid_target"
        )
    return render(
        request,
        "distribution/poster.html",
        {
            "promoter": promoter,
            "shop": promoter.shop,
            "subject": subject,
            "target": target,
            "share_url": request.build_absolute_uri(links.share_path(promoter, target)),
            "promoter_name": mask_name(promoter.user.display_name),
        },
    )


# --- operator console ----------------------------------------------------------------


@console_view(MANAGE_CATALOG)
@require_GET
def console_home(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    return render(
        request,
        "distribution/console/home.html",
        {
            "settings": selectors.shop_settings(shop),
            "rules": [
                {"rule": rule, "tier1": _rate(rule, rule.tier1_value), "tier2": _rate(rule, rule.tier2_value)}
                for rule in selectors.shop_rules(shop)
            ],
            "categories": Category.objects.filter(shop=shop),
            "products": Product.objects.filter(shop=shop)
            .exclude(kind=ProductKind.MEMBERSHIP)  # a membership fee earns no commission
            .order_by("-id")[:RULE_PRODUCT_CHOICES],
            "pending": selectors.shop_promoters(shop, PromoterStatus.PENDING)[:50],
            "approved_count": selectors.shop_promoters(shop, PromoterStatus.APPROVED).count(),
            "figures": figures.shop_figures(shop),
            "levels": [
                {"level": level, "extra_points": _points(level.extra_bp)} for level in selectors.shop_levels(shop)
            ],
        },
    )


@console_view(MANAGE_CATALOG)
@require_POST
def console_decide(request: HttpRequest, promoter_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    try:
        promoter = selectors.access_promoter(shop, promoter_id)
        actions.do_decide(
            request.user, shop, promoter, approve=request.POST.get("approve") == "1", ip=client_ip(request)
        )
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, _("已处理推广员申请"))
    return redirect("distribution:console_home")


@console_view(MANAGE_CATALOG)
@require_POST
def console_settings(request: HttpRequest) -> HttpResponse:
    """Only the allowed settings are on the form; anything else posted is refused by name."""
    shop = request.console_shop  # type: ignore[attr-defined]
    data: dict[str, Any] = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    for key in ("enabled", "auto_approve"):
        data[key] = data.get(key) == "on"
    try:
        actions.do_update_settings(request.user, shop, data, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("分销设置已保存"))
    return redirect("distribution:console_home")


def _rate(rule: Any, value: int) -> str:
    """How the console shows a tier's value: "10%" (basis points) or "¥1.50/件" (fen per unit)."""
    return f"{_points(value)}%" if rule.kind == RuleKind.PERCENT else _("%(value)s/件") % {"value": format_fen(value)}


@console_view(MANAGE_CATALOG)
@require_POST
def console_rule(request: HttpRequest) -> HttpResponse:
    """The form takes percent (按比例) or yuan per unit (固定金额), up to two decimals; both are
    ×100 in the rule (basis points, fen). Anything else posted goes to the action, which refuses
    what RULES.md forbids by name."""
    shop = request.console_shop  # type: ignore[attr-defined]
    data: dict[str, Any] = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken" and v != ""}
    for key in ("tier1_value", "tier2_value"):
        if key in data:
            value = _hundredths(data[key])
            if value is None:
                messages.error(request, _("佣金请填写数字：按比例填百分比（如 10 或 2.5），固定金额填元/件（如 1.50）"))
                return redirect("distribution:console_home")
            data[key] = value
    try:
        actions.do_save_rule(request.user, shop, data, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("佣金规则已保存"))
    return redirect("distribution:console_home")


@console_view(MANAGE_CATALOG)
@require_POST
def console_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    actions.do_delete_rule(request.user, shop, selectors.access_rule(shop, rule_id), ip=client_ip(request))
    messages.success(request, _("佣金规则已删除"))
    return redirect("distribution:console_home")


@console_view(MANAGE_CATALOG)
@require_POST
def console_level_delete(request: HttpRequest, level_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    level = selectors.access_level(shop, level_id)
    actions.do_delete_level(request.user, shop, level, ip=client_ip(request))
    messages.success(request, _("推广员等级「%(name)s」已删除") % {"name": level.name})
    return redirect(f"{reverse('distribution:console_home')}#levels")


def _hundredths(raw: str | None) -> int | None:
    """ "35.9" → 3590 (yuan → fen, or percentage points → basis points): both are read as
    yuan are, by ``core.money.parse_yuan`` (two decimals at most, no float). Blank, negative,
    malformed, finer than two decimals or above the cap → None; the caller says what it wanted."""
    try:
        return parse_yuan(raw, max_fen=MAX_HUNDREDTHS_INPUT * 100)
    except InvalidAmount:
        return None


def _points(bp: int) -> str:
    """150 basis points → "1.5" (percentage points, as the form takes them)."""
    return f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp % 100 else str(bp // 100)


@console_view(MANAGE_CATALOG)
@require_POST
def console_level(request: HttpRequest) -> HttpResponse:
    """Add a level (a new sales threshold) or edit one (its name and extra points; its threshold
    stays: a different threshold is a different level). Levels are earned by own sales only."""
    shop = request.console_shop  # type: ignore[attr-defined]
    level_id = int_or_none(request.POST.get("level_id"))
    existing = None
    if level_id is not None:
        existing = selectors.shop_levels(shop).filter(pk=level_id).first()
        if existing is None:
            raise LevelNotFound(_("等级不存在"))
    extra_bp = _hundredths(request.POST.get("extra_points"))
    min_sales_fen = existing.min_sales_fen if existing else _hundredths(request.POST.get("min_sales"))
    if min_sales_fen is None:
        messages.error(request, _("销售门槛请填写金额（元），例如 500 或 99.90"))
    elif extra_bp is None:
        messages.error(request, _("佣金加成请填写百分点，例如 2 或 1.5（最多两位小数）"))
    elif existing is None and (taken := selectors.shop_levels(shop).filter(min_sales_fen=min_sales_fen).first()):
        messages.error(
            request,
            _("销售门槛 %(min_sales_fen)s 已有等级「%(name)s」，请在列表中修改它")
            % {"min_sales_fen": format_fen(min_sales_fen), "name": taken.name},
        )
    else:
        try:
            level = actions.do_save_level(
                request.user,
                shop,
                name=request.POST.get("name") or "",
                min_sales_fen=min_sales_fen,
                extra_bp=extra_bp,
                ip=client_ip(request),
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("推广员等级「%(name)s」已保存") % {"name": level.name})
    return redirect(f"{reverse('distribution:console_home')}#levels")
