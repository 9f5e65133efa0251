import pytest
from django.test import Client

from shequn.communities import actions
from shequn.communities.models import CommunityMembership, Post
from shequn.shops.enums import StaffRole
from shequn.testing.catalog import api_token_for, make_product
from shequn.testing.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/communities"
JSON = "application/json"


def client_for(user):
    return Client(headers=api_token_for(user))


def test_join_by_invite_code_records_inviter(community, member):
    inviter = MembershipFactory.create(community=community).user
    preview = Client().get(f"{BASE}/invites/{community.invite_code}")
    assert preview.json()["name"] == "张江三文鱼群"
    client = client_for(member)
    response = client.post(
        f"{BASE}/join", {"invite_code": community.invite_code, "from_user_id": inviter.pk}, content_type=JSON
    )
    assert response.status_code == 201
    assert response.json()["joined"] is True
    assert CommunityMembership.objects.get(user=member).invited_by == inviter
    again = client.post(f"{BASE}/join", {"invite_code": community.invite_code}, content_type=JSON)
    assert (again.status_code, again.json()["joined"]) == (200, False)
    mine = client.get(f"{BASE}/mine").json()
    assert [c["name"] for c in mine["items"]] == ["张江三文鱼群"]


def test_join_needs_auth_and_a_valid_code(community, member):
    assert Client().post(f"{BASE}/join", {"invite_code": community.invite_code}, content_type=JSON).status_code == 401
    response = client_for(member).post(f"{BASE}/join", {"invite_code": "nope"}, content_type=JSON)
    assert response.status_code == 404
    assert response.json()["code"] == "invite_not_found"


def test_feed_is_for_members_only(community, member, operator, product):
    post = actions.do_create_post(community.shop, community, "今日到货", [product.pk], actor=operator)
    client = client_for(member)
    response = client.get(f"{BASE}/{community.pk}/posts")
    assert response.status_code == 404
    assert response.json()["code"] == "not_a_member"
    assert client.get(f"{BASE}/{community.pk}/posts/{post.pk}").status_code == 404
    actions.do_join(community, member)
    feed = client.get(f"{BASE}/{community.pk}/posts").json()
    assert feed["count"] == 1
    card = feed["items"][0]["products"][0]
    assert card["price_fen"] == 3500
    assert card["url"].endswith(f"/s/{community.shop.slug}/p/{product.pk}/?post={post.pk}")
    assert client.get(f"{BASE}/{community.pk}/posts/{post.pk}").json()["body"] == "今日到货"


def test_console_posts_crud_and_members(community, operator, member, product):
    actions.do_join(community, member)
    client = client_for(operator)
    created = client.post(
        f"{BASE}/console/communities/{community.pk}/posts",
        {"body": "新品上架", "product_ids": [product.pk], "is_pinned": True},
        content_type=JSON,
    )
    assert created.status_code == 201
    post_id = created.json()["id"]
    updated = client.put(f"{BASE}/console/posts/{post_id}", {"body": "改一下", "product_ids": []}, content_type=JSON)
    assert (updated.json()["body"], updated.json()["products"]) == ("改一下", [])
    hidden = client.post(f"{BASE}/console/posts/{post_id}/publish", {"published": False}, content_type=JSON)
    assert hidden.json()["is_published"] is False
    assert client.get(f"{BASE}/console/communities/{community.pk}/posts").json()["count"] == 1
    members = client.get(f"{BASE}/console/communities/{community.pk}/members").json()
    assert members["items"][0]["phone"] == "138****5678"
    assert client.delete(f"{BASE}/console/posts/{post_id}").status_code == 204
    listed = client.get(f"{BASE}/console/communities").json()
    assert listed["items"][0]["invite_url"].endswith(f"/c/join/{community.invite_code}/")
    new = client.post(f"{BASE}/console/communities", {"name": "新群"}, content_type=JSON)
    assert new.status_code == 201
    rotated = client.post(f"{BASE}/console/communities/{new.json()['id']}/rotate-invite")
    assert rotated.json()["invite_code"] != new.json()["invite_code"]


def test_console_tenant_isolation(community, other_operator, operator, product, other_shop):
    post = actions.do_create_post(community.shop, community, "本店消息", [product.pk], actor=operator)
    client = client_for(other_operator)
    calls = [
        client.get(f"{BASE}/console/communities/{community.pk}"),
        client.put(f"{BASE}/console/communities/{community.pk}", {"name": "x"}, content_type=JSON),
        client.post(f"{BASE}/console/communities/{community.pk}/rotate-invite"),
        client.get(f"{BASE}/console/communities/{community.pk}/members"),
        client.get(f"{BASE}/console/communities/{community.pk}/posts"),
        client.post(f"{BASE}/console/communities/{community.pk}/posts", {"body": "x"}, content_type=JSON),
        client.get(f"{BASE}/console/posts/{post.pk}"),
        client.put(f"{BASE}/console/posts/{post.pk}", {"body": "x"}, content_type=JSON),
        client.post(f"{BASE}/console/posts/{post.pk}/publish", {"published": False}, content_type=JSON),
        client.delete(f"{BASE}/console/posts/{post.pk}"),
    ]
    assert [response.status_code for response in calls] == [404] * len(calls)
    theirs = CommunityFactory.create(shop=other_shop)
    response = client.post(
        f"{BASE}/console/communities/{theirs.pk}/posts",
        {"body": "偷挂", "product_ids": [product.pk]},
        content_type=JSON,
    )
    assert response.status_code == 404
    assert response.json()["code"] == "product_not_found"
    assert Post.objects.count() == 1
    post.refresh_from_db()
    assert post.is_published


def test_console_permission(shop, community):
    service = StaffFactory.create(shop=shop, role=StaffRole.SERVICE).user
    response = client_for(service).get(f"{BASE}/console/communities")
    assert response.status_code == 403


def test_off_shelf_product_cannot_be_attached(community, operator):
    off = make_product(community.shop, "下架的鱼", on_shelf=False)
    response = client_for(operator).post(
        f"{BASE}/console/communities/{community.pk}/posts", {"body": "x", "product_ids": [off.pk]}, content_type=JSON
    )
    assert response.status_code == 422
    assert response.json()["code"] == "product_off_shelf"
