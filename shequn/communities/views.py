"""Member pages (join, my communities, feed, post) and console pages for communities."""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from shequn.catalog import selectors as catalog_selectors
from shequn.core.audit import client_ip
from shequn.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from shequn.core.money import InvalidAmount, format_yuan_input, parse_yuan
from shequn.core.pages import field_errors, int_or_none
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_COMMUNITIES
from shequn.shops.selectors import access_shop_by_slug, require_permission

from . import actions, posters, selectors
from .cards import attach_cards
from .enums import ChannelKind, ExpiryFilter, JoinPolicy, JoinRequestStatus, MemberRole, MemberStatus, SubGroupKind
from .links import invite_url, qr_svg
from .models import Community

PAGE_SIZE = 20


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- members -----------------------------------------------------------------------


def join(request: HttpRequest, invite_code: str) -> HttpResponse:
    """GET shows the community, its joining terms and the one button that applies; POST joins a
    free community (action=join), applies to one that reviews (action=apply) or records the
    invite and goes to the checkout for the fee (action=pay). Sign-in required for POST."""
    community = selectors.community_by_invite_code(invite_code)
    inviter_id = int_or_none(request.POST.get("from") or request.GET.get("from"))
    channel_code = (request.POST.get("ch") or request.GET.get("ch") or "").strip()[:32] or None
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        action = request.POST.get("action") or "join"
        try:
            if action == "apply":
                actions.do_apply(
                    community,
                    request.user,
                    request.POST.get("message") or "",
                    inviter_id=inviter_id,
                    channel_code=channel_code,
                )
                messages.success(request, _("已提交入群申请，审核通过后会通知你"))
                return redirect(reverse("communities:join", args=[invite_code]) + _join_query(inviter_id, channel_code))
            if action == "pay":
                sku = actions.do_prepare_payment(
                    community, request.user, inviter_id=inviter_id, channel_code=channel_code
                )
                return redirect(f"{reverse('orders:checkout')}?sku={sku.pk}&quantity=1")
            _membership, created = actions.do_join(
                community, request.user, inviter_id=inviter_id, channel_code=channel_code
            )
        except DomainError as error:
            return _render_join(request, community, inviter_id, channel_code, error=error)
        messages.success(
            request, _("欢迎加入「%(name)s」") % {"name": community.name} if created else _("你已经是该社群成员")
        )
        return redirect("communities:community_home", community_id=community.pk)
    if request.method != "GET":
        return HttpResponse(status=405)
    return _render_join(request, community, inviter_id, channel_code)


def _render_join(
    request: HttpRequest,
    community: Community,
    inviter_id: int | None,
    channel_code: str | None,
    *,
    error: DomainError | None = None,
    status: int = 200,
    members_only: bool = False,
) -> HttpResponse:
    """``members_only``: reached through a members-only page rather than the invite link, so only
    a former member sees an offer (the renewal); anyone else learns nothing of the invite link."""
    offer = selectors.join_offer(community, request.user, inviter_id=inviter_id, channel_code=channel_code)
    return render(
        request,
        "communities/join.html",
        {
            "community": community,
            "offer": offer,
            "inviter_id": inviter_id,
            "channel_code": channel_code,
            "join_query": _join_query(inviter_id, channel_code),
            "inviter": offer.inviter,
            "error_message": error.message if error else "",
            "checkout_url": reverse("orders:checkout"),
            "members_only": members_only and offer.state != selectors.JoinState.RENEW,
        },
        status=error.status if error else status,
    )


def _join_query(inviter_id: int | None, channel_code: str | None) -> str:
    from urllib.parse import urlencode

    query: dict[str, Any] = {}
    if inviter_id:
        query["from"] = inviter_id
    if channel_code:
        query["ch"] = channel_code
    return "?" + urlencode(query) if query else ""


@require_GET
def my_communities(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    memberships = list(selectors.my_memberships(request.user))
    now = timezone.now()
    for membership in memberships:
        membership.is_current = selectors.is_current(membership, now)  # type: ignore[attr-defined]
        membership.renewal_sku = selectors.fee_skus(membership.community).get(  # type: ignore[attr-defined]
            selectors.RENEWAL_SPEC
        )
        membership.expiring_soon = bool(  # type: ignore[attr-defined]
            membership.expires_at
            and membership.expires_at - now <= timedelta(days=membership.community.renewal_reminder_days)
        )
    return render(
        request,
        "communities/my_communities.html",
        {"memberships": memberships, "checkout_url": reverse("orders:checkout")},
    )


@require_GET
def discover(request: HttpRequest, shop_slug: str) -> HttpResponse:
    """The shop's listed communities with fee, validity and recruitment (invitation-only ones are not listed)."""
    shop = access_shop_by_slug(shop_slug)
    communities = list(selectors.discover(shop))
    for community in communities:
        community.recruitment = selectors.recruitment(community)  # type: ignore[attr-defined]
    return render(request, "communities/discover.html", {"shop": shop, "communities": communities})


def _not_a_member_page(request: HttpRequest, community_id: int) -> HttpResponse:
    """Members-only pages show a non-member (or a member whose membership ended) the join page:
    the fee and the renewal offer included."""
    community = selectors.active_community(community_id)
    return _render_join(request, community, None, None, status=403, members_only=True)


def member_community_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Member pages of one community: sign-in first, then the community (or the join page for
    non-members); the view receives the community instead of its id."""

    @wraps(view)
    def wrapper(request: HttpRequest, community_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            community = selectors.access_member_community(request.user, community_id)
        except selectors.NotAMember:
            return _not_a_member_page(request, community_id)
        return view(request, community, *args, **kwargs)

    return wrapper


@require_GET
@member_community_view
def community_home(request: HttpRequest, community: Community) -> HttpResponse:
    page_obj = _page(request, selectors.community_feed(community))
    page_obj.object_list = attach_cards(selectors.attach_post_cards(community.shop, page_obj.object_list))
    return render(
        request,
        "communities/community_home.html",
        {
            "community": community,
            "page_obj": page_obj,
            "share_url": invite_url(community, inviter=request.user),
            "membership": community.viewer_membership,  # type: ignore[attr-defined]
        },
    )


@require_GET
def post_detail(request: HttpRequest, community_id: int, post_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        post = selectors.access_member_post(request.user, community_id, post_id)
    except selectors.NotAMember:
        # A post is members-only content: invisible (404). The community's home shows the join page.
        raise Http404("post not found") from None
    return render(request, "communities/post_detail.html", {"posts": attach_cards([post]), "community": post.community})


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
            raise NotFound(_("社群不存在"), code="community_not_found") from None
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
            messages.success(request, _("已创建社群「%(name)s」") % {"name": community.name})
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
            messages.success(request, _("社群已保存"))
        except InvalidInput as error:
            messages.error(request, error.message)
        return redirect("communities:console_community_detail", community_id=community.pk)
    members_page = _page(request, selectors.community_members(community, status=MemberStatus.ACTIVE))
    return render(
        request,
        "communities/console/community_detail.html",
        {
            "community": community,
            "invite_link": invite_url(community),
            "members_page": members_page,
            "member_count": members_page.paginator.count,
            "posts": selectors.attach_post_cards(shop, selectors.community_posts(community)[:50]),
            "products": catalog_selectors.card_products(shop),
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_rotate_invite(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    actions.do_rotate_invite_code(shop, community, actor=request.user, ip=client_ip(request))
    messages.success(request, _("已生成新的邀请链接，旧链接和二维码已失效"))
    return redirect("communities:console_community_detail", community_id=community.pk)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_post_create(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    product_ids = [pk for pk in (int_or_none(v) for v in request.POST.getlist("product_ids")) if pk]
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
        messages.success(request, _("帖子已发布"))
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
    messages.success(request, _("帖子已重新发布") if published else _("帖子已撤回"))
    return redirect("communities:console_community_detail", community_id=post.community_id)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_post_delete(request: HttpRequest, post_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    post = selectors.access_post(shop, post_id)
    community_id = post.community_id
    actions.do_delete_post(shop, post, actor=request.user, ip=client_ip(request))
    messages.success(request, _("帖子已删除"))
    return redirect("communities:console_community_detail", community_id=community_id)


# --- member: my poster, sub-groups ------------------------------------------------------


def _poster_response(png: bytes, filename: str, download: bool) -> HttpResponse:
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    if download:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@member_community_view
def my_poster(request: HttpRequest, community: Community) -> HttpResponse:
    """The member's share poster and link (no reward is offered for sharing: RULES.md)."""
    return render(
        request,
        "communities/my_poster.html",
        {"community": community, "share_url": invite_url(community, inviter=request.user)},
    )


@require_GET
def my_poster_png(request: HttpRequest, community_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    community = selectors.access_member_community(request.user, community_id)
    png = posters.render_poster(
        community_name=community.name,
        shop_name=community.shop.name,
        inviter_name=request.user.display_name,
        url=invite_url(community, inviter=request.user),
    )
    return _poster_response(png, f"poster-{community.pk}.png", request.GET.get("download") == "1")


@member_community_view
def sub_groups(request: HttpRequest, community: Community) -> HttpResponse:
    """Members pick their sub-group (one per community); POST sub_group=<id> joins, leave=1 leaves."""
    if request.method == "POST":
        try:
            if request.POST.get("leave") == "1":
                actions.do_leave_sub_group(request.user, community)
                messages.success(request, _("已退出分群"))
            else:
                sub_group = selectors.member_sub_group(request.user, int_or_none(request.POST.get("sub_group")) or 0)
                if sub_group.community_id != community.pk:
                    raise NotFound(_("分群不存在"), code="sub_group_not_found")
                actions.do_join_sub_group(request.user, sub_group)
                messages.success(request, _("已加入「%(name)s」") % {"name": sub_group.name})
        except (InvalidInput, Conflict) as error:
            messages.error(request, error.message)
        return redirect("communities:sub_groups", community_id=community.pk)
    return render(
        request,
        "communities/sub_groups.html",
        {
            "community": community,
            "sub_groups": selectors.community_sub_groups(community).filter(is_active=True),
            "membership": community.viewer_membership,  # type: ignore[attr-defined]
        },
    )


# --- console: members and moderation -------------------------------------------------------


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_members(request: HttpRequest, community_id: int) -> HttpResponse:
    """Members filtered by tag, join channel, status and sub-group, with moderation forms."""
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    # Filtering by expiry looks at every status unless one is picked (the expired are mostly former).
    status = request.GET.get("status", "all" if request.GET.get("expiry") else MemberStatus.ACTIVE)
    filters: dict[str, Any] = {
        "status": status if status in MemberStatus.values else None,
        "tag_id": int_or_none(request.GET.get("tag")),
        "channel_id": int_or_none(request.GET.get("channel")),
        "sub_group_id": int_or_none(request.GET.get("sub_group")),
        "expiry": request.GET.get("expiry") if request.GET.get("expiry") in ExpiryFilter.values else None,
        "within_days": int_or_none(request.GET.get("days")),
    }
    members_page = _page(request, selectors.community_members(community, **filters))
    return render(
        request,
        "communities/console/members.html",
        {
            "community": community,
            "members_page": members_page,
            "member_count": members_page.paginator.count,
            "filters": filters,
            "status_value": status,
            "statuses": MemberStatus.choices,
            "expiry_choices": ExpiryFilter.choices,
            "roles": [(value, label) for value, label in MemberRole.choices if value != MemberRole.OWNER],
            "tags": selectors.community_tags(community),
            "channels": selectors.community_channels(community),
            "sub_groups": selectors.community_sub_groups(community),
            "now": timezone.now(),
            "mute_default": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "query": request.GET.urlencode(),
        },
    )


def _parse_local_datetime(value: str) -> Any:
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput(_("请填写正确的禁言结束时间"), code="mute_until_invalid") from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_member_action(request: HttpRequest, community_id: int, user_id: int, action: str) -> HttpResponse:
    """One moderation step on one member: mute, unmute, remove, ban, unban, role, tags, owner, sub_group."""
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    target = selectors.access_membership(shop, community, user_id)
    who: dict[str, Any] = {"actor": request.user, "ip": client_ip(request)}
    name = target.user.display_name
    try:
        if action == "mute":
            actions.do_mute(community, target, _parse_local_datetime(request.POST.get("until", "")), **who)
            messages.success(request, _("已禁言「%(name)s」") % {"name": name})
        elif action == "unmute":
            actions.do_unmute(community, target, **who)
            messages.success(request, _("已解除「%(name)s」的禁言") % {"name": name})
        elif action in ("remove", "ban"):
            actions.do_remove_member(community, target, ban=action == "ban", **who)
            message = _("已封禁「%(name)s」") if action == "ban" else _("已移出「%(name)s」")
            messages.success(request, message % {"name": name})
        elif action == "unban":
            actions.do_unban(community, target, **who)
            messages.success(request, _("已解除「%(name)s」的封禁") % {"name": name})
        elif action == "role":
            actions.do_set_role(community, target, request.POST.get("role", ""), **who)
            messages.success(request, _("已更新「%(name)s」的角色") % {"name": name})
        elif action == "owner":
            actions.do_transfer_ownership(community, target, **who)
            messages.success(request, _("「%(name)s」已成为群主") % {"name": name})
        elif action == "tags":
            tag_ids = [pk for pk in (int_or_none(v) for v in request.POST.getlist("tags")) if pk]
            actions.do_set_member_tags(community, target, tag_ids, **who)
            messages.success(request, _("已更新「%(name)s」的标签") % {"name": name})
        elif action == "sub_group":
            sub_group_id = int_or_none(request.POST.get("sub_group"))
            sub_group = selectors.access_sub_group(shop, sub_group_id) if sub_group_id else None
            actions.do_assign_sub_group(community, target, sub_group, **who)
            messages.success(request, _("已调整「%(name)s」的分群") % {"name": name})
        else:
            raise NotFound(_("操作不存在"), code="action_not_found")
    except (InvalidInput, Conflict, PermissionDenied) as error:
        messages.error(request, error.message)
    back = reverse("communities:console_members", args=[community.pk])
    query = request.POST.get("query") or ""
    return redirect(back + ("?" + query if query else ""))


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_tags(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    try:
        if request.POST.get("delete"):
            tag = selectors.access_tag(shop, int_or_none(request.POST.get("delete")) or 0)
            actions.do_delete_tag(community, tag, actor=request.user, ip=client_ip(request))
            messages.success(request, _("已删除标签「%(name)s」") % {"name": tag.name})
        else:
            tag = actions.do_create_tag(
                community, request.POST.get("name", ""), actor=request.user, ip=client_ip(request)
            )
            messages.success(request, _("已添加标签「%(name)s」") % {"name": tag.name})
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect("communities:console_members", community_id=community.pk)


# --- console: channels and the invite tree ----------------------------------------------


@console_view(MANAGE_COMMUNITIES)
def console_channels(request: HttpRequest, community_id: int) -> HttpResponse:
    """Channels (渠道码) with their QR and join counts; the invite tree's figures."""
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    if request.method == "POST":
        try:
            if request.POST.get("retire") or request.POST.get("activate"):
                channel = selectors.access_channel(
                    shop, int_or_none(request.POST.get("retire") or request.POST.get("activate")) or 0
                )
                actions.do_set_channel_active(
                    community, channel, bool(request.POST.get("activate")), actor=request.user, ip=client_ip(request)
                )
                messages.success(request, _("渠道已更新"))
            else:
                channel = actions.do_create_channel(
                    community,
                    request.POST.get("name", ""),
                    request.POST.get("kind", ChannelKind.POSTER),
                    request.POST.get("code", ""),
                    actor=request.user,
                    ip=client_ip(request),
                )
                messages.success(request, _("已创建渠道「%(name)s」") % {"name": channel.name})
        except InvalidInput as error:
            messages.error(request, error.message)
        return redirect("communities:console_channels", community_id=community.pk)
    channels = list(selectors.community_channels(community))
    for channel in channels:
        channel.link = invite_url(community, channel=channel)  # type: ignore[attr-defined]
    counts = selectors.channel_join_counts(community)
    return render(
        request,
        "communities/console/channels.html",
        {
            "community": community,
            "channels": channels,
            "direct_joins": counts.get(None, 0),
            "kinds": ChannelKind.choices,
            "tree": selectors.invite_tree_figures(community),
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_channel_qr(request: HttpRequest, channel_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    channel = selectors.access_channel(shop, channel_id)
    response = HttpResponse(qr_svg(invite_url(channel.community, channel=channel)), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_channel_poster(request: HttpRequest, channel_id: int) -> HttpResponse:
    """A channel's poster: the shop invites, the QR carries ?ch=<code>."""
    shop = request.console_shop  # type: ignore[attr-defined]
    channel = selectors.access_channel(shop, channel_id)
    png = posters.render_poster(
        community_name=channel.community.name,
        shop_name=shop.name,
        inviter_name=shop.name,
        url=invite_url(channel.community, channel=channel),
    )
    return _poster_response(png, f"channel-{channel.code}.png", request.GET.get("download") == "1")


# --- console: sub-groups -------------------------------------------------------------------


@console_view(MANAGE_COMMUNITIES)
def console_sub_groups(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    if request.method == "POST":
        try:
            if request.POST.get("split"):
                sub_group = selectors.access_sub_group(shop, int_or_none(request.POST.get("split")) or 0)
                new_group, moved = actions.do_split_sub_group(
                    community, sub_group, request.POST.get("name", ""), actor=request.user, ip=client_ip(request)
                )
                messages.success(
                    request,
                    ngettext(
                        "已拆分：%(moved)s 位最新加入的成员移入「%(name)s」",
                        "已拆分：%(moved)s 位最新加入的成员移入「%(name)s」",
                        len(moved),
                    )
                    % {"moved": len(moved), "name": new_group.name},
                )
            else:
                sub_group = actions.do_create_sub_group(
                    community,
                    request.POST.get("name", ""),
                    request.POST.get("kind", SubGroupKind.CITY),
                    request.POST.get("city", ""),
                    int_or_none(request.POST.get("capacity")) or 500,
                    actor=request.user,
                    ip=client_ip(request),
                )
                messages.success(request, _("已创建分群「%(name)s」") % {"name": sub_group.name})
        except InvalidInput as error:
            messages.error(request, error.message)
        return redirect("communities:console_sub_groups", community_id=community.pk)
    return render(
        request,
        "communities/console/sub_groups.html",
        {
            "community": community,
            "sub_groups": selectors.community_sub_groups(community),
            "kinds": SubGroupKind.choices,
            "admins": selectors.community_members(community, status=MemberStatus.ACTIVE).filter(
                is_sub_group_admin=True
            ),
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_sub_group_admin(request: HttpRequest, community_id: int, user_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    target = selectors.access_membership(shop, community, user_id)
    try:
        actions.do_set_sub_group_admin(
            community, target, request.POST.get("is_admin") == "1", actor=request.user, ip=client_ip(request)
        )
        messages.success(request, _("分群管理员已更新"))
    except InvalidInput as error:
        messages.error(request, error.message)
    return redirect("communities:console_members", community_id=community.pk)


# --- member H5: moderation by the community's owner and admins ---------------------------

MUTE_CHOICES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}


def manage_members(request: HttpRequest, community_id: int) -> HttpResponse:
    """The owner and admins moderate from their phone: mute (1 h / 1 day / 7 days), unmute, remove, ban."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    community = selectors.access_member_community(request.user, community_id)
    standing = actions.check_moderator(community, request.user)
    if request.method == "POST":
        target = selectors.membership_in(community, int_or_none(request.POST.get("user")) or 0)
        action = request.POST.get("action", "")
        who: dict[str, Any] = {"actor": request.user, "ip": client_ip(request)}
        try:
            if action in MUTE_CHOICES:
                actions.do_mute(community, target, timezone.now() + MUTE_CHOICES[action], **who)
                messages.success(request, _("已禁言「%(display_name)s」") % {"display_name": target.user.display_name})
            elif action == "unmute":
                actions.do_unmute(community, target, **who)
                messages.success(
                    request, _("已解除「%(display_name)s」的禁言") % {"display_name": target.user.display_name}
                )
            elif action in ("remove", "ban"):
                actions.do_remove_member(community, target, ban=action == "ban", **who)
                message = _("已封禁「%(name)s」") if action == "ban" else _("已移出「%(name)s」")
                messages.success(request, message % {"name": target.user.display_name})
            else:
                raise NotFound(_("操作不存在"), code="action_not_found")
        except (InvalidInput, PermissionDenied) as error:
            messages.error(request, error.message)
        return redirect("communities:manage_members", community_id=community.pk)
    return render(
        request,
        "communities/manage_members.html",
        {
            "community": community,
            "standing": standing,
            "now": timezone.now(),
            "page_obj": _page(request, selectors.community_members(community, status=MemberStatus.ACTIVE)),
        },
    )


# --- console: membership settings, recruitment windows, join requests -------------------------


def _yuan_field(post: Any, name: str, errors: dict[str, str]) -> int | None:
    """Blank is None; what cannot be read is an error next to the field ``name``."""
    try:
        return parse_yuan(post.get(name), required=False)
    except InvalidAmount as error:
        errors[name] = error.message
        return None


def _settings_values(community: Community) -> dict[str, Any]:
    return {
        "join_policy": community.join_policy,
        "fee": format_yuan_input(community.fee_fen) if community.fee_fen else "0",
        "renewal_fee": format_yuan_input(community.renewal_fee_fen),
        "validity_days": community.validity_days if community.validity_days is not None else "",
        "capacity": community.capacity if community.capacity is not None else "",
        "refund_days": community.refund_days,
        "renewal_reminder_days": community.renewal_reminder_days,
    }


@console_view(MANAGE_COMMUNITIES)
def console_membership(request: HttpRequest, community_id: int) -> HttpResponse:
    """Joining rules and the fee of one community, its recruitment windows; POST saves the settings."""
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    values = _settings_values(community)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        post = request.POST
        values = {key: (post.get(key) or "").strip() for key in values}
        fee_fen = _yuan_field(post, "fee", errors)
        renewal_fee_fen = _yuan_field(post, "renewal_fee", errors)
        numbers = {}
        for name in ("validity_days", "capacity", "refund_days", "renewal_reminder_days"):
            numbers[name] = int_or_none(values[name])
            if values[name] and numbers[name] is None:
                errors[name] = _("请填写整数")
        if not errors:
            try:
                actions.do_update_membership_settings(
                    shop,
                    community,
                    join_policy=values["join_policy"],
                    fee_fen=fee_fen or 0,
                    renewal_fee_fen=renewal_fee_fen,
                    validity_days=numbers["validity_days"],
                    capacity=numbers["capacity"],
                    refund_days=numbers["refund_days"] or 0,
                    renewal_reminder_days=numbers["renewal_reminder_days"] or 0,
                    actor=request.user,
                    ip=client_ip(request),
                )
            except DomainError as error:
                renamed = {"fee_fen": "fee", "renewal_fee_fen": "renewal_fee"}
                errors = {renamed.get(k, k): v for k, v in field_errors(error).items()} or {"form": error.message}
            else:
                messages.success(request, _("入会设置已保存"))
                return redirect("communities:console_membership", community_id=community.pk)
        status = 422
    return render(
        request,
        "communities/console/membership.html",
        {
            "community": community,
            "values": values,
            "errors": errors,
            "policies": JoinPolicy.choices,
            "windows": selectors.community_windows(community),
            "now": timezone.now(),
            "recruitment": selectors.recruitment(community),
            "seats_left": selectors.seats_left(community),
            "pending_requests": selectors.join_requests(community).count(),
        },
        status=status,
    )


def _parse_window_time(value: str | None, label: str) -> Any:
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput(_("请填写正确的%(label)s") % {"label": label}, code="invalid_window") from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_window_add(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    try:
        actions.do_add_window(
            shop,
            community,
            _parse_window_time(request.POST.get("opens_at"), _("招募开始时间")),
            _parse_window_time(request.POST.get("closes_at"), _("招募结束时间")),
            request.POST.get("note") or "",
            actor=request.user,
            ip=client_ip(request),
        )
    except InvalidInput as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已添加招募时段"))
    return redirect("communities:console_membership", community_id=community.pk)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_window_delete(request: HttpRequest, window_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    window = selectors.access_window(shop, window_id)
    community_id = window.community_id
    actions.do_remove_window(shop, window, actor=request.user, ip=client_ip(request))
    messages.success(request, _("已删除招募时段"))
    return redirect("communities:console_membership", community_id=community_id)


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_join_requests(request: HttpRequest, community_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    community = selectors.access_community(shop, community_id)
    status = request.GET.get("status") or JoinRequestStatus.PENDING
    rows = selectors.join_requests(community, status if status in JoinRequestStatus.values else None)
    return render(
        request,
        "communities/console/join_requests.html",
        {
            "community": community,
            "page_obj": _page(request, rows),
            "status": status,
            "statuses": JoinRequestStatus.choices,
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_join_request_decide(request: HttpRequest, request_id: int, decision: str) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    join_request = selectors.access_join_request(shop, request_id)
    if decision not in ("approve", "reject"):
        raise NotFound(_("操作不存在"), code="action_not_found")
    try:
        actions.do_decide_join_request(
            shop, join_request, decision == "approve", actor=request.user, ip=client_ip(request)
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        name = join_request.user.display_name
        messages.success(
            request,
            _("已通过「%(name)s」的申请") % {"name": name}
            if decision == "approve"
            else _("已拒绝「%(name)s」的申请") % {"name": name},
        )
    return redirect("communities:console_join_requests", community_id=join_request.community_id)
