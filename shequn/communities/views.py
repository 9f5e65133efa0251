"""Member pages (join, my communities, feed, post) and console pages for communities."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError, InvalidInput, NotFound
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_COMMUNITIES
from shequn.shops.selectors import require_permission

from . import actions, selectors
from .links import invite_url, qr_svg

PAGE_SIZE = 20


def _login_url() -> str:
    try:
        return reverse("accounts:login")
    except NoReverseMatch:
        return settings.LOGIN_URL


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- members -----------------------------------------------------------------------


def join(request: HttpRequest, invite_code: str) -> HttpResponse:
    """GET shows the community and a 加入社群 button; POST joins (sign-in required)."""
    community = selectors.community_by_invite_code(invite_code)
    inviter_id = _int_or_none(request.POST.get("from") or request.GET.get("from"))
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=_login_url())
        _, created = actions.do_join(community, request.user, inviter_id=inviter_id)
        messages.success(request, f"欢迎加入「{community.name}」" if created else "你已经是该社群成员")
        return redirect("communities:community_home", community_id=community.pk)
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "communities/join.html",
        {
            "community": community,
            "can_join": True,
            "inviter_id": inviter_id,
            "inviter": selectors.inviter_in(community, inviter_id),
            "is_member": selectors.is_community_member(request.user, community),
        },
    )


@require_GET
def my_communities(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=_login_url())
    return render(
        request,
        "communities/my_communities.html",
        {"communities": selectors.my_communities(request.user)},
    )


def _not_a_member_page(request: HttpRequest, community_id: int) -> HttpResponse:
    community = selectors.active_community(community_id)
    return render(
        request,
        "communities/join.html",
        {"community": community, "can_join": False, "is_member": False},
        status=403,
    )


@require_GET
def community_home(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=_login_url())
    try:
        community = selectors.access_member_community(request.user, community_id)
    except selectors.NotAMember:
        return _not_a_member_page(request, community_id)
    return render(
        request,
        "communities/community_home.html",
        {
            "community": community,
            "page_obj": _page(request, selectors.community_feed(community)),
            "share_url": invite_url(community, inviter=request.user),
        },
    )


@require_GET
def post_detail(request: HttpRequest, community_id: int, post_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=_login_url())
    try:
        post = selectors.access_member_post(request.user, community_id, post_id)
    except selectors.NotAMember:
        return _not_a_member_page(request, community_id)
    return render(request, "communities/post_detail.html", {"post": post, "community": post.community})


@require_GET
def invite_qr(request: HttpRequest, community_id: int) -> HttpResponse:
    """The invite QR as SVG, for the shop's community staff and for members (with ?from=them)."""
    community = selectors.active_community(community_id)
    if selectors.is_community_member(request.user, community):
        url = invite_url(community, inviter=request.user)
    else:
        try:
            require_permission(request.user, community.shop, MANAGE_COMMUNITIES)
        except DomainError:
            raise NotFound("社群不存在", code="community_not_found") from None
        url = invite_url(community)
    response = HttpResponse(qr_svg(url), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


# --- console -----------------------------------------------------------------------


@console_view(MANAGE_COMMUNITIES)
def console_communities(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            community = actions.do_create_community(
                shop,
                request.POST.get("name") or "",
                request.POST.get("description") or "",
                actor=request.user,
                ip=client_ip(request),
            )
            messages.success(request, f"已创建社群「{community.name}」")
            return redirect("communities:console_community_detail", community_id=community.pk)
        except InvalidInput as error:
            messages.error(request, error.message)
        return redirect("communities:console_communities")
    return render(
        request,
        "communities/console/communities.html",
        {"communities": selectors.shop_communities(shop)},
    )


@console_view(MANAGE_COMMUNITIES)
def console_community_detail(request: HttpRequest, community_id: int) -> HttpResponse:
    """Members, invite link + QR, the post composer and the posts of one community; POST edits it."""
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    if request.method == "POST":
        try:
            actions.do_update_community(
                shop,
                community,
                request.POST.get("name") or "",
                request.POST.get("description") or "",
                request.POST.get("is_active") == "1",
                actor=request.user,
                ip=client_ip(request),
            )
            messages.success(request, "社群已保存")
        except InvalidInput as error:
            messages.error(request, error.message)
        return redirect("communities:console_community_detail", community_id=community.pk)
    members = selectors.community_members(community)
    return render(
        request,
        "communities/console/community_detail.html",
        {
            "community": community,
            "invite_link": invite_url(community),
            "members_page": _page(request, members),
            "member_count": members.count(),
            "posts": selectors.community_posts(community)[:50],
            "products": selectors.composer_products(shop),
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_rotate_invite(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    actions.do_rotate_invite_code(shop, community, actor=request.user, ip=client_ip(request))
    messages.success(request, "已生成新的邀请链接，旧链接和二维码已失效")
    return redirect("communities:console_community_detail", community_id=community.pk)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_post_create(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    product_ids = [pk for pk in (_int_or_none(v) for v in request.POST.getlist("product_ids")) if pk]
    try:
        actions.do_create_post(
            shop,
            community,
            request.POST.get("body") or "",
            product_ids,
            is_pinned=request.POST.get("is_pinned") == "1",
            image=request.FILES.get("image"),
            actor=request.user,
            ip=client_ip(request),
        )
        messages.success(request, "帖子已发布")
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect("communities:console_community_detail", community_id=community.pk)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_post_publish(request: HttpRequest, post_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    post = selectors.access_post(shop, post_id)
    published = request.POST.get("published") == "1"
    actions.do_set_post_published(shop, post, published, actor=request.user, ip=client_ip(request))
    messages.success(request, "帖子已重新发布" if published else "帖子已撤回")
    return redirect("communities:console_community_detail", community_id=post.community_id)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_post_delete(request: HttpRequest, post_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    post = selectors.access_post(shop, post_id)
    community_id = post.community_id
    actions.do_delete_post(shop, post, actor=request.user, ip=client_ip(request))
    messages.success(request, "帖子已删除")
    return redirect("communities:console_community_detail", community_id=community_id)
