"""API shapes for communities. Phone numbers only ever leave masked."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from ninja import Schema

from shequn.core.phone import mask_phone

from .enums import ChannelKind, MemberRole, MemberStatus, SubGroupKind
from .links import invite_url
from .models import Channel, Community, CommunityMembership, Post, SubGroup, Tag


class CommunityOut(Schema):
    id: int
    name: str
    description: str
    shop_slug: str
    shop_name: str
    member_count: int | None = None

    @staticmethod
    def from_model(community: Community) -> "CommunityOut":
        return CommunityOut(
            id=community.pk,
            name=community.name,
            description=community.description,
            shop_slug=community.shop.slug,
            shop_name=community.shop.name,
            member_count=getattr(community, "member_count", None),
        )


class ConsoleCommunityOut(CommunityOut):
    is_active: bool
    invite_code: str
    invite_url: str
    qr_url: str
    created_at: datetime

    @staticmethod
    def from_model(community: Community) -> "ConsoleCommunityOut":
        return ConsoleCommunityOut(
            **CommunityOut.from_model(community).model_dump(),
            is_active=community.is_active,
            invite_code=community.invite_code,
            invite_url=invite_url(community),
            qr_url=settings.SITE_URL + reverse("communities:invite_qr", args=[community.pk]),
            created_at=community.created_at,
        )


class JoinIn(Schema):
    invite_code: str
    from_user_id: int | None = None  # the member who shared the link (?from=)
    channel_code: str | None = None  # the channel (渠道码) of the link (?ch=)


class JoinOut(Schema):
    community: CommunityOut
    joined: bool  # False when already a member


class ProductCardOut(Schema):
    product_id: int
    title: str
    on_shelf: bool
    price_fen: int | None
    member_price_fen: int | None
    thumbnail_url: str | None
    url: str | None  # the product page with ?post=<post id>; None when off shelf


class PostOut(Schema):
    id: int
    community_id: int
    body: str
    image_url: str | None
    is_pinned: bool
    author_name: str
    created_at: datetime
    products: list[ProductCardOut]

    @staticmethod
    def from_model(post: Post) -> "PostOut":
        cards = []
        for card in getattr(post, "cards", None) or post.postproduct_set.select_related("product__shop"):
            product = card.product
            skus = [sku for sku in product.skus.all() if sku.is_active]
            cheapest = min(skus, key=lambda sku: (sku.price_fen, sku.position, sku.pk)) if skus else None
            images = list(product.images.all())
            thumb: Any = (images[0].thumbnail or images[0].image) if images else None
            buyable = product.on_shelf and cheapest is not None
            cards.append(
                ProductCardOut(
                    product_id=product.pk,
                    title=product.title,
                    on_shelf=product.on_shelf,
                    price_fen=cheapest.price_fen if cheapest else None,
                    member_price_fen=cheapest.member_price_fen if cheapest else None,
                    thumbnail_url=thumb.url if thumb else None,
                    url=(
                        settings.SITE_URL
                        + reverse("catalog:product_detail", args=[product.shop.slug, product.pk])
                        + f"?post={post.pk}"
                    )
                    if buyable
                    else None,
                )
            )
        return PostOut(
            id=post.pk,
            community_id=post.community_id,
            body=post.body,
            image_url=post.image.url if post.image else None,
            is_pinned=post.is_pinned,
            author_name=post.author.display_name,
            created_at=post.created_at,
            products=cards,
        )


class ConsolePostOut(PostOut):
    is_published: bool

    @staticmethod
    def from_model(post: Post) -> "ConsolePostOut":
        return ConsolePostOut(**PostOut.from_model(post).model_dump(), is_published=post.is_published)


class MemberOut(Schema):
    user_id: int
    nickname: str
    phone: str  # masked: 138****1234
    invited_by_id: int | None
    invited_by_name: str | None
    joined_at: datetime
    role: MemberRole
    status: MemberStatus
    muted_until: datetime | None
    channel_id: int | None  # the channel (渠道码) they joined through
    channel_name: str | None
    sub_group_id: int | None
    is_sub_group_admin: bool
    tag_ids: list[int]

    @staticmethod
    def from_model(membership: CommunityMembership) -> "MemberOut":
        inviter = membership.invited_by
        channel = membership.channel
        return MemberOut(
            user_id=membership.user_id,
            nickname=membership.user.display_name,
            phone=mask_phone(membership.user.phone or ""),
            invited_by_id=inviter.pk if inviter else None,
            invited_by_name=inviter.display_name if inviter else None,
            joined_at=membership.joined_at,
            role=MemberRole(membership.role),
            status=MemberStatus(membership.status),
            muted_until=membership.muted_until,
            channel_id=channel.pk if channel else None,
            channel_name=channel.name if channel else None,
            sub_group_id=membership.sub_group_id,
            is_sub_group_admin=membership.is_sub_group_admin,
            tag_ids=[tag.pk for tag in membership.tags.all()],
        )


class CommunityIn(Schema):
    name: str
    description: str = ""
    is_active: bool = True


class PostIn(Schema):
    body: str
    product_ids: list[int] = []
    is_pinned: bool = False


class PublishIn(Schema):
    published: bool


class PageQuery(Schema):
    page: int = 1
    page_size: int = 20


class MemberQuery(PageQuery):
    status: MemberStatus | None = None
    tag: int | None = None
    channel: int | None = None  # 0 = joined without a channel
    sub_group: int | None = None


class MuteIn(Schema):
    until: datetime  # muted until this time (ISO 8601 with offset)


class RoleIn(Schema):
    role: MemberRole  # admin, leader or member; the owner changes by transfer


class TagsIn(Schema):
    tag_ids: list[int]


class SubGroupAssignIn(Schema):
    sub_group_id: int | None  # None = out of every sub-group


class SubGroupAdminIn(Schema):
    is_admin: bool


class ChannelIn(Schema):
    name: str
    kind: ChannelKind = ChannelKind.POSTER
    code: str = ""  # empty: a random code


class ChannelActiveIn(Schema):
    active: bool


class ChannelOut(Schema):
    id: int
    community_id: int
    name: str
    kind: ChannelKind
    code: str
    is_active: bool
    join_count: int  # every join through this channel
    invite_url: str  # carries ?ch=<code>
    qr_url: str
    poster_url: str
    created_at: datetime

    @staticmethod
    def from_model(channel: Channel) -> "ChannelOut":
        return ChannelOut(
            id=channel.pk,
            community_id=channel.community_id,
            name=channel.name,
            kind=ChannelKind(channel.kind),
            code=channel.code,
            is_active=channel.is_active,
            join_count=getattr(channel, "join_count", None) or channel.memberships.count(),
            invite_url=invite_url(channel.community, channel=channel),
            qr_url=settings.SITE_URL + reverse("communities:console_channel_qr", args=[channel.pk]),
            poster_url=settings.SITE_URL + reverse("communities:console_channel_poster", args=[channel.pk]),
            created_at=channel.created_at,
        )


class SubGroupIn(Schema):
    name: str
    kind: SubGroupKind = SubGroupKind.CITY
    city: str = ""
    capacity: int = 500


class SplitIn(Schema):
    name: str = ""  # empty: "<name>·2群"


class SubGroupOut(Schema):
    id: int
    community_id: int
    name: str
    kind: SubGroupKind
    city: str
    capacity: int
    member_count: int
    is_full: bool
    split_from_id: int | None

    @staticmethod
    def from_model(sub_group: SubGroup) -> "SubGroupOut":
        return SubGroupOut(
            id=sub_group.pk,
            community_id=sub_group.community_id,
            name=sub_group.name,
            kind=SubGroupKind(sub_group.kind),
            city=sub_group.city,
            capacity=sub_group.capacity,
            member_count=sub_group.member_count,
            is_full=sub_group.is_full,
            split_from_id=sub_group.split_from_id,
        )


class SplitOut(Schema):
    original: SubGroupOut
    new: SubGroupOut
    moved_user_ids: list[int]  # the newest half (sub-group admins stay)


class TagIn(Schema):
    name: str


class TagOut(Schema):
    id: int
    community_id: int
    name: str
    member_count: int

    @staticmethod
    def from_model(tag: Tag) -> "TagOut":
        return TagOut(
            id=tag.pk,
            community_id=tag.community_id,
            name=tag.name,
            member_count=getattr(tag, "member_count", None) or tag.memberships.count(),
        )


class InviteSubtreeOut(Schema):
    user_id: int
    direct: int  # joins they invited themselves
    size: int  # everyone below them
    depth: int  # levels below them
    levels: list[int]  # joins per level, level 1 first


class InviterOut(Schema):
    user_id: int
    nickname: str
    direct: int
    size: int
    depth: int


class ChannelJoinsOut(Schema):
    channel_id: int | None  # None: joined without a channel
    code: str | None
    name: str
    joins: int


class InviteTreeOut(Schema):
    members: int  # every join
    invited: int  # joins through a member's link
    max_depth: int
    top_inviters: list[InviterOut]
    joins_by_channel: list[ChannelJoinsOut]


class MyInviteOut(Schema):
    invite_url: str  # the member's link (?from=<user id>)
    poster_url: str  # PNG poster with their name and the QR code
    qr_url: str
    invited: InviteSubtreeOut
