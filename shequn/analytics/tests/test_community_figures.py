"""Per-community figures: every number matches the joins, posts and orders made in the test."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from shequn.board.models import Comment, Thread
from shequn.communities.actions import do_join
from shequn.communities.enums import MemberStatus
from shequn.communities.models import Channel, CommunityMembership
from shequn.content.models import Article
from shequn.orders import actions as order_actions
from shequn.testing.accounts import staff_client
from shequn.testing.factories import CommunityFactory, PostFactory, ShopFactory, SkuFactory, UserFactory
from shequn.testing.orders import auth_headers, make_staff

pytestmark = pytest.mark.django_db

API = "/api/v1/analytics/communities/{}/figures"


@pytest.fixture
def world():
    shop = ShopFactory.create()
    owner = make_staff(shop)
    community = CommunityFactory.create(shop=shop)
    poster = Channel.objects.create(community=community, name="海报A", code="posterA")
    market = Channel.objects.create(community=community, name="集市", code="market")
    sku = SkuFactory.create(product__shop=shop, price_fen=5000, stock=100)
    post = PostFactory.create(community=community, author=owner)
    article = Article.objects.create(shop=shop, community=community, title="三文鱼怎么吃", status="published")
    return {"shop": shop, "owner": owner, "community": community, "channels": (poster, market), "sku": sku,
            "post": post, "article": article}  # fmt: skip


def join(community, channel=None, **user_fields):
    user = UserFactory.create(**user_fields)
    do_join(community, user, channel_code=channel.code if channel else None)
    return user


def pickup_order(user, sku, **source):
    point = sku.shop.pickup_points.first() or sku.shop.pickup_points.create(name="门店", address="一号")
    order = order_actions.create_order(
        user, sku_id=sku.pk, fulfilment="pickup", payment_method="sandbox", pickup_point_id=point.pk, **source
    )
    order_actions.mark_paid(order)
    return order


def test_figures_match_what_happened(world):
    community, (poster, market), sku = world["community"], world["channels"], world["sku"]
    old_member = UserFactory.create()
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        do_join(community, old_member)  # joined before the 30-day period
    buyers = [join(community, poster) for _ in range(3)]
    writer = join(community, market)
    join(community)  # no channel
    leaver = join(community, poster)
    CommunityMembership.objects.filter(user=leaver).update(status=MemberStatus.FORMER)

    first = pickup_order(buyers[0], sku, post_id=world["post"].pk)
    pickup_order(buyers[1], sku, article_id=world["article"].pk)
    pickup_order(buyers[1], sku, article_id=world["article"].pk)
    refunded = pickup_order(buyers[2], sku, article_id=world["article"].pk)
    pickup_order(UserFactory.create(), sku)  # bought in the shop, not from the community
    refund = order_actions.request_refund(
        buyers[2], refunded.number, refunded.lines.get().pk, amount_fen=2000, reason="少了"
    )
    order_actions.approve_refund(refund, world["owner"])
    order_actions.complete_refund(refund)
    thread = Thread.objects.create(shop=world["shop"], community=community, author=writer, title="求推荐", body="…")
    Comment.objects.create(thread=thread, author=old_member, body="试试三文鱼")

    response = staff_client(world["owner"]).get(reverse("analytics:console_community_figures", args=[community.pk]))
    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures.members, figures.former_members, figures.joins) == (6, 1, 6)
    assert [(row.name, row.joins) for row in figures.joins_by_channel] == [
        ("海报A", 4),
        ("集市", 1),
        ("未使用渠道码", 1),
    ]
    # buyers[0..2] bought, writer posted, old_member commented; the last buyer is not a member.
    assert figures.active_members == 5
    assert (figures.sales.orders, figures.sales.buyers) == (4, 3)
    assert (figures.sales.gross_fen, figures.sales.refunded_fen, figures.sales.net_fen) == (20000, 2000, 18000)
    assert (figures.from_posts.orders, figures.from_posts.net_fen) == (1, first.total_fen)
    assert (figures.from_articles.orders, figures.from_articles.net_fen) == (3, 13000)
    assert [(row.title, row.orders, row.net_fen) for row in figures.top_articles] == [("三文鱼怎么吃", 3, 13000)]
    assert "¥180.00" in response.content.decode()

    body = staff_client(world["owner"]).get(API.format(community.pk), {"days": 90}).json()
    assert (body["members"], body["joins"], body["active_members"]) == (6, 7, 5)
    assert body["sales"] == {"orders": 4, "buyers": 3, "gross_fen": 20000, "refunded_fen": 2000, "net_fen": 18000}


def test_empty_community_shows_zeroes_and_empty_states(world):
    response = staff_client(world["owner"]).get(
        reverse("analytics:console_community_figures", args=[world["community"].pk]), {"days": 7}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "期间没有新成员加入" in page
    assert "期间没有从文章商品卡成交的订单" in page


def test_only_7_30_or_90_days(world):
    response = staff_client(world["owner"]).get(API.format(world["community"].pk), {"days": 365})
    assert response.status_code == 422
    assert response.json()["code"] == "period_invalid"


def test_staff_of_another_shop_and_members_see_nothing(world, client):
    stranger = make_staff(ShopFactory.create())
    page = staff_client(stranger).get(reverse("analytics:console_community_figures", args=[world["community"].pk]))
    api = staff_client(stranger).get(API.format(world["community"].pk))
    assert (page.status_code, api.status_code) == (404, 404)
    member = join(world["community"])
    response = client.get(API.format(world["community"].pk), headers=auth_headers(member))
    assert (response.status_code, response.json()["code"]) == (404, "shop_not_found")
