"""Member pages of the board (home, thread, new thread) and its console pages (categories,
settings, threads, the moderation queue). Thin: parse, call one action, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.pages import field_errors, int_or_none
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import ReportStatus

PAGE_SIZE = 20
COMMENT_PAGE_SIZE = 50


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the form came from (``next``), when it is one of ours."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


# --- members -----------------------------------------------------------------------


@require_GET
def board_home(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    community = selectors.access_member_board(request.user, community_id)
    search = (request.GET.get("q") or "").strip()
    category_id = int_or_none(request.GET.get("category"))
    featured = request.GET.get("featured") == "1"
    threads = selectors.board_threads(community, search=search, category_id=category_id, featured_only=featured)
    return render(
        request,
        "board/board_home.html",
        {
            "community": community,
            "categories": selectors.active_categories(community),
            "page_obj": Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page")),
            "search": search,
            "category_id": category_id,
            "featured": featured,
            "is_muted": selectors.is_muted(request.user, community),
        },
    )


@require_http_methods(["GET", "POST"])
def thread_new(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    community = selectors.access_member_board(request.user, community_id)
    values: dict[str, Any] = {
        "category": int_or_none(request.GET.get("category")),
        "title": "",
        "body": "",
        "is_promotional": False,
    }
    errors: dict[str, str] = {}
    error_message = ""
    status = 200
    if request.method == "POST":
        values = {
            "category": int_or_none(request.POST.get("category")),
            "title": request.POST.get("title") or "",
            "body": request.POST.get("body") or "",
            "is_promotional": request.POST.get("is_promotional") == "1",
        }
        try:
            thread = actions.do_create_thread(
                request.user,
                community,
                category_id=values["category"],
                title=values["title"],
                body=values["body"],
                is_promotional=values["is_promotional"],
            )
        except DomainError as error:
            errors = field_errors(error)
            error_message = error.message
            status = error.status
        else:
            messages.success(request, _("发布成功"))
            return redirect("board:thread_detail", community_id=community.pk, thread_id=thread.pk)
    return render(
        request,
        "board/thread_form.html",
        {
            "community": community,
            "categories": selectors.active_categories(community),
            "values": values,
            "errors": errors,
            "error_message": error_message,
            "is_muted": selectors.is_muted(request.user, community),
            "promotional_limit": selectors.promotional_limit(community),
        },
        status=status,
    )


def _render_thread(
    request: HttpRequest, thread: Any, *, comment_value: str = "", comment_error: str = "", status: int = 200
) -> HttpResponse:
    community = thread.community
    comments = selectors.thread_comments(thread)
    return render(
        request,
        "board/thread_detail.html",
        {
            "community": community,
            "thread": thread,
            "comments_page": Paginator(comments, COMMENT_PAGE_SIZE).get_page(request.GET.get("page")),
            "liked": selectors.has_liked(request.user, thread),
            "is_muted": selectors.is_muted(request.user, community),
            "is_moderator": selectors.is_board_moderator(request.user, community),
            "comment_value": comment_value,
            "comment_error": comment_error,
        },
        status=status,
    )


@require_GET
def thread_detail(request: HttpRequest, community_id: int, thread_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _render_thread(request, selectors.access_member_thread(request.user, community_id, thread_id))


@require_POST
def thread_comment(request: HttpRequest, community_id: int, thread_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("board:thread_detail", args=[community_id, thread_id]))
    thread = selectors.access_member_thread(request.user, community_id, thread_id)
    body = request.POST.get("body") or ""
    try:
        actions.do_comment(request.user, thread, body)
    except DomainError as error:
        return _render_thread(request, thread, comment_value=body, comment_error=error.message, status=error.status)
    messages.success(request, _("评论成功"))
    return redirect(reverse("board:thread_detail", args=[community_id, thread_id]) + "#comments")


@require_POST
def thread_like(request: HttpRequest, community_id: int, thread_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("board:thread_detail", args=[community_id, thread_id]))
    thread = selectors.access_member_thread(request.user, community_id, thread_id)
    actions.do_toggle_like(request.user, thread)
    return redirect(reverse("board:thread_detail", args=[community_id, thread_id]) + "#like")


@require_POST
def thread_report(request: HttpRequest, community_id: int, thread_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("board:thread_detail", args=[community_id, thread_id]))
    thread = selectors.access_member_thread(request.user, community_id, thread_id)
    comment_id = int_or_none(request.POST.get("comment_id"))
    comment = selectors.access_member_comment(thread, comment_id) if comment_id else None
    try:
        actions.do_report(request.user, thread, request.POST.get("reason") or "", comment=comment)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已收到你的举报，管理员会尽快处理"))
    return redirect("board:thread_detail", community_id=community_id, thread_id=thread_id)


@require_POST
def thread_flags(request: HttpRequest, community_id: int, thread_id: int) -> HttpResponse:
    """The community's owner and admins pin and feature threads from the thread page."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("board:thread_detail", args=[community_id, thread_id]))
    thread = selectors.access_member_thread(request.user, community_id, thread_id)
    actions.check_board_moderator(request.user, thread.community)
    actions.do_set_thread_flags(
        thread,
        is_pinned=_flag(request.POST.get("is_pinned")),
        is_featured=_flag(request.POST.get("is_featured")),
        actor=request.user,
        ip=client_ip(request),
    )
    messages.success(request, _("已更新"))
    return redirect("board:thread_detail", community_id=community_id, thread_id=thread_id)


def _flag(value: str | None) -> bool | None:
    """ "1" → True, "0" → False, absent → unchanged."""
    return None if value in (None, "") else value == "1"


# --- console -----------------------------------------------------------------------


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_board(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    return render(
        request,
        "board/console/board.html",
        {
            "communities": selectors.shop_communities(shop),
            "open_reports": selectors.moderation_queue(shop).count(),
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_community(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    search = (request.GET.get("q") or "").strip()
    threads = selectors.community_threads(community, search=search)
    return render(
        request,
        "board/console/community.html",
        {
            "community": community,
            "categories": selectors.community_categories(community),
            "board_settings": selectors.board_settings(community),
            "page_obj": Paginator(threads, PAGE_SIZE).get_page(request.GET.get("page")),
            "search": search,
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_category_create(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    try:
        category = actions.do_create_category(
            shop,
            community,
            request.POST.get("name") or "",
            int_or_none(request.POST.get("position")),
            actor=request.user,
            ip=client_ip(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已添加分类「%(name)s」") % {"name": category.name})
    return redirect("board:console_community", community_id=community.pk)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_category_update(request: HttpRequest, category_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    category = selectors.access_category(shop, category_id)
    try:
        actions.do_update_category(
            shop,
            category,
            name=request.POST.get("name") or "",
            position=int_or_none(request.POST.get("position")) or 0,
            is_active=request.POST.get("is_active") == "1",
            actor=request.user,
            ip=client_ip(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("分类已保存"))
    return redirect("board:console_community", community_id=category.community_id)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_settings(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    limit = int_or_none(request.POST.get("max_promotional_threads_per_day"))
    try:
        actions.do_update_board_settings(
            shop,
            community,
            max_promotional_threads_per_day=-1 if limit is None else limit,
            actor=request.user,
            ip=client_ip(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("互动区设置已保存"))
    return redirect("board:console_community", community_id=community.pk)


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_thread(request: HttpRequest, thread_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    thread = selectors.access_thread(shop, thread_id)
    return render(
        request,
        "board/console/thread.html",
        {"thread": thread, "comments": thread.comments.select_related("author").order_by("created_at", "id")},
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_thread_flags(request: HttpRequest, thread_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    thread = selectors.access_thread(shop, thread_id)
    actions.do_set_thread_flags(
        thread,
        is_pinned=_flag(request.POST.get("is_pinned")),
        is_featured=_flag(request.POST.get("is_featured")),
        actor=request.user,
        ip=client_ip(request),
    )
    messages.success(request, _("帖子已更新"))
    return _back(request, reverse("board:console_community", args=[thread.community_id]))


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_thread_hidden(request: HttpRequest, thread_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    thread = selectors.access_thread(shop, thread_id)
    hidden = request.POST.get("hidden") == "1"
    actions.do_set_thread_hidden(shop, thread, hidden, actor=request.user, ip=client_ip(request))
    messages.success(request, _("帖子已隐藏") if hidden else _("帖子已恢复"))
    return _back(request, reverse("board:console_community", args=[thread.community_id]))


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_comment_hidden(request: HttpRequest, comment_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    comment = selectors.access_comment(shop, comment_id)
    hidden = request.POST.get("hidden") == "1"
    actions.do_set_comment_hidden(shop, comment, hidden, actor=request.user, ip=client_ip(request))
    messages.success(request, _("评论已隐藏") if hidden else _("评论已恢复"))
    return _back(request, reverse("board:console_thread", args=[comment.thread_id]))


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_reports(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    status = request.GET.get("status") or ReportStatus.OPEN
    if status not in ReportStatus.values:
        status = ReportStatus.OPEN
    reports = selectors.moderation_queue(shop, status)
    return render(
        request,
        "board/console/reports.html",
        {
            "page_obj": Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page")),
            "status": status,
            "statuses": ReportStatus.choices,
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_report_moderate(request: HttpRequest, report_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    report = selectors.access_report(shop, report_id)
    action = request.POST.get("action") or ""
    try:
        actions.do_moderate_report(shop, report, action, actor=request.user, ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已隐藏被举报的内容") if action == "hide" else _("已驳回举报"))
    return redirect("board:console_reports")
