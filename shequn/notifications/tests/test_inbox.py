"""The member's inbox: page (unread styling, mark all read, pagination, empty state) and API."""

import pytest
from django.test import Client
from django.urls import reverse

from shequn.notifications.actions import mark_read, notify
from shequn.notifications.models import Notification
from shequn.notifications.selectors import unread_count
from shequn.testing.factories import ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def message(user, title="订单已发货", **fields):
    return notify(user, shop=fields.pop("shop", None), kind=fields.pop("kind", "order.shipped"), title=title, **fields)


def test_notify_writes_the_inbox_and_counts_unread():
    user = UserFactory.create()
    message(user, body="顺丰 SF123", link="/orders/1/")
    message(user)
    message(UserFactory.create())
    assert unread_count(user) == 2
    assert mark_read(user) == 2
    assert unread_count(user) == 0
    assert mark_read(user) == 0


def test_mark_read_touches_only_the_members_own_messages():
    user, other = UserFactory.create(), UserFactory.create()
    mine = message(user)
    theirs = message(other)
    assert mark_read(user, [mine.pk, theirs.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_inbox_page_empty_state():
    response = logged_in(UserFactory.create()).get(reverse("notifications:inbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="inbox-empty"' in html
    assert "暂无消息" in html


def test_inbox_page_requires_login():
    response = Client().get(reverse("notifications:inbox"))
    assert response.status_code == 302


def test_inbox_page_lists_unread_and_marks_all_read():
    user = UserFactory.create()
    read = message(user, title="已读的消息")
    mark_read(user, [read.pk])
    message(user, title="支付成功", kind="order.paid", shop=ShopFactory.create())
    client = logged_in(user)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert html.count('data-testid="inbox-item"') == 2
    assert html.count('data-unread="1"') == 1
    assert "支付成功" in html
    assert "1 条未读" in html
    assert 'data-testid="unread-count">1<' in html  # the tab bar badge

    response = client.post(reverse("notifications:mark_all_read"))
    assert response.status_code == 302
    assert unread_count(user) == 0
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert 'data-unread="1"' not in html
    assert 'data-testid="mark-all-read"' not in html


def test_inbox_page_paginates():
    user = UserFactory.create()
    for index in range(25):
        message(user, title=f"消息{index:02d}")
    client = logged_in(user)
    first = client.get(reverse("notifications:inbox")).content.decode()
    assert first.count('data-testid="inbox-item"') == 20
    assert "消息24" in first  # newest first
    assert 'data-testid="inbox-next"' in first
    second = client.get(reverse("notifications:inbox") + "?page=2").content.decode()
    assert second.count('data-testid="inbox-item"') == 5
    assert "消息00" in second
    assert 'data-testid="inbox-prev"' in second


def test_opening_a_message_marks_it_read_and_follows_its_link():
    user = UserFactory.create()
    note = message(user, link="/orders/20261122000000123456/")
    client = logged_in(user)
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == "/orders/20261122000000123456/"
    note.refresh_from_db()
    assert note.read_at is not None
    evil = message(user, link="//evil.example.com/")
    assert client.post(reverse("notifications:open", args=[evil.pk]))["Location"] == reverse("notifications:inbox")
    other = message(UserFactory.create())
    assert client.post(reverse("notifications:open", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_api_list_count_and_mark_read():
    user = UserFactory.create()
    notes = [message(user, title=f"消息{index}") for index in range(3)]
    message(UserFactory.create())
    client = logged_in(user)
    listing = client.get("/api/v1/notifications/?page=1&page_size=2").json()
    assert listing["count"] == 3
    assert listing["page_size"] == 2
    assert [item["title"] for item in listing["items"]] == ["消息2", "消息1"]
    assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 3}
    response = client.post("/api/v1/notifications/read", data={"ids": [notes[0].pk]}, content_type="application/json")
    assert response.json() == {"marked": 1, "unread": 2}
    response = client.post("/api/v1/notifications/read", data={}, content_type="application/json")
    assert response.json() == {"marked": 2, "unread": 0}
    assert Notification.objects.filter(read_at__isnull=True).count() == 1  # the other member's


def test_api_requires_authentication():
    assert Client().get("/api/v1/notifications/").status_code == 401
    assert Client().get("/api/v1/notifications/unread-count").status_code == 401
