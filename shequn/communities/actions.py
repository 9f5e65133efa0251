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
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.catalog import selectors as catalog_selectors
from shequn.catalog.actions import check_image_upload
from shequn.catalog.models import Product, Sku
from shequn.core import audit
from shequn.core.errors import Conflict, DomainError, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from shequn.core.i18n import in_language_of
from shequn.core.money import format_fen
from shequn.notifications.actions import notify
from shequn.shops.models import Shop, StaffMember
from shequn.shops.permissions import MANAGE_COMMUNITIES, role_allows

from . import selectors, signals
from .enums import ChannelKind, JoinPolicy, JoinRequestStatus, MemberRole, MemberStatus, SubGroupKind, TermKind
from .errors import (
    AlreadyMember,
    ApprovalRequired,
    CommunityFull,
    InvalidMembershipSettings,
    InvalidWindow,
    InviteRequired,
    JoinRequestDecided,
    MemberBanned,
    PaymentRequired,
    RecruitmentClosed,
    RefundNotAllowed,
    RefundWindowClosed,
    RenewalNotAllowed,
)
from .models import (
    Channel,
    Community,
    CommunityMembership,
    JoinRequest,
    MembershipTerm,
    Post,
    PostProduct,
    RecruitmentWindow,
    SubGroup,
    Tag,
)

MAX_POST_PRODUCTS = 9


def new_invite_code() -> str:
    """16 URL-safe random characters: unguessable, short enough for a QR code."""
    return secrets.token_urlsafe(12)


def _check_community_fields(name: str, description: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("请填写社群名称"), code="name_required", details={"field": "name"})
    if len(name) > 100:
        raise InvalidInput(_("社群名称不能超过 100 个字"), code="name_too_long", details={"field": "name"})
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
        raise NotFound(_("社群不存在"), code="community_not_found")
    with transaction.atomic():
        community.name, community.description, community.is_active = name, description, is_active
        community.save(update_fields=["name", "description", "is_active"])
        audit.record(actor=actor, shop=shop, action="community.update", obj=community, ip=ip, is_active=is_active)
    return community


def do_rotate_invite_code(shop: Shop, community: Community, *, actor: Any, ip: str | None = None) -> Community:
    """A new invite code: old links and QR codes stop working."""
    if community.shop_id != shop.pk:
        raise NotFound(_("社群不存在"), code="community_not_found")
    with transaction.atomic():
        community.invite_code = new_invite_code()
        community.save(update_fields=["invite_code"])
        audit.record(actor=actor, shop=shop, action="community.rotate_invite", obj=community, ip=ip)
    return community


# --- joining -----------------------------------------------------------------------


def check_join(community: Community, user: Any) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录再加入社群"), code="not_authenticated")
    if not community.is_active:
        raise NotFound(_("邀请链接无效或已失效，请向群主索取新的链接"), code="invite_not_found")


def do_join(
    community: Community, user: Any, *, inviter_id: int | None = None, channel_code: str | None = None
) -> tuple[CommunityMembership, bool]:
    """Join a free ``community``; returns (membership, created). Joining twice changes nothing.

    The inviter is recorded only when they are a current member of the same community
    (a forged ``?from=`` pointing at anyone else is ignored); the channel only when
    ``channel_code`` names an active channel of this community. Banned members are refused;
    removed and former members come back with their original attribution. The joining rules
    apply to everyone not currently a member: the policy (approval, invitation only), the
    recruitment windows and the capacity. A paid community is joined by paying its fee.
    """
    check_join(community, user)
    existing = CommunityMembership.objects.filter(community=community, user=user).first()
    if selectors.is_current(existing):
        assert existing is not None
        return existing, False
    if existing is not None and existing.status == MemberStatus.BANNED:
        raise MemberBanned(_("你已被移出并禁止再次加入该社群"), code="member_banned")
    if community.is_paid:
        raise PaymentRequired(
            _("加入该社群需支付入会费 %(fee_fen)s，请在加入页付款") % {"fee_fen": format_fen(community.fee_fen)},
            code="payment_required",
        )
    inviter, channel = selectors.valid_invite(community, user, inviter_id, channel_code)
    try:
        with transaction.atomic():
            community = _lock_community(community)
            request = _record_invite(community, user, inviter, channel)
            check_new_member(community, user, request)
            membership, created = _admit(community, user, request, inviter=inviter, channel=channel)
    except IntegrityError:  # a concurrent double tap joined first
        return CommunityMembership.objects.get(community=community, user=user), False
    return membership, created


# --- posts -------------------------------------------------------------------------


def check_post_products(shop: Shop, product_ids: Sequence[int]) -> list[Product]:
    """Products for a post's cards: this shop's (foreign ids look absent) and on shelf."""
    ordered = list(dict.fromkeys(int(pk) for pk in product_ids))
    if len(ordered) > MAX_POST_PRODUCTS:
        raise InvalidInput(
            _("一条帖子最多挂 %(max)s 个商品") % {"max": MAX_POST_PRODUCTS},
            code="too_many_products",
        )
    found = {p.pk: p for p in catalog_selectors.goods(shop).filter(pk__in=ordered)}
    products = []
    for pk in ordered:
        product = found.get(pk)
        if product is None:
            raise NotFound(_("商品不存在"), code="product_not_found")
        if not product.on_shelf:
            raise InvalidInput(
                _("商品「%(title)s」未上架，不能放进帖子") % {"title": product.title}, code="product_off_shelf"
            )
        products.append(product)
    return products


def _check_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("请填写帖子内容"), code="body_required", details={"field": "body"})
    if len(body) > 5000:
        raise InvalidInput(_("帖子内容不能超过 5000 个字"), code="body_too_long", details={"field": "body"})
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
        raise NotFound(_("社群不存在"), code="community_not_found")
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
        raise NotFound(_("帖子不存在"), code="post_not_found")
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
        raise NotFound(_("帖子不存在"), code="post_not_found")
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
        raise NotFound(_("帖子不存在"), code="post_not_found")
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
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    role = (
        CommunityMembership.objects.filter(selectors.current_q(), community=community, user=actor)
        .values_list("role", flat=True)
        .first()
    )
    if role in MODERATOR_ROLES:
        return str(role)
    staff = StaffMember.objects.filter(shop_id=community.shop_id, user=actor, is_active=True).first()
    if staff is not None and role_allows(staff.role, MANAGE_COMMUNITIES):
        return STAFF
    raise PermissionDenied(_("只有社群管理员或有社群管理权限的店铺员工可以执行此操作"), code="not_a_moderator")


def _check_same_community(community: Community, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.community_id != community.pk:
            raise NotFound(_("社群中没有该对象"), code="not_found")


def _check_target(community: Community, standing: str, actor: Any, target: CommunityMembership) -> None:
    _check_same_community(community, target)
    if target.user_id == actor.pk:
        raise InvalidInput(_("不能对自己执行此操作"), code="cannot_moderate_self")
    if target.role == MemberRole.OWNER:
        raise PermissionDenied(_("不能对群主执行此操作，请先转让群主"), code="target_is_owner")
    if standing == MemberRole.ADMIN and target.role == MemberRole.ADMIN:
        raise PermissionDenied(_("管理员不能管理其他管理员，请联系群主"), code="target_is_admin")


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
                raise PermissionDenied(_("分群管理员只能禁言本分群的普通成员"), code="target_is_admin") from None
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
        raise InvalidInput(_("该成员已不在社群中"), code="member_not_active")
    now = timezone.now()
    if timezone.is_naive(until):
        until = timezone.make_aware(until)
    if until <= now:
        raise InvalidInput(_("禁言结束时间必须晚于现在"), code="mute_in_past", details={"field": "until"})
    if until - now > MAX_MUTE:
        raise InvalidInput(_("禁言最长 365 天，更久请移出社群"), code="mute_too_long", details={"field": "until"})
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
        raise InvalidInput(_("该成员没有被封禁"), code="member_not_banned")
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
        raise PermissionDenied(_("只有群主或店铺员工可以设置成员角色"), code="owner_or_staff_only")
    if role not in ASSIGNABLE_ROLES:
        raise InvalidInput(_("角色只能是管理员、团长或成员；转让群主请用转让功能"), code="invalid_role")
    _check_target(community, standing, actor, target)
    if target.status != MemberStatus.ACTIVE:
        raise InvalidInput(_("该成员已不在社群中"), code="member_not_active")
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
        raise PermissionDenied(_("只有群主或店铺员工可以转让群主"), code="owner_or_staff_only")
    _check_same_community(community, new_owner)
    if new_owner.status != MemberStatus.ACTIVE:
        raise InvalidInput(_("新群主必须是社群的正式成员"), code="member_not_active")
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
        raise InvalidInput(_("标签名称为 1 到 20 个字"), code="tag_name_invalid", details={"field": "name"})
    if Tag.objects.filter(community=community, name=name).exists():
        raise InvalidInput(_("标签「%(name)s」已存在") % {"name": name}, code="tag_exists", details={"field": "name"})
    try:
        with transaction.atomic():
            tag = Tag.objects.create(community=community, name=name)
            _audit(community, actor, "tag.create", tag, ip)
    except IntegrityError:
        raise InvalidInput(
            _("标签「%(name)s」已存在") % {"name": name}, code="tag_exists", details={"field": "name"}
        ) from None
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
        raise NotFound(_("标签不存在"), code="tag_not_found")
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
        raise InvalidInput(_("渠道名称为 1 到 60 个字"), code="channel_name_invalid", details={"field": "name"})
    if kind not in ChannelKind.values:
        raise InvalidInput(_("渠道类型无效"), code="channel_kind_invalid", details={"field": "kind"})
    code = (code or "").strip() or secrets.token_urlsafe(6)
    if not CHANNEL_CODE.match(code):
        raise InvalidInput(
            _("渠道码为 2 到 32 位字母、数字、- 或 _"), code="channel_code_invalid", details={"field": "code"}
        )
    if Channel.objects.filter(community=community, code=code).exists():
        raise InvalidInput(_("该渠道码已被使用"), code="channel_code_taken", details={"field": "code"})
    try:
        with transaction.atomic():
            channel = Channel.objects.create(community=community, name=name, kind=kind, code=code)
            _audit(community, actor, "channel.create", channel, ip, code=code)
    except IntegrityError:
        raise InvalidInput(_("该渠道码已被使用"), code="channel_code_taken", details={"field": "code"}) from None
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
        raise InvalidInput(_("分群名称为 1 到 60 个字"), code="sub_group_name_invalid", details={"field": "name"})
    if kind not in SubGroupKind.values:
        raise InvalidInput(_("分群类型无效"), code="sub_group_kind_invalid", details={"field": "kind"})
    if kind == SubGroupKind.CHAPTER and not city:
        raise InvalidInput(_("城市分会需要填写城市"), code="chapter_city_required", details={"field": "city"})
    if not 2 <= int(capacity) <= 100_000:
        raise InvalidInput(_("分群人数上限为 2 到 100000"), code="capacity_invalid", details={"field": "capacity"})
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
            _("分群「%(name)s」已满（%(capacity)s 人），请选择其他分群或联系管理员")
            % {"name": sub_group.name, "capacity": sub_group.capacity},
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
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    with transaction.atomic():
        membership = (
            CommunityMembership.objects.select_for_update()
            .filter(selectors.current_q(), community_id=sub_group.community_id, user=user)
            .first()
        )
        if membership is None:
            raise PermissionDenied(_("请先加入社群，再选择分群"), code="not_a_member")
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
        raise InvalidInput(_("该成员已不在社群中"), code="member_not_active")
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
            raise InvalidInput(_("该成员不在任何分群中"), code="not_in_sub_group")
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
            raise InvalidInput(_("分群至少要有 2 名成员才能拆分"), code="sub_group_too_small")
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
        CommunityMembership.objects.filter(pk__in=[pk for pk, _user_id in movers]).update(
            sub_group=new_group, sub_group_joined_at=now, is_sub_group_admin=False
        )
        SubGroup.objects.filter(pk=sub_group.pk).update(member_count=F("member_count") - len(movers))
        moved_users = [user_id for _pk, user_id in movers]
        _audit(community, actor, "sub_group.split", sub_group, ip, new_sub_group=new_group.pk, moved_users=moved_users)
    return new_group, moved_users


# --- paid membership and joining rules (ADR 0003) ----------------------------------------

FEE_STOCK = 1_000_000  # the fee SKUs never run out: the capacity is enforced by these rules
MAX_VALIDITY_DAYS = 3660
MAX_REFUND_DAYS = 30
MAX_REMINDER_DAYS = 60
MESSAGE_MAX = 200


def _lock_community(community: Community) -> Community:
    """The community row, locked: joins, payments and approvals of one community queue here so
    the capacity count is exact (PostgreSQL; SQLite serialises writers anyway)."""
    return Community.objects.select_for_update(of=("self",)).select_related("shop").get(pk=community.pk)


def _record_invite(community: Community, user: Any, inviter: Any, channel: Any) -> JoinRequest | None:
    """Remember who invited ``user`` (and through which channel) before they join, pay or are
    approved. The first attribution is kept; a later link fills only what is still empty."""
    request = JoinRequest.objects.select_for_update().filter(community=community, user=user).first()
    if request is None:
        if inviter is None and channel is None:
            return None
        status = (
            JoinRequestStatus.PENDING if community.join_policy == JoinPolicy.APPROVAL else JoinRequestStatus.APPROVED
        )
        try:
            with transaction.atomic():
                return JoinRequest.objects.create(
                    community=community, user=user, inviter=inviter, channel=channel, status=status
                )
        except IntegrityError:
            request = JoinRequest.objects.select_for_update().get(community=community, user=user)
    changed: list[str] = []
    if request.inviter_id is None and inviter is not None:
        request.inviter, changed = inviter, [*changed, "inviter"]
    if request.channel_id is None and channel is not None:
        request.channel, changed = channel, [*changed, "channel"]
    if changed:
        request.save(update_fields=[*changed, "updated_at"])
    return request


def check_new_member(community: Community, user: Any, request: JoinRequest | None, now: datetime | None = None) -> None:
    """May ``user`` (not a current member) become one now? Policy, window, capacity, ban."""
    now = now or timezone.now()
    if selectors.is_banned(user, community):
        raise MemberBanned(_("你已被移出并禁止再次加入该社群"), code="member_banned")
    approved = request is not None and request.status == JoinRequestStatus.APPROVED
    if community.join_policy == JoinPolicy.INVITE_ONLY and (
        request is None or (request.inviter_id is None and request.channel_id is None)
    ):
        raise InviteRequired(_("该社群仅限邀请加入，请通过成员分享的邀请链接加入"), code="invite_required")
    if community.join_policy == JoinPolicy.APPROVAL and not approved:
        pending = request is not None and request.status == JoinRequestStatus.PENDING
        raise ApprovalRequired(
            _("你的入群申请正在审核中，通过后即可加入") if pending else _("该社群需审核后加入，请先提交入群申请"),
            code="approval_required",
        )
    recruiting = selectors.recruitment(community, now)
    if not recruiting.is_open and not (community.join_policy == JoinPolicy.APPROVAL and approved):
        raise RecruitmentClosed(
            _("现在不在招募时间，%(text)s") % {"text": recruiting.text},
            code="recruitment_closed",
            details={"opens_at": recruiting.next_window.opens_at.isoformat() if recruiting.next_window else None},
        )
    if community.capacity is not None and selectors.current_member_count(community) >= community.capacity:
        raise CommunityFull(
            _("社群名额已满（%(capacity)s 人）") % {"capacity": community.capacity}, code="community_full"
        )


def _admit(
    community: Community,
    user: Any,
    request: JoinRequest | None,
    *,
    inviter: Any = None,
    channel: Any = None,
    expires_at: datetime | None = None,
) -> tuple[CommunityMembership, bool]:
    """Make ``user`` a current member (new row, or back in keeping the original attribution)."""
    membership = CommunityMembership.objects.select_for_update().filter(community=community, user=user).first()
    if request is not None:
        inviter = inviter or request.inviter
        channel = channel or request.channel
        if request.status != JoinRequestStatus.JOINED:
            request.status = JoinRequestStatus.JOINED
            request.save(update_fields=["status", "updated_at"])
    if membership is None:
        with transaction.atomic():
            membership = CommunityMembership.objects.create(
                community=community, user=user, invited_by=inviter, channel=channel, expires_at=expires_at
            )
        signals.member_joined.send(sender=CommunityMembership, membership=membership)
        return membership, True
    membership.status = MemberStatus.ACTIVE
    membership.muted_until = None
    membership.expires_at = expires_at
    membership.save(update_fields=["status", "muted_until", "expires_at"])
    return membership, True


def check_membership_settings(
    *,
    join_policy: str,
    fee_fen: int,
    renewal_fee_fen: int | None,
    validity_days: int | None,
    capacity: int | None,
    refund_days: int,
    renewal_reminder_days: int,
) -> None:
    """Every problem at once in ``details["fields"]`` for the form."""
    fields: dict[str, str] = {}
    if join_policy not in JoinPolicy.values:
        fields["join_policy"] = _("请选择加入方式")
    if fee_fen is None or fee_fen < 0:
        fields["fee_fen"] = _("入会费不能为负数（免费请填 0）")
    paid = bool(fee_fen and fee_fen > 0)
    if paid:
        if validity_days is None:
            fields["validity_days"] = _("付费社群需要填写会员有效期（天）")
        elif not 1 <= validity_days <= MAX_VALIDITY_DAYS:
            fields["validity_days"] = _("会员有效期为 1 到 %(max)s 天") % {"max": MAX_VALIDITY_DAYS}
        if renewal_fee_fen is not None and renewal_fee_fen < 1:
            fields["renewal_fee_fen"] = _("续费价格至少 0.01 元（与入会费相同请留空）")
    else:
        if validity_days is not None:
            fields["validity_days"] = _("免费社群不设有效期，请留空")
        if renewal_fee_fen is not None:
            fields["renewal_fee_fen"] = _("免费社群不设续费价格，请留空")
        if refund_days:
            fields["refund_days"] = _("免费社群没有会费可退，退款天数请填 0")
    if capacity is not None and not 1 <= capacity <= 1_000_000:
        fields["capacity"] = _("人数上限为 1 到 1000000（不限请留空）")
    if refund_days is None or not 0 <= refund_days <= MAX_REFUND_DAYS:
        fields["refund_days"] = _("退款天数为 0 到 %(max)s（0 表示不支持退款）") % {"max": MAX_REFUND_DAYS}
    if renewal_reminder_days is None or not 1 <= renewal_reminder_days <= MAX_REMINDER_DAYS:
        fields["renewal_reminder_days"] = _("到期提醒提前 1 到 %(max)s 天") % {"max": MAX_REMINDER_DAYS}
    if fields:
        raise InvalidMembershipSettings(next(iter(fields.values())), details={"fields": fields})


def do_update_membership_settings(
    shop: Shop,
    community: Community,
    *,
    join_policy: str,
    fee_fen: int,
    renewal_fee_fen: int | None = None,
    validity_days: int | None = None,
    capacity: int | None = None,
    refund_days: int = 0,
    renewal_reminder_days: int = 7,
    actor: Any,
    ip: str | None = None,
) -> Community:
    """Policy, fee, validity, capacity, refund rule and reminders; keeps the fee product in step
    (SKUs 入会 at the fee and 续费 at the renewal price; a free community's product goes off shelf).

    Current members keep their expiry (None = never) when a free community becomes paid.
    """
    if community.shop_id != shop.pk:
        raise NotFound(_("社群不存在"), code="community_not_found")
    check_membership_settings(
        join_policy=join_policy,
        fee_fen=fee_fen,
        renewal_fee_fen=renewal_fee_fen,
        validity_days=validity_days,
        capacity=capacity,
        refund_days=refund_days,
        renewal_reminder_days=renewal_reminder_days,
    )
    from shequn.catalog.actions import save_kind_product
    from shequn.catalog.kinds import ProductKind

    with transaction.atomic():
        locked = _lock_community(community)
        community.fee_product = locked.fee_product
        previous = {
            "join_policy": locked.join_policy,
            "fee_fen": locked.fee_fen,
            "renewal_fee_fen": locked.renewal_fee_fen,
            "validity_days": locked.validity_days,
            "capacity": locked.capacity,
            "refund_days": locked.refund_days,
            "renewal_reminder_days": locked.renewal_reminder_days,
        }
        community.join_policy = join_policy
        community.fee_fen = fee_fen
        community.renewal_fee_fen = renewal_fee_fen
        community.validity_days = validity_days
        community.capacity = capacity
        community.refund_days = refund_days
        community.renewal_reminder_days = renewal_reminder_days
        title = f"{community.name} 会员"
        if community.is_paid:
            community.fee_product = save_kind_product(
                shop,
                ProductKind.MEMBERSHIP,
                title,
                [
                    (selectors.JOIN_SPEC, fee_fen, FEE_STOCK),
                    (selectors.RENEWAL_SPEC, community.renewal_price_fen, FEE_STOCK),
                ],
                product=community.fee_product,
            )
        elif community.fee_product is not None:
            save_kind_product(shop, ProductKind.MEMBERSHIP, title, [], product=community.fee_product, on_shelf=False)
        community.save(update_fields=[*previous, "fee_product"])
        audit.record(
            actor=actor,
            shop=shop,
            action="community.membership_settings",
            obj=community,
            ip=ip,
            previous=previous,
            join_policy=join_policy,
            fee_fen=fee_fen,
            renewal_fee_fen=renewal_fee_fen,
            validity_days=validity_days,
            capacity=capacity,
            refund_days=refund_days,
            renewal_reminder_days=renewal_reminder_days,
        )
    return community


def do_add_window(
    shop: Shop,
    community: Community,
    opens_at: datetime,
    closes_at: datetime,
    note: str = "",
    *,
    actor: Any,
    ip: str | None = None,
) -> RecruitmentWindow:
    if community.shop_id != shop.pk:
        raise NotFound(_("社群不存在"), code="community_not_found")
    if opens_at is None or closes_at is None:
        raise InvalidWindow(_("请填写招募开始和结束时间"), code="invalid_window")
    opens_at = timezone.make_aware(opens_at) if timezone.is_naive(opens_at) else opens_at
    closes_at = timezone.make_aware(closes_at) if timezone.is_naive(closes_at) else closes_at
    if closes_at <= opens_at:
        raise InvalidWindow(_("招募结束时间必须晚于开始时间"), code="invalid_window", details={"field": "closes_at"})
    if closes_at <= timezone.now():
        raise InvalidWindow(
            _("招募结束时间已过，请填写将来的时段"), code="invalid_window", details={"field": "closes_at"}
        )
    note = (note or "").strip()
    if len(note) > 100:
        raise InvalidWindow(_("说明不能超过 100 个字"), code="invalid_window", details={"field": "note"})
    overlapping = RecruitmentWindow.objects.filter(community=community, opens_at__lt=closes_at, closes_at__gt=opens_at)
    if overlapping.exists():
        raise InvalidWindow(_("与已有的招募时段重叠"), code="window_overlaps", details={"field": "opens_at"})
    with transaction.atomic():
        window = RecruitmentWindow.objects.create(
            community=community, opens_at=opens_at, closes_at=closes_at, note=note
        )
        _audit(
            community,
            actor,
            "community.window_add",
            window,
            ip,
            opens_at=opens_at.isoformat(),
            closes_at=closes_at.isoformat(),
        )
    return window


def do_remove_window(shop: Shop, window: RecruitmentWindow, *, actor: Any, ip: str | None = None) -> None:
    community = window.community
    if community.shop_id != shop.pk:
        raise NotFound(_("招募时段不存在"), code="window_not_found")
    with transaction.atomic():
        _audit(
            community,
            actor,
            "community.window_remove",
            window,
            ip,
            opens_at=window.opens_at.isoformat(),
            closes_at=window.closes_at.isoformat(),
        )
        window.delete()


def do_apply(
    community: Community,
    user: Any,
    message: str = "",
    *,
    inviter_id: int | None = None,
    channel_code: str | None = None,
) -> JoinRequest:
    """Apply to a community that reviews applications (inside a recruitment window).

    A pending application only updates its message; a rejected one (or one of a member who
    left) is submitted again.
    """
    check_join(community, user)
    if community.join_policy != JoinPolicy.APPROVAL:
        raise InvalidInput(_("该社群无需审核，可直接加入"), code="approval_not_needed")
    if selectors.is_community_member(user, community):
        raise AlreadyMember(_("你已经是该社群成员"), code="already_member")
    if selectors.is_banned(user, community):
        raise MemberBanned(_("你已被移出并禁止再次加入该社群"), code="member_banned")
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise InvalidInput(
            _("申请说明不能超过 %(max)s 个字") % {"max": MESSAGE_MAX},
            code="message_too_long",
            details={"fields": {"message": _("太长")}},
        )
    inviter, channel = selectors.valid_invite(community, user, inviter_id, channel_code)
    with transaction.atomic():
        community = _lock_community(community)
        request = JoinRequest.objects.select_for_update().filter(community=community, user=user).first()
        if request is not None and request.status == JoinRequestStatus.APPROVED:
            return request
        if request is None or request.status != JoinRequestStatus.PENDING:
            recruiting = selectors.recruitment(community)
            if not recruiting.is_open:
                raise RecruitmentClosed(
                    _("现在不在招募时间，%(text)s") % {"text": recruiting.text}, code="recruitment_closed"
                )
        if request is None:
            request = JoinRequest.objects.create(
                community=community, user=user, inviter=inviter, channel=channel, message=message
            )
        else:
            request.inviter = request.inviter or inviter
            request.channel = request.channel or channel
            request.message = message
            request.status = JoinRequestStatus.PENDING
            request.decided_by, request.decided_at = None, None
            request.save()
    return request


def do_decide_join_request(
    shop: Shop, request: JoinRequest, approve: bool, *, actor: Any, ip: str | None = None
) -> JoinRequest:
    """Staff approve or reject a pending application (audited; the member is notified).

    Approving an application to a free community admits the member at once (capacity applies:
    a full community keeps the application pending); to a paid one it lets them pay the fee.
    """
    community = request.community
    if community.shop_id != shop.pk:
        raise NotFound(_("入群申请不存在"), code="join_request_not_found")
    with transaction.atomic():
        community = _lock_community(community)
        request = JoinRequest.objects.select_for_update(of=("self",)).select_related("user").get(pk=request.pk)
        if request.status != JoinRequestStatus.PENDING:
            raise JoinRequestDecided(_("该申请已处理"), code="join_request_decided")
        now = timezone.now()
        request.status = JoinRequestStatus.APPROVED if approve else JoinRequestStatus.REJECTED
        request.decided_by, request.decided_at = actor, now
        request.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        link = reverse("communities:join", args=[community.invite_code])
        if approve and not community.is_paid:
            check_new_member(community, request.user, request, now)
            _admit(community, request.user, request)
            link = reverse("communities:community_home", args=[community.pk])
        _audit(
            community,
            actor,
            "join_request.approve" if approve else "join_request.reject",
            request,
            ip,
            user=request.user_id,
        )
        with in_language_of(request.user):
            title, body = _join_decision_notice(community, approve)
            notify(request.user, shop=community.shop, kind="community.join_request", title=title, body=body, link=link)
    return request


def _join_decision_notice(community: Community, approve: bool) -> tuple[str, str]:
    """What the applicant is told of the decision on their join request (title, text)."""
    if approve and not community.is_paid:
        return _("你已加入「%(name)s」") % {"name": community.name}, _("你的入群申请已通过，欢迎加入。")
    if approve:
        title = _("「%(name)s」入群申请已通过") % {"name": community.name}
        return title, _("支付入会费 %(fee_fen)s 后即可加入。") % {"fee_fen": format_fen(community.fee_fen)}
    return _("「%(name)s」入群申请未通过") % {"name": community.name}, _("如有疑问，请联系店铺客服。")


def do_prepare_payment(
    community: Community, user: Any, *, inviter_id: int | None = None, channel_code: str | None = None
) -> Sku:
    """Before the checkout: record the invite (so the membership the fee buys carries it) and
    check the member may join now; returns the 入会 SKU to buy."""
    check_join(community, user)
    if not community.is_paid:
        raise InvalidInput(_("该社群免费，可直接加入"), code="community_is_free")
    if selectors.is_community_member(user, community):
        raise AlreadyMember(_("你已经是该社群成员"), code="already_member")
    inviter, channel = selectors.valid_invite(community, user, inviter_id, channel_code)
    with transaction.atomic():
        request = _record_invite(community, user, inviter, channel)
    check_new_member(community, user, request)
    sku = selectors.fee_skus(community).get(selectors.JOIN_SPEC)
    if sku is None:
        raise NotFound(_("该社群暂未开放付费加入"), code="fee_not_on_sale")
    return sku


def check_join_purchase(community: Community, user: Any) -> None:
    check_join(community, user)
    if selectors.is_community_member(user, community):
        raise AlreadyMember(_("你已经是该社群成员，无需再次入会"), code="already_member")
    check_new_member(community, user, selectors.join_request_of(user, community))


def check_renewal(community: Community, user: Any) -> CommunityMembership:
    """Renewals are open at any time (no window) to current and former members."""
    check_join(community, user)
    membership = CommunityMembership.objects.filter(community=community, user=user).first()
    if membership is None or membership.status in (MemberStatus.REMOVED, MemberStatus.BANNED):
        raise RenewalNotAllowed(_("只有社群成员和往期成员可以续费"), code="renewal_not_allowed")
    if membership.status == MemberStatus.ACTIVE and membership.expires_at is None:
        raise RenewalNotAllowed(_("你的会员长期有效，无需续费"), code="renewal_not_needed")
    return membership


def check_fee_purchase(user: Any, sku: Sku, quantity: int) -> None:
    """``KindRules.check_purchase`` for the fee product: one period at a time."""
    if quantity != 1:
        raise InvalidInput(_("会员每次只能购买 1 份"), code="membership_quantity")
    community = selectors.community_of_product(sku.product_id)
    if not community.is_active or not community.is_paid:
        raise NotFound(_("该社群暂未开放付费加入"), code="fee_not_on_sale")
    if sku.spec == selectors.RENEWAL_SPEC:
        check_renewal(community, user)
    else:
        check_join_purchase(community, user)


def _refused(order: Any, community: Community, reason: str) -> str:
    """Tell the member why their fee comes back (``reason`` marked with ``gettext_noop``, so it is
    translated for them) and return the reason for the refund."""
    with in_language_of(order.user):
        notify(
            order.user,
            shop=community.shop,
            kind="community.fee_refunded",
            title=_("「%(name)s」会费将全额退还") % {"name": community.name},
            body=_(reason),
            link=reverse("communities:join", args=[community.invite_code]),
        )
    return _(reason)


def grant_paid_membership(order: Any, line: Any) -> str | None:
    """``KindRules.paid``: the fee of ``line`` was paid. Under the community's row lock: a new
    member gets a term of ``validity_days`` from now (if a seat is left), a renewal extends from
    the later of now and the current expiry. Idempotent per order line. Returns a reason when
    the membership cannot be granted any more (the orders app then refunds the line in full)."""
    community = selectors.community_of_product(line.product_id, lock=True)
    if MembershipTerm.objects.filter(line_id=line.pk).exists():
        return None
    now = timezone.now()
    user = order.user
    membership = CommunityMembership.objects.select_for_update().filter(community=community, user=user).first()
    current = selectors.is_current(membership, now)
    kind = TermKind.RENEWAL if line.spec == selectors.RENEWAL_SPEC else TermKind.JOIN
    if membership is not None and membership.status == MemberStatus.BANNED:
        return _refused(order, community, gettext_noop("你已被禁止加入该社群，会费已为你全额退款"))
    if kind == TermKind.RENEWAL and (membership is None or membership.status == MemberStatus.REMOVED):
        return _refused(order, community, gettext_noop("你已不在该社群，续费已为你全额退款"))
    if kind == TermKind.JOIN and current:
        return _refused(order, community, gettext_noop("你已经是该社群成员，本次入会费已为你全额退款"))
    full = community.capacity is not None and selectors.current_member_count(community) >= community.capacity
    if not current and full:
        return _refused(order, community, gettext_noop("社群名额已满，已为你全额退款"))
    assert community.validity_days is not None
    base = max(now, membership.expires_at) if current and membership and membership.expires_at else now
    ends_at = base + timedelta(days=community.validity_days)
    request = (
        JoinRequest.objects.select_for_update().filter(community=community, user=user).first() if not current else None
    )
    if current:
        assert membership is not None
        membership.expires_at = ends_at
        membership.save(update_fields=["expires_at"])
    else:
        membership, _created = _admit(community, user, request, expires_at=ends_at)
    MembershipTerm.objects.create(
        membership=membership,
        order_id=order.pk,
        line_id=line.pk,
        kind=kind,
        starts_at=base,
        ends_at=ends_at,
        amount_fen=line.total_fen,
        paid_at=order.paid_at or now,
    )
    with in_language_of(user):
        title = (
            _("欢迎加入「%(name)s」") % {"name": community.name}
            if kind == TermKind.JOIN
            else _("「%(name)s」续费成功") % {"name": community.name}
        )
        notify(
            user,
            shop=community.shop,
            kind="community.membership_paid",
            title=title,
            body=_("会员有效期至 %(ends_at)s。") % {"ends_at": selectors.local_text(ends_at)},
            link=reverse("communities:community_home", args=[community.pk]),
        )
    return None


def fee_refund_refusal(order: Any, line: Any) -> DomainError | None:
    """``KindRules.refund_refusal``: only the latest period, only within ``refund_days`` of paying."""
    term = MembershipTerm.objects.select_related("membership__community").filter(line_id=line.pk).first()
    if term is None:
        return None  # no membership was granted for this line: nothing to take back
    community = term.membership.community
    if term.refunded_at is not None:
        return RefundNotAllowed(_("这笔会费已经退款"), code="fee_already_refunded")
    if not community.refund_days:
        return RefundNotAllowed(_("该社群的会费不支持退款"), code="refund_not_allowed")
    latest = selectors.latest_term(term.membership)
    if latest is not None and latest.pk != term.pk:
        return RefundNotAllowed(_("只能退最近一期的会费"), code="refund_not_latest")
    if timezone.now() > term.paid_at + timedelta(days=community.refund_days):
        message = (
            _("加入超过 %(days)s 天，不支持退款")
            if term.kind == TermKind.JOIN
            else _("续费超过 %(days)s 天，不支持退款")
        )
        return RefundWindowClosed(message % {"days": community.refund_days}, code="refund_window_closed")
    return None


def end_refunded_term(order: Any, line: Any, amount_fen: int) -> bool:
    """``KindRules.refunded``: the gateway returned the fee, so the period ends now (a renewal
    bought ahead of time ends where it would have started). Exactly once per line: False when
    this line's refund was already handled (or granted nothing)."""
    with transaction.atomic():
        term = MembershipTerm.objects.select_for_update().filter(line_id=line.pk).first()
        if term is None or term.refunded_at is not None:
            return False
        membership = (
            CommunityMembership.objects.select_for_update(of=("self",))
            .select_related("community__shop")
            .get(pk=term.membership_id)
        )
        now = timezone.now()
        term.refunded_at = now
        term.save(update_fields=["refunded_at"])
        community = membership.community
        with in_language_of(membership.user):
            if term.starts_at > now and membership.status == MemberStatus.ACTIVE:
                membership.expires_at = term.starts_at
                membership.save(update_fields=["expires_at"])
                body = _("续费已退款 %(amount_fen)s，会员有效期恢复至 %(starts_at)s。") % {
                    "amount_fen": format_fen(amount_fen),
                    "starts_at": selectors.local_text(term.starts_at),
                }
            else:
                if membership.status == MemberStatus.ACTIVE:
                    membership.status = MemberStatus.FORMER
                    _leave_sub_group(membership)
                membership.expires_at = now
                membership.save(
                    update_fields=["status", "expires_at", "sub_group", "sub_group_joined_at", "is_sub_group_admin"]
                )
                body = _("会费已退款 %(amount_fen)s，会员资格已结束。") % {"amount_fen": format_fen(amount_fen)}
            notify(
                membership.user,
                shop=community.shop,
                kind="community.fee_refunded",
                title=_("「%(name)s」会费已退款") % {"name": community.name},
                body=body,
                link=reverse("communities:join", args=[community.invite_code]),
            )
    return True


def expire_memberships(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Active members past their expiry become former (access already ended at expiry through
    the selectors); each is told once. Safe to run twice."""
    now = now or timezone.now()
    due = list(
        CommunityMembership.objects.filter(status=MemberStatus.ACTIVE, expires_at__lte=now)
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for pk in due:
        with transaction.atomic():
            membership = (
                CommunityMembership.objects.select_for_update(of=("self",))
                .select_related("community__shop", "user")
                .filter(pk=pk, status=MemberStatus.ACTIVE, expires_at__lte=now)
                .first()
            )
            if membership is None:
                continue
            membership.status = MemberStatus.FORMER
            _leave_sub_group(membership)
            membership.save(update_fields=["status", "sub_group", "sub_group_joined_at", "is_sub_group_admin"])
            community = membership.community
            with in_language_of(membership.user):
                notify(
                    membership.user,
                    shop=community.shop,
                    kind="community.membership_expired",
                    title=_("「%(name)s」会员已到期，续费后恢复") % {"name": community.name},
                    body=_("续费后即可恢复查看社群内容。"),
                    link=reverse("communities:join", args=[community.invite_code]),
                )
            expired += 1
    return expired


def send_renewal_reminders(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Remind members whose membership ends within their community's ``renewal_reminder_days``:
    once per term (the term that sets the expiry), marked by a conditional update. Safe to run twice."""
    now = now or timezone.now()
    candidates = (
        MembershipTerm.objects.filter(
            reminded_at__isnull=True,
            refunded_at__isnull=True,
            ends_at__gt=now,
            ends_at__lte=now + timedelta(days=MAX_REMINDER_DAYS),
            ends_at=F("membership__expires_at"),
            membership__status=MemberStatus.ACTIVE,
            membership__community__is_active=True,
        )
        .select_related("membership__community__shop", "membership__user")
        .order_by("ends_at", "id")[:limit]
    )
    sent = 0
    for term in candidates:
        community = term.membership.community
        if term.ends_at > now + timedelta(days=community.renewal_reminder_days):
            continue
        with transaction.atomic():
            if not MembershipTerm.objects.filter(pk=term.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            price = format_fen(community.renewal_price_fen)
            with in_language_of(term.membership.user):
                notify(
                    term.membership.user,
                    shop=community.shop,
                    kind="community.renewal_reminder",
                    title=_("「%(name)s」会员将于 %(ends_at)s 到期")
                    % {"name": community.name, "ends_at": selectors.local_text(term.ends_at)},
                    body=_("续费 %(price)s 可再享 %(validity_days)s 天，到期后将无法查看社群内容。")
                    % {"price": price, "validity_days": community.validity_days},
                    link=reverse("communities:join", args=[community.invite_code]),
                )
            sent += 1
    return sent


def has_term(line: Any) -> bool:
    return MembershipTerm.objects.filter(line_id=line.pk).exists()
