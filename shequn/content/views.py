"""Member pages (article list, article, service box) and console pages (articles, calendar,
pushes, keyword replies). Thin: parse, call one action, render. Domain errors raised here
(404 for non-members, 403 for weak roles) become friendly pages in the core middleware."""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.catalog import selectors as catalog_selectors
from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.pages import field_errors, int_or_none
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import ArticleStatus, MatchType, PushStatus

PAGE_SIZE = 20


def _cards(article: Any) -> list[dict[str, Any]]:
    return [
        {
            "product": card.product,
            "price_fen": selectors.card_price_fen(card),
            "buy_url": selectors.buy_url(card.product, article.pk),
        }
        for card in getattr(article, "product_cards", [])
    ]


# --- members -----------------------------------------------------------------------


@require_GET
def article_list(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    community = selectors.access_member_content(request.user, community_id)
    page_obj = Paginator(selectors.member_articles(community), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "content/article_list.html", {"community": community, "page_obj": page_obj})


@require_GET
def article_detail(request: HttpRequest, community_id: int, article_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    article = selectors.access_member_article(request.user, community_id, article_id)
    return render(
        request,
        "content/article_detail.html",
        {
            "community": article.community,
            "article": article,
            # The body was sanitised by actions.sanitize_html when it was saved.
            "body_html": mark_safe(article.body),  # noqa: S308
            "cards": _cards(article),
        },
    )


@require_http_methods(["GET", "POST"])
def service_box(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    community = selectors.access_member_content(request.user, community_id)
    typed = (request.POST.get("text") or "").strip()[:100] if request.method == "POST" else ""
    reply = actions.answer_keyword(community, typed) if typed else None
    return render(request, "content/service_box.html", {"community": community, "typed": typed, "reply": reply})


# --- console -----------------------------------------------------------------------


@console_view(MANAGE_COMMUNITIES)
def console_home(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    return render(
        request,
        "content/console/home.html",
        {
            "communities": selectors.shop_communities(shop),
            "articles": selectors.shop_articles(shop)[:20],
        },
    )


@console_view(MANAGE_COMMUNITIES)
def console_community(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    page_obj = Paginator(selectors.community_articles(community), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "content/console/community.html", {"community": community, "page_obj": page_obj})


def _parse_local(value: str | None) -> datetime | None:
    """A datetime-local input (naive, the shop's local time) as an aware datetime."""
    parsed = parse_datetime(value or "")
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _article_input(request: HttpRequest) -> actions.ArticleInput:
    post = request.POST
    return actions.ArticleInput(
        title=post.get("title") or "",
        body=post.get("body") or "",
        status=post.get("status") or ArticleStatus.DRAFT,
        publish_at=_parse_local(post.get("publish_at")),
        push_enabled=post.get("push_enabled") == "1",
        members_only=post.get("members_only", "1") == "1",
        product_ids=[pk for pk in (int_or_none(value) for value in post.getlist("product_ids")) if pk],
        cover=request.FILES.get("cover"),
        audio=request.FILES.get("audio"),
        audio_duration_seconds=int_or_none(post.get("audio_duration_seconds")),
    )


def _render_form(
    request: HttpRequest,
    community: Any,
    article: Any,
    *,
    errors: dict[str, str] | None = None,
    error_message: str = "",
    status: int = 200,
) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    chosen = {card.product_id for card in getattr(article, "product_cards", [])} if article else set()
    if request.method == "POST":
        chosen = {pk for pk in (int_or_none(v) for v in request.POST.getlist("product_ids")) if pk}
    return render(
        request,
        "content/console/article_form.html",
        {
            "community": community,
            "article": article,
            "products": catalog_selectors.card_products(shop),
            "chosen": chosen,
            "values": request.POST if request.method == "POST" else None,
            "errors": errors or {},
            "error_message": error_message,
            "statuses": ArticleStatus.choices,
        },
        status=status,
    )


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_article_new(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    if request.method == "POST":
        try:
            article = actions.do_create_article(
                shop, community, _article_input(request), actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            return _render_form(
                request, community, None, errors=field_errors(error), error_message=error.message, status=error.status
            )
        messages.success(request, _("文章已保存"))
        return redirect("content:console_article_edit", article_id=article.pk)
    return _render_form(request, community, None)


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    article = selectors.access_article(shop, article_id)
    if request.method == "POST":
        try:
            actions.do_update_article(shop, article, _article_input(request), actor=request.user, ip=client_ip(request))
        except DomainError as error:
            return _render_form(
                request,
                article.community,
                article,
                errors=field_errors(error),
                error_message=error.message,
                status=error.status,
            )
        messages.success(request, _("文章已保存"))
        return redirect("content:console_article_edit", article_id=article.pk)
    return _render_form(request, article.community, article)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_article_push(request: HttpRequest, article_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    article = selectors.access_article(shop, article_id)
    try:
        actions.do_push_now(shop, article, actor=request.user, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已开始推送"))
    return redirect("content:console_push_jobs")


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_calendar(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    today = timezone.localdate()
    year = int_or_none(request.GET.get("year")) or today.year
    month = int_or_none(request.GET.get("month")) or today.month
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        year, month = today.year, today.month
    by_day: dict[Any, list[Any]] = {}
    for article in selectors.calendar_articles(shop, year, month):
        by_day.setdefault(selectors.calendar_day(article), []).append(article)
    days = [{"date": day, "articles": by_day.get(day, [])} for day in selectors.month_days(year, month)]
    previous = (year - (month == 1), (month - 2) % 12 + 1)
    following = (year + (month == 12), month % 12 + 1)
    return render(
        request,
        "content/console/calendar.html",
        {"year": year, "month": month, "days": days, "previous": previous, "following": following},
    )


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_push_jobs(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    page_obj = Paginator(selectors.shop_push_jobs(shop), PAGE_SIZE).get_page(request.GET.get("page"))
    any_running = any(job.status != PushStatus.DONE for job in page_obj.object_list)
    return render(request, "content/console/push_jobs.html", {"page_obj": page_obj, "any_running": any_running})


def _rule_input(request: HttpRequest) -> actions.KeywordRuleInput:
    post = request.POST
    return actions.KeywordRuleInput(
        keyword=post.get("keyword") or "",
        match_type=post.get("match_type") or MatchType.EXACT,
        reply_article_id=int_or_none(post.get("reply_article_id")),
        reply_text=post.get("reply_text") or "",
        is_active=post.get("is_active", "1") == "1",
    )


def _render_keywords(
    request: HttpRequest, community: Any, *, error_message: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "content/console/keywords.html",
        {
            "community": community,
            "rules": selectors.community_keyword_rules(community),
            "articles": selectors.community_articles(community).filter(status=ArticleStatus.PUBLISHED),
            "settings": selectors.content_settings(community),
            "match_types": MatchType.choices,
            "error_message": error_message,
        },
        status=status,
    )


@console_view(MANAGE_COMMUNITIES)
@require_http_methods(["GET", "POST"])
def console_keywords(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    if request.method == "POST":
        try:
            actions.do_create_keyword_rule(
                shop, community, _rule_input(request), actor=request.user, ip=client_ip(request)
            )
        except DomainError as error:
            detail = _("；").join(field_errors(error).values())
            return _render_keywords(request, community, error_message=detail or error.message, status=error.status)
        messages.success(request, _("关键词已添加"))
        return redirect("content:console_keywords", community_id=community.pk)
    return _render_keywords(request, community)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_keyword_update(request: HttpRequest, rule_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    rule = selectors.access_keyword_rule(shop, rule_id)
    try:
        actions.do_update_keyword_rule(shop, rule, _rule_input(request), actor=request.user, ip=client_ip(request))
    except DomainError as error:
        detail = _("；").join(field_errors(error).values())
        return _render_keywords(request, rule.community, error_message=detail or error.message, status=error.status)
    messages.success(request, _("关键词已保存"))
    return redirect("content:console_keywords", community_id=rule.community_id)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_keyword_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    rule = selectors.access_keyword_rule(shop, rule_id)
    community_id = rule.community_id
    actions.do_delete_keyword_rule(shop, rule, actor=request.user, ip=client_ip(request))
    messages.success(request, _("关键词已删除"))
    return redirect("content:console_keywords", community_id=community_id)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_settings(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    try:
        actions.do_update_settings(
            shop,
            community,
            max_pushes_per_day=int_or_none(request.POST.get("max_pushes_per_day")) or 0,
            default_reply=request.POST.get("default_reply") or "",
            actor=request.user,
            ip=client_ip(request),
        )
    except DomainError as error:
        detail = _("；").join(field_errors(error).values())
        return _render_keywords(request, community, error_message=detail or error.message, status=error.status)
    messages.success(request, _("设置已保存"))
    return redirect("content:console_keywords", community_id=community.pk)
