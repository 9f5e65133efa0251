"""API shapes for communities. Phone numbers only ever leave masked."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from ninja import Schema

from shequn.core.phone import mask_phone

from .links import invite_url
from .models import Community, CommunityMembership, Post


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

    @staticmethod
    def from_model(membership: CommunityMembership) -> "MemberOut":
        inviter = membership.invited_by
        return MemberOut(
            user_id=membership.user_id,
            nickname=membership.user.display_name,
            phone=mask_phone(membership.user.phone or ""),
            invited_by_id=inviter.pk if inviter else None,
            invited_by_name=inviter.display_name if inviter else None,
            joined_at=membership.joined_at,
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
