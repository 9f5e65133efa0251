"""Every community write. ``check_*`` validates and authorises, ``do_*`` changes data.

Staff writes are audited in the same transaction; a member joining is recorded on the
membership row itself (with the inviter, when the link carried one).
"""

import secrets
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from shequn.catalog.actions import check_image_upload
from shequn.catalog.models import Product
from shequn.core import audit
from shequn.core.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from shequn.shops.models import Shop

from .enums import MemberStatus
from .models import Community, CommunityMembership, Post, PostProduct

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


def do_join(community: Community, user: Any, *, inviter_id: int | None = None) -> tuple[CommunityMembership, bool]:
    """Join ``community``; returns (membership, created). Joining twice changes nothing.

    The inviter is recorded only when they are an existing member of the same community
    (a forged ``?from=`` pointing at anyone else is ignored).
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
    try:
        with transaction.atomic():
            joined = CommunityMembership.objects.create(community=community, user=user, invited_by=inviter)
    except IntegrityError:  # a concurrent double tap joined first
        return CommunityMembership.objects.get(community=community, user=user), False
    return joined, True


# --- posts -------------------------------------------------------------------------


def check_post_products(shop: Shop, product_ids: Sequence[int]) -> list[Product]:
    """Products for a post's cards: this shop's (foreign ids look absent) and on shelf."""
    ordered = list(dict.fromkeys(int(pk) for pk in product_ids))
    if len(ordered) > MAX_POST_PRODUCTS:
        raise InvalidInput(f"一条帖子最多挂 {MAX_POST_PRODUCTS} 个商品", code="too_many_products")
    found = {p.pk: p for p in Product.objects.filter(shop=shop, pk__in=ordered)}
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
