import pytest
from django.test import Client
from django.urls import reverse

from shequn.communities import actions, selectors
from shequn.communities.models import Community, CommunityMembership, Post
from shequn.core.errors import InvalidInput, NotFound
from shequn.core.models import AuditLog
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import make_product
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory
from shequn.testing.two_shops import login

pytestmark = pytest.mark.django_db


# --- joining -------------------------------------------------------------------------


def test_join_page_shows_community_and_button(community):
    response = Client().get(reverse("communities:join", args=[community.invite_code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "张江三文鱼群" in html
    assert "加入社群" in html


def test_joining_requires_sign_in_and_comes_back(community):
    url = reverse("communities:join", args=[community.invite_code]) + "?from=5"
    response = Client().post(url, {"from": "5"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/login/?next=")
    from urllib.parse import parse_qs, urlsplit

    assert parse_qs(urlsplit(location).query)["next"] == ["/c/join/join-zhangjiang/?from=5"]
    assert not CommunityMembership.objects.exists()


def test_join_by_invite_link_records_inviter(community, member):
    inviter = MembershipFactory.create(community=community).user
    url = reverse("communities:join", args=[community.invite_code]) + f"?from={inviter.pk}"
    page = login(member).get(url).content.decode()
    assert f'value="{inviter.pk}"' in page
    assert f"{inviter.display_name} 邀请你加入" in page
    response = login(member).post(url, {"from": str(inviter.pk)})
    assert response.status_code == 302
    assert response["Location"] == reverse("communities:community_home", args=[community.pk])
    membership = CommunityMembership.objects.get(community=community, user=member)
    assert membership.invited_by == inviter
    assert selectors.is_shop_member(member, community.shop)


def test_inviter_who_is_not_a_member_is_ignored(community, member):
    stranger = UserFactory.create()
    membership, created = actions.do_join(community, member, inviter_id=stranger.pk)
    assert created
    assert membership.invited_by is None
    again, created = actions.do_join(community, member, inviter_id=stranger.pk)
    assert (again, created) == (membership, False)


def test_cannot_invite_yourself(community, member):
    membership, _ = actions.do_join(community, member, inviter_id=member.pk)
    assert membership.invited_by is None


def test_stale_or_inactive_invite_is_404(community, member, operator):
    old_code = community.invite_code
    actions.do_rotate_invite_code(community.shop, community, actor=operator)
    assert Client().get(reverse("communities:join", args=[old_code])).status_code == 404
    assert login(member).post(reverse("communities:join", args=[old_code])).status_code == 404
    community.is_active = False
    community.save()
    assert Client().get(reverse("communities:join", args=[community.invite_code])).status_code == 404


def test_is_shop_member(community, member, other_shop):
    assert not selectors.is_shop_member(member, community.shop)
    actions.do_join(community, member)
    assert selectors.is_shop_member(member, community.shop)
    assert not selectors.is_shop_member(member, other_shop)
    Community.objects.filter(pk=community.pk).update(is_active=False)
    assert not selectors.is_shop_member(member, community.shop)


# --- feeds ---------------------------------------------------------------------------


def test_member_feed_with_product_cards_linking_with_post(community, member, operator, product):
    actions.do_join(community, member)
    post = actions.do_create_post(community.shop, community, "今日现捕三文鱼！", [product.pk], actor=operator)
    html = login(member).get(reverse("communities:community_home", args=[community.pk])).content.decode()
    assert "今日现捕三文鱼！" in html
    product_url = reverse("catalog:product_detail", args=[community.shop.slug, product.pk])
    assert f'href="{product_url}?post={post.pk}"' in html
    assert "¥35.00" in html
    assert "购买" in html
    detail = login(member).get(reverse("communities:post_detail", args=[community.pk, post.pk]))
    assert detail.status_code == 200
    assert f"?post={post.pk}" in detail.content.decode()


def test_non_member_cannot_read_the_feed(community, member, operator, product):
    post = actions.do_create_post(community.shop, community, "仅成员可见的消息", [product.pk], actor=operator)
    client = login(member)
    response = client.get(reverse("communities:community_home", args=[community.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "仅成员可见的消息" not in html
    assert "张江三文鱼群" in html
    assert community.invite_code not in html  # knowing the id must not reveal the invite code
    response = client.get(reverse("communities:post_detail", args=[community.pk, post.pk]))
    assert response.status_code == 404
    assert "仅成员可见的消息" not in response.content.decode()
    assert Client().get(reverse("communities:community_home", args=[community.pk])).status_code == 302


def test_unpublished_posts_leave_the_feed(community, member, operator):
    actions.do_join(community, member)
    post = actions.do_create_post(community.shop, community, "撤回的消息", actor=operator)
    actions.do_set_post_published(community.shop, post, False, actor=operator)
    html = login(member).get(reverse("communities:community_home", args=[community.pk])).content.decode()
    assert "撤回的消息" not in html
    assert login(member).get(reverse("communities:post_detail", args=[community.pk, post.pk])).status_code == 404


def test_my_communities(community, member):
    client = login(member)
    html = client.get(reverse("communities:my_communities")).content.decode()
    assert "你还没有加入任何社群" in html
    actions.do_join(community, member)
    CommunityFactory.create(shop=community.shop, name="别的群")
    html = client.get(reverse("communities:my_communities")).content.decode()
    assert "张江三文鱼群" in html
    assert "别的群" not in html


# --- posts ---------------------------------------------------------------------------


def test_posts_only_carry_on_shelf_products_of_the_same_shop(community, operator, other_shop):
    foreign = make_product(other_shop, "别家的鱼")
    off = make_product(community.shop, "下架的鱼", on_shelf=False)
    with pytest.raises(NotFound):
        actions.do_create_post(community.shop, community, "看看", [foreign.pk], actor=operator)
    with pytest.raises(InvalidInput, match="未上架"):
        actions.do_create_post(community.shop, community, "看看", [off.pk], actor=operator)
    with pytest.raises(InvalidInput, match="请填写帖子内容"):
        actions.do_create_post(community.shop, community, "  ", actor=operator)
    assert not Post.objects.exists()


def test_post_writes_are_audited(community, operator, product):
    post = actions.do_create_post(community.shop, community, "新品", [product.pk], actor=operator, ip="10.0.0.5")
    actions.do_set_post_published(community.shop, post, False, actor=operator, ip="10.0.0.5")
    actions.do_delete_post(community.shop, post, actor=operator, ip="10.0.0.5")
    actions_logged = list(
        AuditLog.objects.filter(action__startswith="post.").order_by("id").values_list("action", "ip")
    )
    assert actions_logged == [("post.create", "10.0.0.5"), ("post.unpublish", "10.0.0.5"), ("post.delete", "10.0.0.5")]


# --- QR ------------------------------------------------------------------------------


def test_invite_qr_svg_for_staff_and_members(community, operator, member):
    url = reverse("communities:invite_qr", args=[community.pk])
    response = login(operator).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    actions.do_join(community, member)
    assert login(member).get(url).status_code == 200
    assert login(UserFactory.create()).get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_qr_encodes_the_invite_link(community, member):
    from shequn.communities.links import invite_url

    actions.do_join(community, member)
    link = invite_url(community, inviter=member)
    assert link.endswith(f"/c/join/{community.invite_code}/?from={member.pk}")


# --- console -------------------------------------------------------------------------


def test_console_create_and_detail(shop, operator, community, member):
    client = login(operator)
    response = client.post(reverse("communities:console_communities"), {"name": "陆家嘴群"}, REMOTE_ADDR="10.2.2.2")
    created = Community.objects.get(name="陆家嘴群")
    assert response["Location"] == reverse("communities:console_community_detail", args=[created.pk])
    assert AuditLog.objects.filter(action="community.create", ip="10.2.2.2", actor=operator).exists()
    actions.do_join(community, member)
    html = client.get(reverse("communities:console_community_detail", args=[community.pk])).content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
    assert community.invite_code in html
    assert "console/communities" in client.get(reverse("communities:console_communities")).request["PATH_INFO"]


def test_console_composer_posts_and_unpublishes(shop, operator, community, product):
    client = login(operator)
    html = client.get(reverse("communities:console_community_detail", args=[community.pk])).content.decode()
    assert "三文鱼刺身" in html
    client.post(
        reverse("communities:console_post_create", args=[community.pk]),
        {"body": "今日到货", "product_ids": [str(product.pk)]},
    )
    post = Post.objects.get()
    assert list(post.products.all()) == [product]
    client.post(reverse("communities:console_post_publish", args=[post.pk]), {"published": "0"})
    post.refresh_from_db()
    assert not post.is_published
    client.post(reverse("communities:console_post_delete", args=[post.pk]))
    assert not Post.objects.exists()


def test_console_composer_lists_only_this_shops_on_shelf_products(shop, operator, community, other_shop):
    make_product(other_shop, "别家的鱼")
    make_product(shop, "下架的鱼", on_shelf=False)
    html = login(operator).get(reverse("communities:console_community_detail", args=[community.pk])).content.decode()
    assert "别家的鱼" not in html
    assert "下架的鱼" not in html


def test_console_rotate_invite(operator, community):
    old = community.invite_code
    login(operator).post(reverse("communities:console_rotate_invite", args=[community.pk]))
    community.refresh_from_db()
    assert community.invite_code != old
    assert AuditLog.objects.filter(action="community.rotate_invite").exists()


def test_console_tenant_isolation(community, other_operator, operator, product):
    post = actions.do_create_post(community.shop, community, "本店消息", [product.pk], actor=operator)
    client = login(other_operator)
    assert client.get(reverse("communities:console_community_detail", args=[community.pk])).status_code == 404
    for url, data in [
        (reverse("communities:console_community_detail", args=[community.pk]), {"name": "x"}),
        (reverse("communities:console_rotate_invite", args=[community.pk]), {}),
        (reverse("communities:console_post_create", args=[community.pk]), {"body": "x"}),
        (reverse("communities:console_post_publish", args=[post.pk]), {"published": "0"}),
        (reverse("communities:console_post_delete", args=[post.pk]), {}),
    ]:
        assert client.post(url, data).status_code == 404, url
    assert "张江三文鱼群" not in client.get(reverse("communities:console_communities")).content.decode()
    # Their staff cannot fetch our QR either.
    assert client.get(reverse("communities:invite_qr", args=[community.pk])).status_code == 404
    post.refresh_from_db()
    assert post.is_published


def test_other_shop_posts_cannot_attach_our_products(community, other_operator, product, other_shop):
    theirs = CommunityFactory.create(shop=other_shop)
    response = login(other_operator).post(
        reverse("communities:console_post_create", args=[theirs.pk]), {"body": "偷挂", "product_ids": [product.pk]}
    )
    assert response.status_code == 404
    assert not Post.objects.exists()


@pytest.mark.parametrize("role", [StaffRole.SERVICE, StaffRole.FINANCE])
def test_console_permission(shop, community, role):
    client = login(StaffFactory.create(shop=shop, role=role).user)
    assert client.get(reverse("communities:console_communities")).status_code == 403
    assert client.get(reverse("communities:console_community_detail", args=[community.pk])).status_code == 403


def test_members_opening_the_link_again_get_into_the_community(community, member):
    actions.do_join(community, member)
    html = login(member).get(reverse("communities:join", args=[community.invite_code])).content.decode()
    assert "进入社群" in html
    assert 'data-testid="join-button"' not in html
