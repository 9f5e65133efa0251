"""Communities API: join by invite code, my communities, members-only feeds, invites,
sub-groups and moderation by community admins, and the operator endpoints under /console/
scoped to the caller's shop."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotFound
from shequn.core.schemas import Id, Page, PageQuery, Text, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_COMMUNITIES
from shequn.shops.selectors import access_shop_by_slug

from . import actions, selectors
from .links import invite_url
from .schemas import (
    ChannelActiveIn,
    ChannelIn,
    ChannelJoinsOut,
    ChannelOut,
    CommunityApplyIn,
    CommunityIn,
    CommunityOut,
    ConsoleCommunityOut,
    ConsolePostOut,
    InviterOut,
    InviteSubtreeOut,
    InviteTreeOut,
    JoinIn,
    JoinOut,
    JoinRequestOut,
    JoinRequestQuery,
    JoinStateOut,
    MemberOut,
    MemberQuery,
    MembershipSettingsIn,
    MembershipSettingsOut,
    MembershipTermsOut,
    MuteIn,
    MyInviteOut,
    MyMembershipOut,
    PayIntentIn,
    PayIntentOut,
    PostIn,
    PostOut,
    PublishIn,
    RoleIn,
    SplitIn,
    SplitOut,
    SubGroupAdminIn,
    SubGroupAssignIn,
    SubGroupIn,
    SubGroupOut,
    TagIn,
    TagOut,
    TagsIn,
    WindowIn,
    WindowOut,
)

router = Router(tags=["communities"])
console = Router(tags=["communities console"])

MEMBER_ERRORS = error_responses(401, 403, 404, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)


@router.get("/invites/{invite_code}", response={200: CommunityOut, **error_responses(404, 422)}, auth=None)
def invite_preview(request: HttpRequest, invite_code: Text) -> CommunityOut:
    """What an invite link shows before joining: name, shop, member count."""
    return CommunityOut.from_model(selectors.community_by_invite_code(invite_code))


@router.post("/join", response={200: JoinOut, 201: JoinOut, **error_responses(401, 403, 404, 409, 422)})
def join(request: HttpRequest, body: JoinIn) -> Status[JoinOut]:
    """Join a free community: 403 ``approval_required`` / ``invite_required`` / ``member_banned``,
    409 ``recruitment_closed`` / ``community_full`` / ``payment_required`` (a paid community is
    joined by buying its fee: see ``/pay-intent``)."""
    community = selectors.community_by_invite_code(body.invite_code)
    _, created = actions.do_join(community, request.user, inviter_id=body.from_user_id, channel_code=body.channel_code)
    community = selectors.active_community(community.pk)
    return Status(201 if created else 200, JoinOut(community=CommunityOut.from_model(community), joined=created))


@router.get("/mine", response={200: Page[CommunityOut], **error_responses(401, 422)})
def mine(request: HttpRequest, query: Query[PageQuery]) -> dict:
    page = paginate(selectors.my_communities(request.user), query.page, query.page_size)
    page["items"] = [CommunityOut.from_model(c) for c in page["items"]]
    return page


@router.get("/{int:community_id}/posts", response={200: Page[PostOut], **MEMBER_ERRORS})
def feed(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    community = selectors.access_member_community(request.user, community_id)
    page = paginate(selectors.community_feed(community), query.page, query.page_size)
    page["items"] = [PostOut.from_model(p) for p in selectors.attach_post_cards(community.shop, page["items"])]
    return page


@router.get("/{int:community_id}/posts/{int:post_id}", response={200: PostOut, **MEMBER_ERRORS})
def post(request: HttpRequest, community_id: Id, post_id: Id) -> PostOut:
    return PostOut.from_model(selectors.access_member_post(request.user, community_id, post_id))


# --- operator console ----------------------------------------------------------------


@console.get("/communities", response={200: Page[ConsoleCommunityOut], **CONSOLE_ERRORS})
def console_communities(request: HttpRequest, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    page = paginate(selectors.shop_communities(shop).select_related("shop"), query.page, query.page_size)
    page["items"] = [ConsoleCommunityOut.from_model(c) for c in page["items"]]
    return page


@console.post("/communities", response={201: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_create_community(request: HttpRequest, body: CommunityIn) -> Status[ConsoleCommunityOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = actions.do_create_community(
        shop, body.name, body.description, actor=request.user, ip=client_ip(request)
    )
    return Status(201, ConsoleCommunityOut.from_model(community))


@console.get("/communities/{community_id}", response={200: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_community(request: HttpRequest, community_id: Id) -> ConsoleCommunityOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ConsoleCommunityOut.from_model(selectors.access_community(shop, community_id))


@console.put("/communities/{community_id}", response={200: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_update_community(request: HttpRequest, community_id: Id, body: CommunityIn) -> ConsoleCommunityOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    actions.do_update_community(
        shop, community, body.name, body.description, body.is_active, actor=request.user, ip=client_ip(request)
    )
    return ConsoleCommunityOut.from_model(community)


@console.post("/communities/{community_id}/rotate-invite", response={200: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_rotate_invite(request: HttpRequest, community_id: Id) -> ConsoleCommunityOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    actions.do_rotate_invite_code(shop, community, actor=request.user, ip=client_ip(request))
    return ConsoleCommunityOut.from_model(community)


@console.get("/communities/{community_id}/members", response={200: Page[MemberOut], **CONSOLE_ERRORS})
def console_members(request: HttpRequest, community_id: Id, query: Query[MemberQuery]) -> dict:
    """Members, filtered by status, tag, join channel (0 = none), sub-group and expiry
    (``expiry=expiring&days=7``: current members whose membership ends within 7 days;
    ``expiry=expired``: expiry passed)."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    members = selectors.community_members(
        community,
        status=query.status,
        tag_id=query.tag,
        channel_id=query.channel,
        sub_group_id=query.sub_group,
        expiry=query.expiry,
        within_days=query.days,
    )
    page = paginate(members, query.page, query.page_size)
    page["items"] = [MemberOut.from_model(m) for m in page["items"]]
    return page


@console.get("/communities/{community_id}/posts", response={200: Page[ConsolePostOut], **CONSOLE_ERRORS})
def console_posts(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_posts(community), query.page, query.page_size)
    page["items"] = [ConsolePostOut.from_model(p) for p in selectors.attach_post_cards(shop, page["items"])]
    return page


@console.post("/communities/{community_id}/posts", response={201: ConsolePostOut, **CONSOLE_ERRORS})
def console_create_post(request: HttpRequest, community_id: Id, body: PostIn) -> Status[ConsolePostOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    created = actions.do_create_post(
        shop,
        community,
        body.body,
        body.product_ids,
        is_pinned=body.is_pinned,
        actor=request.user,
        ip=client_ip(request),
    )
    return Status(201, ConsolePostOut.from_model(selectors.access_post(shop, created.pk)))


@console.get("/posts/{post_id}", response={200: ConsolePostOut, **CONSOLE_ERRORS})
def console_post(request: HttpRequest, post_id: Id) -> ConsolePostOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ConsolePostOut.from_model(selectors.access_post(shop, post_id))


@console.put("/posts/{post_id}", response={200: ConsolePostOut, **CONSOLE_ERRORS})
def console_update_post(request: HttpRequest, post_id: Id, body: PostIn) -> ConsolePostOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    existing = selectors.access_post(shop, post_id)
    actions.do_update_post(
        shop,
        existing,
        body.body,
        body.product_ids,
        is_pinned=body.is_pinned,
        actor=request.user,
        ip=client_ip(request),
    )
    return ConsolePostOut.from_model(selectors.access_post(shop, post_id))


@console.post("/posts/{post_id}/publish", response={200: ConsolePostOut, **CONSOLE_ERRORS})
def console_publish_post(request: HttpRequest, post_id: Id, body: PublishIn) -> ConsolePostOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    existing = selectors.access_post(shop, post_id)
    actions.do_set_post_published(shop, existing, body.published, actor=request.user, ip=client_ip(request))
    return ConsolePostOut.from_model(selectors.access_post(shop, post_id))


@console.delete("/posts/{post_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_post(request: HttpRequest, post_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_delete_post(shop, selectors.access_post(shop, post_id), actor=request.user, ip=client_ip(request))
    return Status(204, None)


# --- members: my invite, sub-groups, moderation by community admins ---------------------

MEMBER_WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _subtree_out(subtree: selectors.InviteSubtree) -> InviteSubtreeOut:
    return InviteSubtreeOut(
        user_id=subtree.user_id,
        direct=subtree.direct,
        size=subtree.size,
        depth=subtree.depth,
        levels=subtree.levels,
    )


@router.get("/{int:community_id}/invite", response={200: MyInviteOut, **MEMBER_ERRORS})
def my_invite(request: HttpRequest, community_id: Id) -> MyInviteOut:
    """The member's invite link, poster and QR, and how many joined through them (no reward: RULES.md)."""
    community = selectors.access_member_community(request.user, community_id)
    return MyInviteOut(
        invite_url=invite_url(community, inviter=request.user),
        poster_url=settings.SITE_URL + reverse("communities:my_poster_png", args=[community.pk]),
        qr_url=settings.SITE_URL + reverse("communities:invite_qr", args=[community.pk]),
        invited=_subtree_out(selectors.invite_subtree(community, request.user.pk or 0)),
    )


@router.get("/{int:community_id}/membership", response={200: MemberOut, **MEMBER_ERRORS})
def my_membership(request: HttpRequest, community_id: Id) -> MemberOut:
    """The caller's own membership: role, mute, sub-group, tags, join channel."""
    community = selectors.access_member_community(request.user, community_id)
    return MemberOut.from_model(selectors.membership_in(community, request.user.pk or 0))


@router.get("/{int:community_id}/sub-groups", response={200: Page[SubGroupOut], **MEMBER_ERRORS})
def sub_groups(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    community = selectors.access_member_community(request.user, community_id)
    page = paginate(selectors.community_sub_groups(community).filter(is_active=True), query.page, query.page_size)
    page["items"] = [SubGroupOut.from_model(g) for g in page["items"]]
    return page


@router.post("/{int:community_id}/sub-groups/{int:sub_group_id}/join", response={200: MemberOut, **MEMBER_WRITE_ERRORS})
def join_sub_group(request: HttpRequest, community_id: Id, sub_group_id: Id) -> MemberOut:
    """Join a sub-group (leaving any other of this community); a full one is a 409 ``sub_group_full``."""
    community = selectors.access_member_community(request.user, community_id)
    sub_group = selectors.member_sub_group(request.user, sub_group_id)
    if sub_group.community_id != community.pk:
        raise NotFound(_("分群不存在"), code="sub_group_not_found")
    actions.do_join_sub_group(request.user, sub_group)
    return MemberOut.from_model(selectors.membership_in(community, request.user.pk or 0))


@router.post("/{int:community_id}/sub-groups/leave", response={200: MemberOut, **MEMBER_WRITE_ERRORS})
def leave_sub_group(request: HttpRequest, community_id: Id) -> MemberOut:
    community = selectors.access_member_community(request.user, community_id)
    actions.do_leave_sub_group(request.user, community)
    return MemberOut.from_model(selectors.membership_in(community, request.user.pk or 0))


def _moderation_target(
    request: HttpRequest, community_id: Id, user_id: Id, *, moderators_only: bool = True
) -> tuple[Any, Any]:
    """For community admins: the community (members only) and the member acted on.

    Mute and unmute leave the check to the action, which also lets sub-group admins mute
    members of their own sub-group.
    """
    community = selectors.access_member_community(request.user, community_id)
    if moderators_only:
        actions.check_moderator(community, request.user)
    return community, selectors.membership_in(community, user_id)


def _member_out(target: Any) -> MemberOut:
    return MemberOut.from_model(selectors.membership_in(target.community, target.user_id))


@router.post(
    "/{int:community_id}/moderation/members/{int:user_id}/mute", response={200: MemberOut, **MEMBER_WRITE_ERRORS}
)
def admin_mute(request: HttpRequest, community_id: Id, user_id: Id, body: MuteIn) -> MemberOut:
    """Community owner/admins (or shop staff, or the member's sub-group admin) mute a member until a time."""
    community, target = _moderation_target(request, community_id, user_id, moderators_only=False)
    actions.do_mute(community, target, body.until, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@router.post(
    "/{int:community_id}/moderation/members/{int:user_id}/unmute", response={200: MemberOut, **MEMBER_WRITE_ERRORS}
)
def admin_unmute(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    community, target = _moderation_target(request, community_id, user_id, moderators_only=False)
    actions.do_unmute(community, target, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@router.post(
    "/{int:community_id}/moderation/members/{int:user_id}/remove", response={200: MemberOut, **MEMBER_WRITE_ERRORS}
)
def admin_remove(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    community, target = _moderation_target(request, community_id, user_id)
    actions.do_remove_member(community, target, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@router.post(
    "/{int:community_id}/moderation/members/{int:user_id}/ban", response={200: MemberOut, **MEMBER_WRITE_ERRORS}
)
def admin_ban(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    community, target = _moderation_target(request, community_id, user_id)
    actions.do_remove_member(community, target, ban=True, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@router.post(
    "/{int:community_id}/moderation/members/{int:user_id}/owner", response={200: MemberOut, **MEMBER_WRITE_ERRORS}
)
def admin_transfer_ownership(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    """The owner hands the community to another member (they become admin)."""
    community, target = _moderation_target(request, community_id, user_id)
    actions.do_transfer_ownership(community, target, actor=request.user, ip=client_ip(request))
    return _member_out(target)


# --- console: members and moderation ---------------------------------------------------

CONSOLE_WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


def _console_target(request: HttpRequest, community_id: Id, user_id: Id) -> tuple[Any, Any, Any]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    return shop, community, selectors.access_membership(shop, community, user_id)


@console.get("/communities/{int:community_id}/members/{int:user_id}", response={200: MemberOut, **CONSOLE_ERRORS})
def console_member(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    _, _, target = _console_target(request, community_id, user_id)
    return _member_out(target)


@console.post(
    "/communities/{int:community_id}/members/{int:user_id}/mute", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_mute(request: HttpRequest, community_id: Id, user_id: Id, body: MuteIn) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_mute(community, target, body.until, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.post(
    "/communities/{int:community_id}/members/{int:user_id}/unmute", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_unmute(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_unmute(community, target, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.post(
    "/communities/{int:community_id}/members/{int:user_id}/remove", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_remove(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_remove_member(community, target, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.post(
    "/communities/{int:community_id}/members/{int:user_id}/ban", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_ban(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_remove_member(community, target, ban=True, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.post(
    "/communities/{int:community_id}/members/{int:user_id}/unban", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_unban(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_unban(community, target, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.post(
    "/communities/{int:community_id}/members/{int:user_id}/role", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_set_role(request: HttpRequest, community_id: Id, user_id: Id, body: RoleIn) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_set_role(community, target, body.role, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.post(
    "/communities/{int:community_id}/members/{int:user_id}/owner", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_transfer_ownership(request: HttpRequest, community_id: Id, user_id: Id) -> MemberOut:
    """Make this member the owner; the previous owner (if any) becomes an admin."""
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_transfer_ownership(community, target, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.put(
    "/communities/{int:community_id}/members/{int:user_id}/tags", response={200: MemberOut, **CONSOLE_WRITE_ERRORS}
)
def console_set_tags(request: HttpRequest, community_id: Id, user_id: Id, body: TagsIn) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_set_member_tags(community, target, body.tag_ids, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.put(
    "/communities/{int:community_id}/members/{int:user_id}/sub-group",
    response={200: MemberOut, **CONSOLE_WRITE_ERRORS},
)
def console_assign_sub_group(request: HttpRequest, community_id: Id, user_id: Id, body: SubGroupAssignIn) -> MemberOut:
    """Move a member into a sub-group (capacity applies: 409 ``sub_group_full``) or out of any."""
    shop, community, target = _console_target(request, community_id, user_id)
    sub_group = selectors.access_sub_group(shop, body.sub_group_id) if body.sub_group_id else None
    actions.do_assign_sub_group(community, target, sub_group, actor=request.user, ip=client_ip(request))
    return _member_out(target)


@console.put(
    "/communities/{int:community_id}/members/{int:user_id}/sub-group-admin",
    response={200: MemberOut, **CONSOLE_WRITE_ERRORS},
)
def console_sub_group_admin(request: HttpRequest, community_id: Id, user_id: Id, body: SubGroupAdminIn) -> MemberOut:
    _, community, target = _console_target(request, community_id, user_id)
    actions.do_set_sub_group_admin(community, target, body.is_admin, actor=request.user, ip=client_ip(request))
    return _member_out(target)


# --- console: channels and the invite tree -----------------------------------------------


@console.get("/communities/{int:community_id}/channels", response={200: Page[ChannelOut], **CONSOLE_ERRORS})
def console_channels(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_channels(community), query.page, query.page_size)
    page["items"] = [ChannelOut.from_model(c) for c in page["items"]]
    return page


@console.post("/communities/{int:community_id}/channels", response={201: ChannelOut, **CONSOLE_WRITE_ERRORS})
def console_create_channel(request: HttpRequest, community_id: Id, body: ChannelIn) -> Status[ChannelOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    channel = actions.do_create_channel(
        community, body.name, body.kind, body.code, actor=request.user, ip=client_ip(request)
    )
    return Status(201, ChannelOut.from_model(selectors.access_channel(shop, channel.pk)))


@console.get("/channels/{int:channel_id}", response={200: ChannelOut, **CONSOLE_ERRORS})
def console_channel(request: HttpRequest, channel_id: Id) -> ChannelOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ChannelOut.from_model(selectors.access_channel(shop, channel_id))


@console.post("/channels/{int:channel_id}/active", response={200: ChannelOut, **CONSOLE_WRITE_ERRORS})
def console_channel_active(request: HttpRequest, channel_id: Id, body: ChannelActiveIn) -> ChannelOut:
    """Retire a channel (its link still joins, without attribution) or bring it back."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    channel = selectors.access_channel(shop, channel_id)
    actions.do_set_channel_active(channel.community, channel, body.active, actor=request.user, ip=client_ip(request))
    return ChannelOut.from_model(selectors.access_channel(shop, channel_id))


@console.get("/communities/{int:community_id}/invite-tree", response={200: InviteTreeOut, **CONSOLE_ERRORS})
def console_invite_tree(request: HttpRequest, community_id: Id) -> InviteTreeOut:
    """Figures of the community's invite tree and joins per channel."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    figures = selectors.invite_tree_figures(community)
    counts = selectors.channel_join_counts(community)
    joins = [
        ChannelJoinsOut(channel_id=c.pk, code=c.code, name=c.name, joins=counts.get(c.code, 0))
        for c in selectors.community_channels(community)
    ]
    joins.append(ChannelJoinsOut(channel_id=None, code=None, name=_("无渠道"), joins=counts.get(None, 0)))
    return InviteTreeOut(
        members=figures.members,
        invited=figures.invited,
        max_depth=figures.max_depth,
        top_inviters=[
            InviterOut(user_id=user.pk, nickname=user.display_name, direct=sub.direct, size=sub.size, depth=sub.depth)
            for user, sub in figures.top_inviters
        ],
        joins_by_channel=joins,
    )


@console.get(
    "/communities/{int:community_id}/members/{int:user_id}/invite-tree",
    response={200: InviteSubtreeOut, **CONSOLE_ERRORS},
)
def console_member_invite_tree(request: HttpRequest, community_id: Id, user_id: Id) -> InviteSubtreeOut:
    """Depth and size of one member's invite subtree."""
    _, community, target = _console_target(request, community_id, user_id)
    return _subtree_out(selectors.invite_subtree(community, target.user_id))


# --- console: sub-groups ------------------------------------------------------------------


@console.get("/communities/{int:community_id}/sub-groups", response={200: Page[SubGroupOut], **CONSOLE_ERRORS})
def console_sub_groups(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_sub_groups(community), query.page, query.page_size)
    page["items"] = [SubGroupOut.from_model(g) for g in page["items"]]
    return page


@console.post("/communities/{int:community_id}/sub-groups", response={201: SubGroupOut, **CONSOLE_WRITE_ERRORS})
def console_create_sub_group(request: HttpRequest, community_id: Id, body: SubGroupIn) -> Status[SubGroupOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    sub_group = actions.do_create_sub_group(
        community, body.name, body.kind, body.city, body.capacity, actor=request.user, ip=client_ip(request)
    )
    return Status(201, SubGroupOut.from_model(sub_group))


@console.get("/sub-groups/{int:sub_group_id}", response={200: SubGroupOut, **CONSOLE_ERRORS})
def console_sub_group(request: HttpRequest, sub_group_id: Id) -> SubGroupOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return SubGroupOut.from_model(selectors.access_sub_group(shop, sub_group_id))


@console.post("/sub-groups/{int:sub_group_id}/split", response={201: SplitOut, **CONSOLE_WRITE_ERRORS})
def console_split_sub_group(request: HttpRequest, sub_group_id: Id, body: SplitIn) -> Status[SplitOut]:
    """Move the newest half of the members (admins stay) into a new sub-group; audited."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    sub_group = selectors.access_sub_group(shop, sub_group_id)
    new_group, moved = actions.do_split_sub_group(
        sub_group.community, sub_group, body.name, actor=request.user, ip=client_ip(request)
    )
    original = selectors.access_sub_group(shop, sub_group_id)
    return Status(
        201,
        SplitOut(
            original=SubGroupOut.from_model(original), new=SubGroupOut.from_model(new_group), moved_user_ids=moved
        ),
    )


# --- console: tags ---------------------------------------------------------------------------


@console.get("/communities/{int:community_id}/tags", response={200: Page[TagOut], **CONSOLE_ERRORS})
def console_tags(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_tags(community), query.page, query.page_size)
    page["items"] = [TagOut.from_model(t) for t in page["items"]]
    return page


@console.post("/communities/{int:community_id}/tags", response={201: TagOut, **CONSOLE_WRITE_ERRORS})
def console_create_tag(request: HttpRequest, community_id: Id, body: TagIn) -> Status[TagOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    tag = actions.do_create_tag(community, body.name, actor=request.user, ip=client_ip(request))
    return Status(201, TagOut.from_model(tag))


@console.get("/tags/{int:tag_id}", response={200: TagOut, **CONSOLE_ERRORS})
def console_tag(request: HttpRequest, tag_id: Id) -> TagOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return TagOut.from_model(selectors.access_tag(shop, tag_id))


@console.delete("/tags/{int:tag_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_tag(request: HttpRequest, tag_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    tag = selectors.access_tag(shop, tag_id)
    actions.do_delete_tag(tag.community, tag, actor=request.user, ip=client_ip(request))
    return Status(204, None)


# --- paid membership and joining rules (ADR 0003) ----------------------------------------------


@router.get(
    "/discover/{shop_slug}", response={200: Page[MembershipTermsOut], **error_responses(403, 404, 422)}, auth=None
)
def discover(request: HttpRequest, shop_slug: Text, query: Query[PageQuery]) -> dict:
    """The shop's listed communities (invitation-only ones are not) with fee, validity and recruitment."""
    shop = access_shop_by_slug(shop_slug)
    page = paginate(selectors.discover(shop), query.page, query.page_size)
    page["items"] = [MembershipTermsOut.from_model(c, with_link=True) for c in page["items"]]
    return page


@router.get("/invites/{invite_code}/state", response={200: JoinStateOut, **MEMBER_ERRORS})
def join_state(
    request: HttpRequest, invite_code: Text, from_user_id: Id | None = None, channel_code: Text | None = None
) -> JoinStateOut:
    """What the caller may do with this invite link now (join, apply, pay, renew, or why not)."""
    community = selectors.community_by_invite_code(invite_code)
    offer = selectors.join_offer(community, request.user, inviter_id=from_user_id, channel_code=channel_code)
    return JoinStateOut.from_offer(offer)


@router.post("/join-requests", response={201: JoinRequestOut, **MEMBER_WRITE_ERRORS})
def apply(request: HttpRequest, body: CommunityApplyIn) -> Status[JoinRequestOut]:
    """Apply to a community that reviews applications (409 ``recruitment_closed`` outside a window)."""
    community = selectors.community_by_invite_code(body.invite_code)
    created = actions.do_apply(
        community, request.user, body.message, inviter_id=body.from_user_id, channel_code=body.channel_code
    )
    return Status(201, JoinRequestOut.from_model(selectors.join_requests(community, None).get(pk=created.pk)))


@router.post("/pay-intent", response={200: PayIntentOut, **MEMBER_WRITE_ERRORS})
def pay_intent(request: HttpRequest, body: PayIntentIn) -> PayIntentOut:
    """Record the invite and check the caller may join a paid community now; returns the SKU to buy
    (409 ``recruitment_closed``, ``community_full``; 403 ``approval_required``, ``invite_required``)."""
    community = selectors.community_by_invite_code(body.invite_code)
    sku = actions.do_prepare_payment(
        community, request.user, inviter_id=body.from_user_id, channel_code=body.channel_code
    )
    return PayIntentOut(
        sku_id=sku.pk,
        price_fen=sku.price_fen,
        checkout_url=settings.SITE_URL + f"{reverse('orders:checkout')}?sku={sku.pk}&quantity=1",
    )


@router.get("/memberships/mine", response={200: Page[MyMembershipOut], **error_responses(401, 422)})
def my_memberships(request: HttpRequest, query: Query[PageQuery]) -> dict:
    """The caller's communities, current and expired, with expiry and the renewal SKU."""
    page = paginate(selectors.my_memberships(request.user), query.page, query.page_size)
    page["items"] = [MyMembershipOut.from_model(m) for m in page["items"]]
    return page


@console.get("/communities/{int:community_id}/membership", response={200: MembershipSettingsOut, **CONSOLE_ERRORS})
def console_membership(request: HttpRequest, community_id: Id) -> MembershipSettingsOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return MembershipSettingsOut.from_model(selectors.access_community(shop, community_id))


@console.put(
    "/communities/{int:community_id}/membership", response={200: MembershipSettingsOut, **CONSOLE_WRITE_ERRORS}
)
def console_update_membership(
    request: HttpRequest, community_id: Id, body: MembershipSettingsIn
) -> MembershipSettingsOut:
    """Policy, fee, renewal price, validity, capacity, refund days, reminder days (422 with
    ``details.fields`` listing every problem); audited."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    actions.do_update_membership_settings(
        shop,
        community,
        join_policy=body.join_policy,
        fee_fen=body.fee_fen,
        renewal_fee_fen=body.renewal_fee_fen,
        validity_days=body.validity_days,
        capacity=body.capacity,
        refund_days=body.refund_days,
        renewal_reminder_days=body.renewal_reminder_days,
        actor=request.user,
        ip=client_ip(request),
    )
    return MembershipSettingsOut.from_model(selectors.access_community(shop, community_id))


@console.get("/communities/{int:community_id}/windows", response={200: list[WindowOut], **CONSOLE_ERRORS})
def console_windows(request: HttpRequest, community_id: Id) -> list[WindowOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    return [WindowOut.from_model(w) for w in selectors.community_windows(community)]


@console.post("/communities/{int:community_id}/windows", response={201: WindowOut, **CONSOLE_WRITE_ERRORS})
def console_add_window(request: HttpRequest, community_id: Id, body: WindowIn) -> Status[WindowOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    window = actions.do_add_window(
        shop, community, body.opens_at, body.closes_at, body.note, actor=request.user, ip=client_ip(request)
    )
    return Status(201, WindowOut.from_model(window))


@console.delete("/windows/{int:window_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_window(request: HttpRequest, window_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_remove_window(shop, selectors.access_window(shop, window_id), actor=request.user, ip=client_ip(request))
    return Status(204, None)


@console.get("/communities/{int:community_id}/join-requests", response={200: Page[JoinRequestOut], **CONSOLE_ERRORS})
def console_join_requests(request: HttpRequest, community_id: Id, query: Query[JoinRequestQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.join_requests(community, query.status), query.page, query.page_size)
    page["items"] = [JoinRequestOut.from_model(r) for r in page["items"]]
    return page


def _decide(request: HttpRequest, request_id: Id, approve: bool) -> JoinRequestOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    join_request = selectors.access_join_request(shop, request_id)
    actions.do_decide_join_request(shop, join_request, approve, actor=request.user, ip=client_ip(request))
    return JoinRequestOut.from_model(selectors.access_join_request(shop, request_id))


@console.post("/join-requests/{int:request_id}/approve", response={200: JoinRequestOut, **CONSOLE_WRITE_ERRORS})
def console_approve_join_request(request: HttpRequest, request_id: Id) -> JoinRequestOut:
    """Approve: a free community admits the member at once (409 ``community_full`` keeps it
    pending); a paid one lets them pay. Audited; the member is notified."""
    return _decide(request, request_id, True)


@console.post("/join-requests/{int:request_id}/reject", response={200: JoinRequestOut, **CONSOLE_WRITE_ERRORS})
def console_reject_join_request(request: HttpRequest, request_id: Id) -> JoinRequestOut:
    return _decide(request, request_id, False)


router.add_router("/console", console)
