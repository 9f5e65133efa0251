"""Every community write. ``check_*`` validates and authorises, ``do_*`` changes data.

Staff writes are audited in the same transaction; a member joining is recorded on the
membership row itself (with the inviter, when the link carried one).
"""

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shequn.catalog import selectors as catalog_selectors
from shequn.catalog.actions import check_image_upload
from shequn.catalog.models import Product
from shequn.core import audit
from shequn.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from shequn.shops.models import Shop, StaffMember
from shequn.shops.permissions import MANAGE_COMMUNITIES, role_allows

from .enums import ChannelKind, MemberRole, MemberStatus, SubGroupKind
from .models import Channel, Community, CommunityMembership, Post, PostProduct, SubGroup, Tag

MAX_POST_PRODUCTS = 9


def new_invite_code() -> str:
    """16 URL-safe random characters: unguessable, short enough for a QR code."""
    return secrets.token_urlsafe(12)


def _check_community_fields(name: str, description: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写社群名称", code="name_required", details={"field": "name"})
    if len(name) > 100:
        raise InvalidInput("社群名称不能超过 100 个字", code="name_too_long", details={"field": "name"})
    return name, (description or "").strip()


def do_create_community(
    shop: Shop, name: str, description: str = "", *, actor: Any, ip: str | None = None
) -> Community:
    name, description = _check_community_fields(name, description)
    with transaction.atomic():
        community = Community.objects.create(
            shop=shop, name=name, description=description, invite_code=new_invite_code()
        )
        audit.record(actor=actor, shop=shop, action="community.create", obj=community, ip=ip)
    return community


def do_update_community(
    shop: Shop,
    community: Community,
    name: str,
    description: str,
    is_active: bool = True,
    *,
    actor: Any,
    ip: str | None = None,
) -> Community:
    name, description = _check_community_fields(name, description)
    if community.shop_id != shop.pk:
        raise NotFound("社群不存在", code="community_not_found")
    with transaction.atomic():
        community.name, community.description, community.is_active = name, description, is_active
        community.save(update_fields=["name", "description", "is_active"])
        audit.record(actor=actor, shop=shop, action="community.update", obj=community, ip=ip, is_active=is_active)
    return community


def do_rotate_invite_code(shop: Shop, community: Community, *, actor: Any, ip: str | None = None) -> Community:
    """A new invite code: old links and QR codes stop working."""
    if community.shop_id != shop.pk:
        raise NotFound("社群不存在", code="community_not_found")
    with transaction.atomic():
        community.invite_code = new_invite_code()
        community.save(update_fields=["invite_code"])
        audit.record(actor=actor, shop=shop, action="community.rotate_invite", obj=community, ip=ip)
    return community


# --- joining -----------------------------------------------------------------------


def check_join(community: Community, user: Any) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("请先登录再加入社群", code="not_authenticated")
    if not community.is_active:
        raise NotFound("邀请链接无效或已失效，请向群主索取新的链接", code="invite_not_found")


def do_join(
    community: Community, user: Any, *, inviter_id: int | None = None, channel_code: str | None = None
) -> tuple[CommunityMembership, bool]:
    """Join ``community``; returns (membership, created). Joining twice changes nothing.

    The inviter is recorded only when they are an existing member of the same community
    (a forged ``?from=`` pointing at anyone else is ignored); the channel only when
    ``channel_code`` names an active channel of this community. Banned members are refused;
    removed and former members come back with their original attribution.
    """
    check_join(community, user)
    existing = CommunityMembership.objects.filter(community=community, user=user).first()
    if existing is not None and existing.status == MemberStatus.ACTIVE:
        return existing, False
    if existing is not None and existing.status == MemberStatus.BANNED:
        raise PermissionDenied("你已被移出并禁止再次加入该社群", code="member_banned")
    inviter = None
    if inviter_id and inviter_id != user.pk:
        membership = (
            CommunityMembership.objects.select_related("user").filter(community=community, user_id=inviter_id).first()
        )
        inviter = membership.user if membership else None
    if existing is not None:  # removed or former: back in, the original attribution is kept
        existing.status = MemberStatus.ACTIVE
        existing.muted_until = None
        existing.save(update_fields=["status", "muted_until"])
        return existing, True
    channel = (
        Channel.objects.filter(community=community, code=channel_code, is_active=True).first() if channel_code else None
    )
    try:
        with transaction.atomic():
            joined = CommunityMembership.objects.create(
                community=community, user=user, invited_by=inviter, channel=channel
            )
    except IntegrityError:  # a concurrent double tap joined first
        return CommunityMembership.objects.get(community=community, user=user), False
    return joined, True


# --- posts -------------------------------------------------------------------------


def check_post_products(shop: Shop, product_ids: Sequence[int]) -> list[Product]:
    """Products for a post's cards: this shop's (foreign ids look absent) and on shelf."""
    ordered = list(dict.fromkeys(int(pk) for pk in product_ids))
    if len(ordered) > MAX_POST_PRODUCTS:
        raise InvalidInput(f"一条帖子最多挂 {MAX_POST_PRODUCTS} 个商品", code="too_many_products")
    found = {p.pk: p for p in catalog_selectors.goods(shop).filter(pk__in=ordered)}
    products = []
    for pk in ordered:
        product = found.get(pk)
        if product is None:
            raise NotFound("商品不存在", code="product_not_found")
        if not product.on_shelf:
            raise InvalidInput(f"商品「{product.title}」未上架，不能放进帖子", code="product_off_shelf")
        products.append(product)
    return products


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("请填写帖子内容", code="body_required", details={"field": "body"})
    if len(body) > 5000:
        raise InvalidInput("帖子内容不能超过 5000 个字", code="body_too_long", details={"field": "body"})
    return body


def _set_cards(post: Post, products: Sequence[Product]) -> None:
    PostProduct.objects.filter(post=post).delete()
    PostProduct.objects.bulk_create(
        PostProduct(post=post, product=product, position=index) for index, product in enumerate(products)
    )


def do_create_post(
    shop: Shop,
    community: Community,
    body: str,
    product_ids: Sequence[int] = (),
    *,
    is_pinned: bool = False,
    image: UploadedFile | None = None,
    actor: Any,
    ip: str | None = None,
) -> Post:
    if community.shop_id != shop.pk:
        raise NotFound("社群不存在", code="community_not_found")
    body = _check_body(body)
    products = check_post_products(shop, product_ids)
    if image is not None:
        check_image_upload(image)
        image.seek(0)
    with transaction.atomic():
        post = Post(shop=shop, community=community, author=actor, body=body, is_pinned=is_pinned)
        if image is not None:
            post.image.save(image.name or "post.jpg", image, save=False)
        post.save()
        _set_cards(post, products)
        audit.record(actor=actor, shop=shop, action="post.create", obj=post, ip=ip, products=[p.pk for p in products])
    return post


def do_update_post(
    shop: Shop,
    post: Post,
    body: str,
    product_ids: Sequence[int],
    *,
    is_pinned: bool,
    actor: Any,
    ip: str | None = None,
) -> Post:
    if post.shop_id != shop.pk:
        raise NotFound("帖子不存在", code="post_not_found")
    body = _check_body(body)
    products = check_post_products(shop, product_ids)
    with transaction.atomic():
        post.body, post.is_pinned = body, is_pinned
        post.save(update_fields=["body", "is_pinned"])
        _set_cards(post, products)
        audit.record(actor=actor, shop=shop, action="post.update", obj=post, ip=ip, products=[p.pk for p in products])
    return post


def do_set_post_published(shop: Shop, post: Post, published: bool, *, actor: Any, ip: str | None = None) -> Post:
    """Unpublish (hide from the feed, keep for the record) or publish again."""
    if post.shop_id != shop.pk:
        raise NotFound("帖子不存在", code="post_not_found")
    with transaction.atomic():
        if post.is_published != published:
            post.is_published = published
            post.save(update_fields=["is_published"])
            audit.record(
                actor=actor, shop=shop, action="post.publish" if published else "post.unpublish", obj=post, ip=ip
            )
    return post


def do_delete_post(shop: Shop, post: Post, *, actor: Any, ip: str | None = None) -> None:
    if post.shop_id != shop.pk:
        raise NotFound("帖子不存在", code="post_not_found")
    with transaction.atomic():
        audit.record(actor=actor, shop=shop, action="post.delete", obj=post, ip=ip, body=post.body[:200])
        image = post.image
        post.delete()
    if image:
        image.delete(save=False)


# --- moderation: who may moderate ------------------------------------------------------
#
# Shop staff whose role has MANAGE_COMMUNITIES moderate every community of their shop;
# a community's owner and admins moderate their own community. Everything is audited
# with the actor, the community's shop and the IP.

STAFF = "staff"
MODERATOR_ROLES = (MemberRole.OWNER, MemberRole.ADMIN)


def check_moderator(community: Community, actor: Any) -> str:
    """The actor's standing: "staff", "owner" or "admin"; PermissionDenied (403) otherwise."""
    if not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated("请先登录", code="not_authenticated")
    role = (
        CommunityMembership.objects.filter(community=community, user=actor, status=MemberStatus.ACTIVE)
        .values_list("role", flat=True)
        .first()
    )
    if role in MODERATOR_ROLES:
        return str(role)
    staff = StaffMember.objects.filter(shop_id=community.shop_id, user=actor, is_active=True).first()
    if staff is not None and role_allows(staff.role, MANAGE_COMMUNITIES):
        return STAFF
    raise PermissionDenied("只有社群管理员或有社群管理权限的店铺员工可以执行此操作", code="not_a_moderator")


def _check_same_community(community: Community, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.community_id != community.pk:
            raise NotFound("社群中没有该对象", code="not_found")


def _check_target(community: Community, standing: str, actor: Any, target: CommunityMembership) -> None:
    _check_same_community(community, target)
    if target.user_id == actor.pk:
        raise InvalidInput("不能对自己执行此操作", code="cannot_moderate_self")
    if target.role == MemberRole.OWNER:
        raise PermissionDenied("不能对群主执行此操作，请先转让群主", code="target_is_owner")
    if standing == MemberRole.ADMIN and target.role == MemberRole.ADMIN:
        raise PermissionDenied("管理员不能管理其他管理员，请联系群主", code="target_is_admin")


def _audit(community: Community, actor: Any, action: str, obj: Any, ip: str | None, **detail: Any) -> None:
    audit.record(actor=actor, shop=community.shop, action=action, obj=obj, ip=ip, community=community.pk, **detail)


# --- mute, remove, ban, roles, ownership ----------------------------------------------

MAX_MUTE = timedelta(days=365)
SUB_GROUP_ADMIN = "sub_group_admin"


def _check_mute_rights(community: Community, actor: Any, target: CommunityMembership) -> str:
    try:
        return check_moderator(community, actor)
    except PermissionDenied:
        if (
            target.sub_group_id is not None
            and CommunityMembership.objects.filter(
                community=community,
                user=actor,
                status=MemberStatus.ACTIVE,
                sub_group_id=target.sub_group_id,
                is_sub_group_admin=True,
            )
            .exclude(user_id=target.user_id)
            .exists()
        ):
            if target.role in MODERATOR_ROLES or target.is_sub_group_admin:
                raise PermissionDenied("分群管理员只能禁言本分群的普通成员", code="target_is_admin") from None
            return SUB_GROUP_ADMIN
        raise


def do_mute(
    community: Community, target: CommunityMembership, until: datetime, *, actor: Any, ip: str | None = None
) -> CommunityMembership:
    """Mute until ``until``: the member still reads but cannot post (see selectors.is_muted).

    Besides the community's moderators, a sub-group admin may mute members of their own sub-group.
    """
    standing = _check_mute_rights(community, actor, target)
    _check_target(community, standing, actor, target)
    if target.status != MemberStatus.ACTIVE:
        raise InvalidInput("该成员已不在社群中", code="member_not_active")
    now = timezone.now()
    if timezone.is_naive(until):
        until = timezone.make_aware(until)
    if until <= now:
        raise InvalidInput("禁言结束时间必须晚于现在", code="mute_in_past", details={"field": "until"})
    if until - now > MAX_MUTE:
        raise InvalidInput("禁言最长 365 天，更久请移出社群", code="mute_too_long", details={"field": "until"})
    with transaction.atomic():
        target.muted_until = until
        target.save(update_fields=["muted_until"])
        _audit(community, actor, "member.mute", target, ip, user=target.user_id, until=until.isoformat())
    return target


def do_unmute(
    community: Community, target: CommunityMembership, *, actor: Any, ip: str | None = None
) -> CommunityMembership:
    standing = _check_mute_rights(community, actor, target)
    _check_target(community, standing, actor, target)
    with transaction.atomic():
        target.muted_until = None
        target.save(update_fields=["muted_until"])
        _audit(community, actor, "member.unmute", target, ip, user=target.user_id)
    return target


def _leave_sub_group(membership: CommunityMembership) -> None:
    """Free the member's seat in their sub-group (single-statement decrement)."""
    if membership.sub_group_id is not None:
        SubGroup.objects.filter(pk=membership.sub_group_id, member_count__gt=0).update(
            member_count=F("member_count") - 1
        )
    membership.sub_group = None
    membership.sub_group_joined_at = None
    membership.is_sub_group_admin = False


def do_remove_member(
    community: Community, target: CommunityMembership, *, ban: bool = False, actor: Any, ip: str | None = None
) -> CommunityMembership:
    """Remove (may rejoin by invite) or ban (refused on every later join). The row stays for history."""
    standing = check_moderator(community, actor)
    _check_target(community, standing, actor, target)
    new_status = MemberStatus.BANNED if ban else MemberStatus.REMOVED
    if target.status == new_status:
        return target
    with transaction.atomic():
        target = CommunityMembership.objects.select_for_update().get(pk=target.pk)
        _leave_sub_group(target)
        target.status = new_status
        target.role = MemberRole.MEMBER
        target.muted_until = None
        target.save(
            update_fields=["status", "role", "muted_until", "sub_group", "sub_group_joined_at", "is_sub_group_admin"]
        )
        _audit(community, actor, "member.ban" if ban else "member.remove", target, ip, user=target.user_id)
    return target


def do_unban(
    community: Community, target: CommunityMembership, *, actor: Any, ip: str | None = None
) -> CommunityMembership:
    """Lift a ban: the person may join again by invite (they are not put back by this)."""
    check_moderator(community, actor)
    _check_same_community(community, target)
    if target.status != MemberStatus.BANNED:
        raise InvalidInput("该成员没有被封禁", code="member_not_banned")
    with transaction.atomic():
        target.status = MemberStatus.REMOVED
        target.save(update_fields=["status"])
        _audit(community, actor, "member.unban", target, ip, user=target.user_id)
    return target


ASSIGNABLE_ROLES = (MemberRole.ADMIN, MemberRole.LEADER, MemberRole.MEMBER)


def do_set_role(
    community: Community, target: CommunityMembership, role: str, *, actor: Any, ip: str | None = None
) -> CommunityMembership:
    """Make a member admin, leader or plain member. Only staff and the owner appoint; the owner
    changes only through ``do_transfer_ownership``."""
    standing = check_moderator(community, actor)
    if standing not in (STAFF, MemberRole.OWNER):
        raise PermissionDenied("只有群主或店铺员工可以设置成员角色", code="owner_or_staff_only")
    if role not in ASSIGNABLE_ROLES:
        raise InvalidInput("角色只能是管理员、团长或成员；转让群主请用转让功能", code="invalid_role")
    _check_target(community, standing, actor, target)
    if target.status != MemberStatus.ACTIVE:
        raise InvalidInput("该成员已不在社群中", code="member_not_active")
    with transaction.atomic():
        previous = target.role
        target.role = role
        target.save(update_fields=["role"])
        _audit(community, actor, "member.set_role", target, ip, user=target.user_id, previous=previous, role=role)
    return target


def do_transfer_ownership(
    community: Community, new_owner: CommunityMembership, *, actor: Any, ip: str | None = None
) -> CommunityMembership:
    """Hand the community to ``new_owner`` (an active member); the old owner stays as an admin.

    Only shop staff or the current owner may do it (staff also appoint the first owner).
    A partial unique constraint keeps exactly one owner even if two transfers race.
    """
    standing = check_moderator(community, actor)
    if standing not in (STAFF, MemberRole.OWNER):
        raise PermissionDenied("只有群主或店铺员工可以转让群主", code="owner_or_staff_only")
    _check_same_community(community, new_owner)
    if new_owner.status != MemberStatus.ACTIVE:
        raise InvalidInput("新群主必须是社群的正式成员", code="member_not_active")
    if new_owner.role == MemberRole.OWNER:
        return new_owner
    with transaction.atomic():
        previous = list(
            CommunityMembership.objects.select_for_update()
            .filter(community=community, role=MemberRole.OWNER)
            .values_list("user_id", flat=True)
        )
        CommunityMembership.objects.filter(community=community, role=MemberRole.OWNER).update(role=MemberRole.ADMIN)
        new_owner.role = MemberRole.OWNER
        new_owner.muted_until = None
        new_owner.save(update_fields=["role", "muted_until"])
        _audit(community, actor, "community.transfer_owner", new_owner, ip, previous=previous, to=new_owner.user_id)
    return new_owner


# --- tags ---------------------------------------------------------------------------


def do_create_tag(community: Community, name: str, *, actor: Any, ip: str | None = None) -> Tag:
    check_moderator(community, actor)
    name = (name or "").strip()
    if not name or len(name) > 20:
        raise InvalidInput("标签名称为 1 到 20 个字", code="tag_name_invalid", details={"field": "name"})
    if Tag.objects.filter(community=community, name=name).exists():
        raise InvalidInput(f"标签「{name}」已存在", code="tag_exists", details={"field": "name"})
    try:
        with transaction.atomic():
            tag = Tag.objects.create(community=community, name=name)
            _audit(community, actor, "tag.create", tag, ip)
    except IntegrityError:
        raise InvalidInput(f"标签「{name}」已存在", code="tag_exists", details={"field": "name"}) from None
    return tag


def do_delete_tag(community: Community, tag: Tag, *, actor: Any, ip: str | None = None) -> None:
    check_moderator(community, actor)
    _check_same_community(community, tag)
    with transaction.atomic():
        _audit(community, actor, "tag.delete", tag, ip, name=tag.name)
        tag.delete()


def do_set_member_tags(
    community: Community, target: CommunityMembership, tag_ids: Sequence[int], *, actor: Any, ip: str | None = None
) -> CommunityMembership:
    """Replace the member's manual tags; a tag of another community looks absent (404)."""
    check_moderator(community, actor)
    _check_same_community(community, target)
    wanted = set(int(pk) for pk in tag_ids)
    tags = list(Tag.objects.filter(community=community, pk__in=wanted))
    if len(tags) != len(wanted):
        raise NotFound("标签不存在", code="tag_not_found")
    with transaction.atomic():
        target.tags.set(tags)
        _audit(community, actor, "member.set_tags", target, ip, user=target.user_id, tags=sorted(wanted))
    return target


# --- channels (渠道码) ------------------------------------------------------------------

CHANNEL_CODE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")


def do_create_channel(
    community: Community,
    name: str,
    kind: str = ChannelKind.POSTER,
    code: str = "",
    *,
    actor: Any,
    ip: str | None = None,
) -> Channel:
    """A channel with its own join link and QR; ``code`` is random unless the operator picks one."""
    check_moderator(community, actor)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput("渠道名称为 1 到 60 个字", code="channel_name_invalid", details={"field": "name"})
    if kind not in ChannelKind.values:
        raise InvalidInput("渠道类型无效", code="channel_kind_invalid", details={"field": "kind"})
    code = (code or "").strip() or secrets.token_urlsafe(6)
    if not CHANNEL_CODE.match(code):
        raise InvalidInput(
            "渠道码为 2 到 32 位字母、数字、- 或 _", code="channel_code_invalid", details={"field": "code"}
        )
    if Channel.objects.filter(community=community, code=code).exists():
        raise InvalidInput("该渠道码已被使用", code="channel_code_taken", details={"field": "code"})
    try:
        with transaction.atomic():
            channel = Channel.objects.create(community=community, name=name, kind=kind, code=code)
            _audit(community, actor, "channel.create", channel, ip, code=code)
    except IntegrityError:
        raise InvalidInput("该渠道码已被使用", code="channel_code_taken", details={"field": "code"}) from None
    return channel


def do_set_channel_active(
    community: Community, channel: Channel, active: bool, *, actor: Any, ip: str | None = None
) -> Channel:
    """A retired channel's link still joins the community but no longer attributes joins."""
    check_moderator(community, actor)
    _check_same_community(community, channel)
    with transaction.atomic():
        if channel.is_active != active:
            channel.is_active = active
            channel.save(update_fields=["is_active"])
            _audit(community, actor, "channel.activate" if active else "channel.retire", channel, ip)
    return channel


# --- sub-groups and chapters -----------------------------------------------------------


def do_create_sub_group(
    community: Community,
    name: str,
    kind: str = SubGroupKind.CITY,
    city: str = "",
    capacity: int = 500,
    *,
    actor: Any,
    ip: str | None = None,
) -> SubGroup:
    check_moderator(community, actor)
    name, city = (name or "").strip(), (city or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput("分群名称为 1 到 60 个字", code="sub_group_name_invalid", details={"field": "name"})
    if kind not in SubGroupKind.values:
        raise InvalidInput("分群类型无效", code="sub_group_kind_invalid", details={"field": "kind"})
    if kind == SubGroupKind.CHAPTER and not city:
        raise InvalidInput("城市分会需要填写城市", code="chapter_city_required", details={"field": "city"})
    if not 2 <= int(capacity) <= 100_000:
        raise InvalidInput("分群人数上限为 2 到 100000", code="capacity_invalid", details={"field": "capacity"})
    with transaction.atomic():
        sub_group = SubGroup.objects.create(
            community=community, name=name, kind=kind, city=city[:40], capacity=int(capacity)
        )
        _audit(community, actor, "sub_group.create", sub_group, ip, kind=kind, capacity=int(capacity))
    return sub_group


def _take_seat(sub_group: SubGroup) -> None:
    """One seat in ``sub_group`` in a single statement; a full (or closed) group refuses."""
    taken = SubGroup.objects.filter(pk=sub_group.pk, is_active=True, member_count__lt=F("capacity")).update(
        member_count=F("member_count") + 1
    )
    if not taken:
        raise Conflict(
            f"分群「{sub_group.name}」已满（{sub_group.capacity} 人），请选择其他分群或联系管理员",
            code="sub_group_full",
            details={"sub_group_id": sub_group.pk, "capacity": sub_group.capacity},
        )


def _move_into(membership: CommunityMembership, sub_group: SubGroup | None) -> bool:
    """Put the member in ``sub_group`` (or none); False when nothing changes."""
    if membership.sub_group_id == (sub_group.pk if sub_group else None):
        return False
    if sub_group is not None:
        _take_seat(sub_group)
    _leave_sub_group(membership)
    if sub_group is not None:
        membership.sub_group = sub_group
        membership.sub_group_joined_at = timezone.now()
    membership.save(update_fields=["sub_group", "sub_group_joined_at", "is_sub_group_admin"])
    return True


def do_join_sub_group(user: Any, sub_group: SubGroup) -> CommunityMembership:
    """A member picks their sub-group (leaving any other of the same community)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("请先登录", code="not_authenticated")
    with transaction.atomic():
        membership = (
            CommunityMembership.objects.select_for_update()
            .filter(community_id=sub_group.community_id, user=user, status=MemberStatus.ACTIVE)
            .first()
        )
        if membership is None:
            raise PermissionDenied("请先加入社群，再选择分群", code="not_a_member")
        _move_into(membership, sub_group)
    return membership


def do_leave_sub_group(user: Any, community: Community) -> None:
    with transaction.atomic():
        membership = CommunityMembership.objects.select_for_update().filter(community=community, user=user).first()
        if membership is not None and membership.sub_group_id is not None:
            _move_into(membership, None)


def do_assign_sub_group(
    community: Community,
    target: CommunityMembership,
    sub_group: SubGroup | None,
    *,
    actor: Any,
    ip: str | None = None,
) -> CommunityMembership:
    """A moderator moves a member into a sub-group (capacity applies) or out of any."""
    check_moderator(community, actor)
    _check_same_community(community, target, sub_group)
    if target.status != MemberStatus.ACTIVE:
        raise InvalidInput("该成员已不在社群中", code="member_not_active")
    with transaction.atomic():
        target = CommunityMembership.objects.select_for_update().get(pk=target.pk)
        previous = target.sub_group_id
        if _move_into(target, sub_group):
            _audit(
                community,
                actor,
                "sub_group.assign",
                target,
                ip,
                user=target.user_id,
                previous=previous,
                sub_group=sub_group.pk if sub_group else None,
            )
    return target


def do_set_sub_group_admin(
    community: Community, target: CommunityMembership, is_admin: bool, *, actor: Any, ip: str | None = None
) -> CommunityMembership:
    check_moderator(community, actor)
    _check_same_community(community, target)
    with transaction.atomic():
        target = CommunityMembership.objects.select_for_update().get(pk=target.pk)
        if target.sub_group_id is None or target.status != MemberStatus.ACTIVE:
            raise InvalidInput("该成员不在任何分群中", code="not_in_sub_group")
        target.is_sub_group_admin = is_admin
        target.save(update_fields=["is_sub_group_admin"])
        _audit(
            community,
            actor,
            "sub_group.admin" if is_admin else "sub_group.unadmin",
            target,
            ip,
            user=target.user_id,
            sub_group=target.sub_group_id,
        )
    return target


def do_split_sub_group(
    community: Community, sub_group: SubGroup, name: str = "", *, actor: Any, ip: str | None = None
) -> tuple[SubGroup, list[int]]:
    """Split ``sub_group`` in two: the newest half of its members move to a new sub-group.

    Rule: of its N members, the floor(N/2) who joined the sub-group most recently move
    (ties by membership id); its sub-group admins never move, they keep running the
    original group. The new group has the same kind, city and capacity. Returns the new
    group and the moved user ids (also in the audit log).
    """
    check_moderator(community, actor)
    _check_same_community(community, sub_group)
    with transaction.atomic():
        sub_group = SubGroup.objects.select_for_update().get(pk=sub_group.pk)
        members = CommunityMembership.objects.filter(sub_group=sub_group)
        total = members.count()
        if total < 2:
            raise InvalidInput("分群至少要有 2 名成员才能拆分", code="sub_group_too_small")
        movers = list(
            members.filter(is_sub_group_admin=False)
            .order_by("-sub_group_joined_at", "-id")
            .values_list("pk", "user_id")[: total // 2]
        )
        splits = SubGroup.objects.filter(split_from=sub_group).count()
        new_group = SubGroup.objects.create(
            community=community,
            name=(name or "").strip()[:60] or f"{sub_group.name}·{splits + 2}群",
            kind=sub_group.kind,
            city=sub_group.city,
            capacity=sub_group.capacity,
            member_count=len(movers),
            split_from=sub_group,
        )
        now = timezone.now()
        CommunityMembership.objects.filter(pk__in=[pk for pk, _ in movers]).update(
            sub_group=new_group, sub_group_joined_at=now, is_sub_group_admin=False
        )
        SubGroup.objects.filter(pk=sub_group.pk).update(member_count=F("member_count") - len(movers))
        moved_users = [user_id for _, user_id in movers]
        _audit(community, actor, "sub_group.split", sub_group, ip, new_sub_group=new_group.pk, moved_users=moved_users)
    return new_group, moved_users
