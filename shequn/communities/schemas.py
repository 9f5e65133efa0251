"""API shapes for communities. Phone numbers only ever leave masked."""

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.urls import reverse
from ninja import Schema
from pydantic import Field

from shequn.core.phone import mask_phone
from shequn.core.schemas import BIGINT_MAX, Count, Fen, Id, Moment, MultilineText, PageQuery, SmallCount, Text

from . import selectors
from .actions import MAX_VALIDITY_DAYS
from .enums import ChannelKind, ExpiryFilter, JoinPolicy, JoinRequestStatus, MemberRole, MemberStatus, SubGroupKind
from .links import invite_url
from .models import Channel, Community, CommunityMembership, JoinRequest, Post, RecruitmentWindow, SubGroup, Tag


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
    invite_code: Text = Field(..., max_length=32)
    from_user_id: Id | None = None  # the member who shared the link (?from=)
    channel_code: Text | None = Field(None, max_length=32)  # the channel (渠道码) of the link (?ch=)


class JoinOut(Schema):
    community: CommunityOut
    joined: bool  # False when already a member


class PostProductCardOut(Schema):
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
    products: list[PostProductCardOut]

    @staticmethod
    def from_model(post: Post) -> "PostOut":
        cards = []
        for card in post.cards:  # type: ignore[attr-defined]  # selectors.attach_post_cards
            product = card.product
            cheapest, cover = product.from_sku, product.cover
            thumb: Any = (cover.thumbnail or cover.image) if cover else None
            cards.append(
                PostProductCardOut(
                    product_id=product.pk,
                    title=product.title,
                    on_shelf=product.on_shelf,
                    price_fen=cheapest.price_fen if cheapest else None,
                    member_price_fen=cheapest.member_price_fen if cheapest else None,
                    thumbnail_url=thumb.url if thumb else None,
                    url=f"{settings.SITE_URL}{product.url}?post={post.pk}" if product.on_shelf and cheapest else None,
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
    expires_at: datetime | None  # membership ends then; None = never
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
            expires_at=membership.expires_at,
            channel_id=channel.pk if channel else None,
            channel_name=channel.name if channel else None,
            sub_group_id=membership.sub_group_id,
            is_sub_group_admin=membership.is_sub_group_admin,
            tag_ids=[tag.pk for tag in membership.tags.all()],
        )


class CommunityIn(Schema):
    name: Text = Field(..., max_length=100)
    description: MultilineText = ""
    is_active: bool = True


class PostIn(Schema):
    body: MultilineText
    product_ids: list[Id] = []
    is_pinned: bool = False


class PublishIn(Schema):
    published: bool


class MemberQuery(PageQuery):
    status: MemberStatus | None = None
    tag: Id | None = None
    channel: Annotated[int, Field(ge=0, le=BIGINT_MAX)] | None = None  # a channel id; 0 = joined without a channel
    sub_group: Id | None = None
    expiry: ExpiryFilter | None = None  # expiring (within ``days``) or expired
    # No term is longer than MAX_VALIDITY_DAYS, so neither is the window worth looking ahead.
    days: int = Field(7, ge=0, le=MAX_VALIDITY_DAYS)


class MuteIn(Schema):
    until: Moment  # muted until this time (ISO 8601 with offset)


class RoleIn(Schema):
    role: MemberRole  # admin, leader or member; the owner changes by transfer


class TagsIn(Schema):
    tag_ids: list[Id]


class SubGroupAssignIn(Schema):
    sub_group_id: Id | None  # None = out of every sub-group


class SubGroupAdminIn(Schema):
    is_admin: bool


class ChannelIn(Schema):
    name: Text = Field(..., max_length=60)
    kind: ChannelKind = ChannelKind.POSTER
    code: Text = Field("", max_length=32)  # empty: a random code


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
    name: Text = Field(..., max_length=60)
    kind: SubGroupKind = SubGroupKind.CITY
    city: Text = Field("", max_length=40)
    capacity: Count = 500


class SplitIn(Schema):
    name: Text = Field("", max_length=60)  # empty: "<name>·2群"


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
    name: Text = Field(..., max_length=20)


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


# --- paid membership and joining rules ------------------------------------------------------


class MembershipTermsOut(Schema):
    """A community's joining rules as a member sees them (discover list, join state)."""

    id: int
    name: str
    description: str
    shop_slug: str
    shop_name: str
    member_count: int | None
    join_policy: JoinPolicy
    fee_fen: int  # 0 = free
    renewal_fee_fen: int  # what a renewal costs (the fee unless set apart)
    validity_days: int | None  # None = never expires
    refund_days: int  # full refund within N days of paying; 0 = no refund
    capacity: int | None
    seats_left: int | None
    recruiting: bool  # new members may join now (renewals always may)
    recruitment_text: str  # "下一次招募将于 2027年1月1日 10:00 开放", "招募已结束", or empty
    next_window_opens_at: datetime | None
    invite_url: str | None  # only for listed (not invitation-only) communities

    @staticmethod
    def from_model(community: Community, *, with_link: bool = False) -> "MembershipTermsOut":
        recruiting = selectors.recruitment(community)
        return MembershipTermsOut(
            id=community.pk,
            name=community.name,
            description=community.description,
            shop_slug=community.shop.slug,
            shop_name=community.shop.name,
            member_count=getattr(community, "member_count", None),
            join_policy=JoinPolicy(community.join_policy),
            fee_fen=community.fee_fen,
            renewal_fee_fen=community.renewal_price_fen,
            validity_days=community.validity_days,
            refund_days=community.refund_days,
            capacity=community.capacity,
            seats_left=selectors.seats_left(community),
            recruiting=recruiting.is_open,
            recruitment_text=recruiting.text,
            next_window_opens_at=recruiting.next_window.opens_at if recruiting.next_window else None,
            invite_url=invite_url(community) if with_link else None,
        )


class JoinStateOut(Schema):
    """What the join page offers the caller: state is one of login, member, renew, banned,
    invite_required, closed, full, apply, pending, rejected, join, pay."""

    community: MembershipTermsOut
    state: str
    is_current: bool
    expires_at: datetime | None
    join_request_status: JoinRequestStatus | None
    join_sku_id: int | None  # buy this (quantity 1) through the orders API to join
    renewal_sku_id: int | None  # buy this to renew

    @staticmethod
    def from_offer(offer: selectors.JoinOffer) -> "JoinStateOut":
        membership, request = offer.membership, offer.join_request
        return JoinStateOut(
            community=MembershipTermsOut.from_model(offer.community),
            state=offer.state,
            is_current=offer.is_current,
            expires_at=membership.expires_at if membership else None,
            join_request_status=JoinRequestStatus(request.status) if request else None,
            join_sku_id=offer.join_sku.pk if offer.join_sku else None,
            renewal_sku_id=offer.renewal_sku.pk if offer.renewal_sku else None,
        )


class CommunityApplyIn(Schema):
    invite_code: Text = Field(..., max_length=32)
    message: MultilineText = Field("", max_length=200)
    from_user_id: Id | None = None
    channel_code: Text | None = Field(None, max_length=32)


class PayIntentIn(Schema):
    invite_code: Text = Field(..., max_length=32)
    from_user_id: Id | None = None  # recorded before payment, carried by the membership
    channel_code: Text | None = Field(None, max_length=32)


class PayIntentOut(Schema):
    sku_id: int  # the 入会 SKU: create an order for it, quantity 1, fulfilment "none"
    price_fen: int
    checkout_url: str  # the H5 checkout for this SKU


class JoinRequestOut(Schema):
    id: int
    community_id: int
    user_id: int
    nickname: str
    phone: str  # masked
    message: str
    status: JoinRequestStatus
    inviter_id: int | None
    inviter_name: str | None
    channel_id: int | None
    channel_name: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by_name: str | None

    @staticmethod
    def from_model(request: JoinRequest) -> "JoinRequestOut":
        return JoinRequestOut(
            id=request.pk,
            community_id=request.community_id,
            user_id=request.user_id,
            nickname=request.user.display_name,
            phone=mask_phone(request.user.phone or ""),
            message=request.message,
            status=JoinRequestStatus(request.status),
            inviter_id=request.inviter_id,
            inviter_name=request.inviter.display_name if request.inviter else None,
            channel_id=request.channel_id,
            channel_name=request.channel.name if request.channel else None,
            created_at=request.created_at,
            decided_at=request.decided_at,
            decided_by_name=request.decided_by.display_name if request.decided_by else None,
        )


class JoinRequestQuery(PageQuery):
    status: JoinRequestStatus | None = JoinRequestStatus.PENDING


class MyMembershipOut(Schema):
    community_id: int
    community_name: str
    shop_slug: str
    status: MemberStatus
    is_current: bool
    joined_at: datetime
    expires_at: datetime | None
    renewal_sku_id: int | None
    renewal_price_fen: int | None

    @staticmethod
    def from_model(membership: CommunityMembership) -> "MyMembershipOut":
        community = membership.community
        renewal = selectors.fee_skus(community).get(selectors.RENEWAL_SPEC) if membership.expires_at else None
        return MyMembershipOut(
            community_id=community.pk,
            community_name=community.name,
            shop_slug=community.shop.slug,
            status=MemberStatus(membership.status),
            is_current=selectors.is_current(membership),
            joined_at=membership.joined_at,
            expires_at=membership.expires_at,
            renewal_sku_id=renewal.pk if renewal else None,
            renewal_price_fen=renewal.price_fen if renewal else None,
        )


class MembershipSettingsIn(Schema):
    join_policy: JoinPolicy = JoinPolicy.OPEN
    fee_fen: Fen = 0
    renewal_fee_fen: Fen | None = None
    validity_days: Count | None = None
    capacity: Count | None = None
    refund_days: SmallCount = 0
    renewal_reminder_days: SmallCount = 7


class MembershipSettingsOut(MembershipSettingsIn):
    community_id: int
    fee_product_id: int | None
    join_sku_id: int | None
    renewal_sku_id: int | None
    seats_left: int | None
    recruiting: bool
    recruitment_text: str

    @staticmethod
    def from_model(community: Community) -> "MembershipSettingsOut":
        skus = selectors.fee_skus(community)
        recruiting = selectors.recruitment(community)
        join_sku, renewal_sku = skus.get(selectors.JOIN_SPEC), skus.get(selectors.RENEWAL_SPEC)
        return MembershipSettingsOut(
            community_id=community.pk,
            join_policy=JoinPolicy(community.join_policy),
            fee_fen=community.fee_fen,
            renewal_fee_fen=community.renewal_fee_fen,
            validity_days=community.validity_days,
            capacity=community.capacity,
            refund_days=community.refund_days,
            renewal_reminder_days=community.renewal_reminder_days,
            fee_product_id=community.fee_product_id,
            join_sku_id=join_sku.pk if join_sku else None,
            renewal_sku_id=renewal_sku.pk if renewal_sku else None,
            seats_left=selectors.seats_left(community),
            recruiting=recruiting.is_open,
            recruitment_text=recruiting.text,
        )


class WindowIn(Schema):
    opens_at: Moment  # ISO 8601 with offset
    closes_at: Moment
    note: MultilineText = Field("", max_length=100)


class WindowOut(Schema):
    id: int
    community_id: int
    opens_at: datetime
    closes_at: datetime
    note: str

    @staticmethod
    def from_model(window: RecruitmentWindow) -> "WindowOut":
        return WindowOut(
            id=window.pk,
            community_id=window.community_id,
            opens_at=window.opens_at,
            closes_at=window.closes_at,
            note=window.note,
        )
