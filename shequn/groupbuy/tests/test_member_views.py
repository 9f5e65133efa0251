"""What a member sees: a failed campaign's orders end refunded and closed (out of 待发货), the
campaign page tells the truth after a failure, a campaign posted to the feed is a card, the
正在接龙 page and API list the open campaigns of the member's own communities only, and the
quantity box starts at 1."""

import importlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from shequn.communities.models import Post, SubGroup
from shequn.groupbuy import actions, tickets
from shequn.groupbuy.enums import CampaignStatus, SignUpStatus
from shequn.groupbuy.models import pool_key
from shequn.orders.enums import OrderStatus
from shequn.orders.models import Order
from shequn.testing.factories import CommunityFactory, SkuFactory
from shequn.testing.orders import auth_headers
from shequn.testing.payments import run_scheduled_tasks

from .conftest import ItemInput, join, login, make_leader
from .test_campaigns import sign_and_pay

pytestmark = pytest.mark.django_db


def fail(campaign, commit, *, refunds_land=True):
    """Close ``campaign`` as failed; unless ``refunds_land``, the gateway is never asked (the
    after-commit work is dropped), so the refunds stay on their way."""
    with time_machine.travel(campaign.deadline + timedelta(seconds=1)):
        with commit(execute=refunds_land):
            assert actions.close_campaign(campaign.pk) == CampaignStatus.FAILED
        if refunds_land:
            run_scheduled_tasks()


def test_a_failed_campaigns_orders_end_refunded_and_leave_to_ship(world, django_capture_on_commit_callbacks, sandbox):
    commit = django_capture_on_commit_callbacks
    campaign = world.open_campaign(min_total_units=10)
    item = campaign.items.get()
    wang = sign_and_pay(world, campaign, "王小明", commit, salmon=3)
    with commit(execute=True):  # partly refunded first: one unit fewer
        actions.change_sign_up(wang.user, wang.pk, {item.pk: 2})
    li = sign_and_pay(world, campaign, "李阿姨", commit, salmon=1)
    client = login(wang.user)
    to_ship = client.get("/orders/?tab=to_ship").content.decode()
    assert wang.order.number in to_ship  # paid and waiting for the campaign

    fail(campaign, commit)

    for entry in (wang, li):
        order = Order.objects.get(pk=entry.order_id)
        assert (order.status, order.refunded_fen, order.hold_reason) == (OrderStatus.CLOSED, order.total_fen, "")
        assert order.events.filter(to_status=OrderStatus.CLOSED, note="已全额退款，订单关闭").count() == 1
    assert wang.order.number not in client.get("/orders/?tab=to_ship").content.decode()
    closed = client.get("/orders/?tab=closed").content.decode()
    assert wang.order.number in closed
    assert "已全额退款" in closed
    detail = client.get(f"/orders/{wang.order.number}/").content.decode()
    assert "已全额退款" in detail
    assert "接龙尚未成团" not in detail


def test_a_failed_campaigns_page_says_what_happened_and_offers_no_changes(
    world, django_capture_on_commit_callbacks, sandbox
):
    commit = django_capture_on_commit_callbacks
    campaign = world.open_campaign(min_total_units=10)
    wang = sign_and_pay(world, campaign, "王小明", commit, salmon=2)
    client = login(wang.user)

    fail(campaign, commit)
    page = client.get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="campaign-status">未成团，已全额退款<' in page
    assert '截止时共接龙 <span data-testid="paid-units">2</span> 件，未达到成团所需的 10 件' in page
    assert "还没有人接龙" not in page
    assert "hx-trigger" not in page  # a closed campaign's list no longer polls
    assert "已全额退款 ¥118.00（三文鱼 2 件）" in page
    assert "修改或取消" not in page
    assert 'data-testid="qty-input"' not in page
    mine = client.get("/groupbuy/mine/").content.decode()
    assert "×0" not in mine
    assert "已全额退款 ¥118.00（三文鱼 2 件）" in mine
    assert 'data-testid="change-form"' not in mine
    assert 'data-testid="cancel-form"' not in mine


def test_until_the_gateway_confirms_a_failed_campaign_says_its_refunds_are_on_their_way(
    world, django_capture_on_commit_callbacks, sandbox
):
    commit = django_capture_on_commit_callbacks
    campaign = world.open_campaign(min_total_units=10)
    wang = sign_and_pay(world, campaign, "王小明", commit, salmon=1)
    fail(campaign, commit, refunds_land=False)
    page = login(wang.user).get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="campaign-status">未成团，退款中<' in page
    assert "退款处理中（三文鱼 1 件）" in page
    assert Order.objects.get(pk=wang.order_id).status == OrderStatus.PAID  # closes when the money is back


def test_a_member_who_cancelled_sees_the_refund_and_no_edit_link(world, django_capture_on_commit_callbacks, sandbox):
    commit = django_capture_on_commit_callbacks
    campaign = world.open_campaign()
    wang = sign_and_pay(world, campaign, "王小明", commit, salmon=1)
    page = login(wang.user).get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="change-link"' in page
    with commit(execute=True):
        actions.cancel_sign_up(wang.user, wang.pk)
    wang.refresh_from_db()
    assert wang.status == SignUpStatus.REFUNDED
    assert Order.objects.get(pk=wang.order_id).status == OrderStatus.CLOSED
    page = login(wang.user).get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode()
    assert "已全额退款 ¥59.00（三文鱼 1 件）" in page
    assert 'data-testid="change-link"' not in page
    assert 'data-testid="campaign-status">接龙中<' in page
    assert 'data-testid="list-empty">还没有人接龙' in page  # open: an invitation, and no count above it
    assert 'data-testid="paid-units">0<' in page


def test_a_campaign_posted_to_the_feed_is_a_card_with_its_facts_and_link(world):
    campaign = world.open_campaign()
    post = Post.objects.get(community=world.community)
    client = login(world.members["王小明"])
    for url in (f"/c/{world.community.pk}/", f"/c/{world.community.pk}/posts/{post.pk}/"):
        html = client.get(url).content.decode()
        assert "立即接龙：" not in html
        card = html[html.index('data-testid="campaign-card"') :]
        card = card[: card.index("</a>")]
        assert f'data-campaign-id="{campaign.pk}"' in card
        assert "【接龙】三文鱼周末接龙" in card
        assert 'data-testid="campaign-card-price">¥59.00<' in card
        assert f"截止 {timezone.localtime(campaign.deadline):%m月%d日 %H:%M}" in card
        assert "已接龙 0 件 / 满 3 件成团" in card
        assert "去接龙" in card
        assert f'href="/groupbuy/campaigns/{campaign.pk}/"' in html


def test_the_feed_card_follows_the_campaign(world, django_capture_on_commit_callbacks, sandbox):
    commit = django_capture_on_commit_callbacks
    campaign = world.open_campaign(min_total_units=10)
    sign_and_pay(world, campaign, "王小明", commit, salmon=2)
    client = login(world.members["李阿姨"])
    assert "已接龙 2 件 / 满 10 件成团" in client.get(f"/c/{world.community.pk}/").content.decode()
    fail(campaign, commit)
    html = client.get(f"/c/{world.community.pk}/").content.decode()
    assert "未成团 · 已付款的全额原路退回" in html
    assert "去接龙" not in html


def test_feed_cards_take_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for n in range(3):
        world.open_campaign(title=f"第 {n} 期接龙")
    client = login(world.members["王小明"])
    client.get(f"/c/{world.community.pk}/")  # warm the session
    with django_assert_max_num_queries(40) as captured:
        html = client.get(f"/c/{world.community.pk}/").content.decode()
    assert html.count('data-testid="campaign-card"') == 3
    assert sum("groupbuy_campaignleader" in q["sql"] for q in captured.captured_queries) == 1


@pytest.fixture
def elsewhere(other_shop):
    """Another shop's community with an open campaign of its own leader."""
    community = CommunityFactory.create(shop=other_shop, name="城北团购群")
    sub_group = SubGroup.objects.create(community=community, name="城北", kind="neighbourhood")
    leader = make_leader(other_shop, community, sub_group, "城北")
    sku = SkuFactory.create(product__shop=other_shop, product__title="草莓", spec="1盒", price_fen=3900, stock=100)
    now = timezone.now()
    campaign = actions.do_create_leader_campaign(
        leader,
        actions.CampaignInput(
            title="城北草莓接龙",
            starts_at=now - timedelta(minutes=1),
            deadline=now + timedelta(hours=5),
            pickup_date=(timezone.localtime(now) + timedelta(days=1)).date(),
            items=[ItemInput(sku_id=sku.pk, price_fen=2900, stock_limit=10)],
        ),
    )
    return community, campaign


def test_open_campaigns_page_lists_the_members_own_communities_only(world, elsewhere):
    other_community, foreign = elsewhere
    soon = world.open_campaign(title="明天截止", deadline=timezone.now() + timedelta(hours=1))
    later = world.open_campaign(
        title="后天截止",
        deadline=timezone.now() + timedelta(hours=30),
        pickup_date=(timezone.localtime() + timedelta(days=3)).date(),
    )
    draft = actions.do_create_campaign(
        world.shop, world.operator, world.campaign_input(title="草稿"), [world.leader_east.pk]
    )
    closed = world.open_campaign(title="已结束")
    with time_machine.travel(closed.deadline + timedelta(seconds=1)):
        actions.close_campaign(closed.pk)
    client = login(world.members["王小明"])
    html = client.get("/groupbuy/campaigns/").content.decode()
    shown = re.findall(r'data-testid="campaign-card" data-campaign-id="(\d+)"', html)
    assert shown == [str(soon.pk), str(later.pk)]  # closing soonest first; no draft, closed or foreign
    assert draft.title not in html
    assert foreign.title not in html
    assert client.get(f"/groupbuy/campaigns/?community={world.community.pk}").status_code == 200
    assert client.get(f"/groupbuy/campaigns/?community={other_community.pk}").status_code == 404
    # Linked from the community page and from 我的.
    assert (
        f'href="/groupbuy/campaigns/?community={world.community.pk}"'
        in client.get(f"/c/{world.community.pk}/").content.decode()
    )
    assert 'href="/groupbuy/campaigns/"' in client.get("/me/").content.decode()

    # A member of the other shop's community sees that one only, and gets 404 for ours.
    neighbour = join(other_community, "赵六")
    theirs = login(neighbour)
    html = theirs.get("/groupbuy/campaigns/").content.decode()
    assert re.findall(r'data-campaign-id="(\d+)"', html) == [str(foreign.pk)]
    assert theirs.get(f"/groupbuy/campaigns/?community={world.community.pk}").status_code == 404
    assert theirs.get(f"/groupbuy/campaigns/{soon.pk}/").status_code == 404
    assert Client().get("/groupbuy/campaigns/").status_code == 302  # sign in first


def test_open_campaigns_api_is_paginated_and_scoped(world, elsewhere):
    other_community, foreign = elsewhere
    opened = [
        world.open_campaign(title=f"第 {n} 期", deadline=timezone.now() + timedelta(hours=n + 1)) for n in range(3)
    ]
    member = Client(headers=auth_headers(world.members["王小明"]))
    first = member.get("/api/v1/groupbuy/campaigns", {"page_size": 2})
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["count"], body["page"], body["page_size"]) == (3, 1, 2)
    assert [row["id"] for row in body["items"]] == [opened[0].pk, opened[1].pk]
    row = body["items"][0]
    assert (row["title"], row["price_fen"], row["is_open"], row["min_total_units"]) == ("第 0 期", 5900, True, 3)
    assert row["url"] == f"/groupbuy/campaigns/{opened[0].pk}/"
    second = member.get("/api/v1/groupbuy/campaigns", {"page_size": 2, "page": 2}).json()
    assert [row["id"] for row in second["items"]] == [opened[2].pk]
    mine = member.get("/api/v1/groupbuy/campaigns", {"community_id": world.community.pk}).json()
    assert mine["count"] == 3
    refused = member.get("/api/v1/groupbuy/campaigns", {"community_id": other_community.pk})
    assert (refused.status_code, refused.json()["code"]) == (404, "community_not_found")
    assert foreign.pk not in [row["id"] for row in member.get("/api/v1/groupbuy/campaigns").json()["items"]]
    assert Client().get("/api/v1/groupbuy/campaigns").status_code == 401


def quantity_box(html: str, item_id: int) -> str:
    found = re.search(rf'<input type="number" name="qty-{item_id}"[^>]*>', html)
    assert found is not None
    return found.group(0)


def test_the_quantity_box_starts_at_one_and_an_edit_at_the_current_quantity(
    world, django_capture_on_commit_callbacks, sandbox
):
    campaign = world.open_campaign()
    item = campaign.items.get()
    client = login(world.members["王小明"])
    page = client.get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode()
    box = quantity_box(page, item.pk)
    assert 'min="1"' in box
    assert 'value="1"' in box
    assert 'max="5"' in box  # the per-person cap
    # Submitting the form as it first shows signs up one unit.
    client.post(f"/groupbuy/campaigns/{campaign.pk}/sign-up/", {f"qty-{item.pk}": "1"}, follow=True)
    assert actions.SignUp.objects.get().units == 1

    wang = sign_and_pay(world, campaign, "李阿姨", django_capture_on_commit_callbacks, salmon=3)
    mine = login(wang.user).get("/groupbuy/mine/").content.decode()
    edit = quantity_box(mine, item.pk)
    assert 'value="3"' in edit

    # Several items: none is chosen for the member, each starts at 0.
    two = world.open_campaign(
        items=[
            ItemInput(sku_id=world.salmon.pk, price_fen=5900, stock_limit=5),
            ItemInput(sku_id=world.shrimp.pk, price_fen=3900, stock_limit=5),
        ]
    )
    page = client.get(f"/groupbuy/campaigns/{two.pk}/").content.decode()
    assert re.findall(r'name="qty-\d+" min="(\d)"[^>]*value="(\d)"', page) == [("0", "0"), ("0", "0")]


def test_posts_published_before_the_card_lose_their_bare_link(world):
    from django.apps import apps

    migration = importlib.import_module("shequn.groupbuy.migrations.0004_posts_without_bare_link")
    campaign = world.open_campaign()
    post = Post.objects.get(community=world.community)
    old_body = f"{post.body}\n立即接龙：/groupbuy/campaigns/{campaign.pk}/"
    Post.objects.filter(pk=post.pk).update(body=old_body)
    other = Post.objects.create(
        shop=world.shop, community=world.community, author=world.operator, body="立即接龙：不是接龙帖"
    )
    migration.drop_bare_links(apps, None)
    post.refresh_from_db()
    assert post.body == old_body.rsplit("\n", 1)[0]
    assert Post.objects.get(pk=other.pk).body == "立即接龙：不是接龙帖"  # only campaign posts change


def test_the_sign_up_form_carries_a_gate_ticket_and_the_left_figure_is_the_gates(world, gate):
    campaign = world.open_campaign()  # 50 units of salmon, 5 per person
    item = campaign.items.get()
    wang = world.members["王小明"]
    actions.join_queue(wang, campaign.pk, {item.pk: 3})  # admitted at the gate, not written yet
    page = login(wang).get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode()
    found = re.search(r'data-ticket="([^"]+)"', page)
    assert found is not None
    ticket = tickets.verify(found[1], campaign.pk)
    assert (ticket.member_id, ticket.item_ids, ticket.default_leader_id) == (wang.pk, (item.pk,), world.leader_east.pk)
    assert re.findall(r'data-testid="item-left">(\d+)<', page) == ["47"]
    api = Client(headers=auth_headers(wang)).get(f"/api/v1/groupbuy/campaigns/{campaign.pk}").json()
    assert [row["left"] for row in api["items"]] == [47]
    # Once closed, the tables' figure: the close wrote the claim and cancelled its unpaid order, so
    # the 3 units are back in the tables (the closed pool at the gate still says 47).
    with time_machine.travel(campaign.deadline + timedelta(seconds=1)):
        actions.close_campaign(campaign.pk)
    assert gate.state(pool_key(item.pk)).units_left == 47
    page = login(wang).get(f"/groupbuy/campaigns/{campaign.pk}/").content.decode()
    assert 'data-ticket="' not in page
    assert re.findall(r'data-testid="item-left">(\d+)<', page) == ["50"]


def test_the_queue_page_gives_up_after_three_minutes_of_polls(world, gate):
    wang = world.members["王小明"]
    client = login(wang)
    lost = "f00d-7"  # admitted by a gate whose Redis lost it: never written
    waiting = client.get(f"/groupbuy/tickets/{lost}/?n=5", headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="queued"' in waiting
    assert f"/groupbuy/tickets/{lost}/?n=6" in waiting
    for polls in (180, 10_000):
        given_up = client.get(f"/groupbuy/tickets/{lost}/?n={polls}", headers={"HX-Request": "true"}).content.decode()
        assert 'data-testid="queue-lost"' in given_up
        assert "排队超时，暂未生成接龙订单" in given_up
        assert "hx-get" not in given_up
