"""Every fulfilment page renders for those it is for, and looks absent to everyone else."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from shequn.fulfilment import actions, tasks
from shequn.fulfilment.models import PickupTicket
from shequn.testing.accounts import member_client

pytestmark = pytest.mark.django_db


def test_operator_console_pages(world, console_client, other_console_client):
    index = console_client.get("/console/fulfilment/")
    assert index.status_code == 200
    body = index.content.decode()
    assert body.count('data-testid="campaign-row"') == 1
    assert "翠苑自提点" in body
    assert "文一自提点" in body
    summary = console_client.get(f"/console/fulfilment/summary/?date={world.campaign.pickup_date}")
    assert summary.content.decode().count('data-testid="summary-row"') == 2
    assert console_client.get("/console/fulfilment/settlements/").status_code == 200

    other = other_console_client.get("/console/fulfilment/")
    assert other.status_code == 200
    assert 'data-testid="campaign-row"' not in other.content.decode()
    assert other_console_client.get(f"/console/fulfilment/summary/?campaign={world.campaign.pk}").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(world):
    from django.test import Client

    for url in ("/leader/pick-lists/", "/leader/receive/", "/leader/verify/", "/leader/commission/"):
        assert Client().get(url).status_code == 302, url
    assert Client().get("/console/fulfilment/").status_code == 302


def test_leader_pages_before_and_after_receipt(world):
    first, second = world.leaders
    client = member_client(first.user)
    assert world.campaign.title in client.get("/leader/pick-lists/").content.decode()
    assert world.campaign.title in client.get("/leader/receive/").content.decode()
    form = client.get(f"/leader/receive/?campaign={world.campaign.pk}").content.decode()
    assert 'data-testid="receive-form"' in form
    actions.receive_goods(
        first, world.campaign.pk, {world.skus["fish"].pk: 3, world.skus["shrimp"].pk: 3}, actor=first.user
    )
    done = client.get(f"/leader/receive/?campaign={world.campaign.pk}").content.decode()
    assert 'data-testid="received-at"' in done
    assert 'data-testid="receive-form"' not in done
    assert 'data-testid="open-count">3<' in client.get("/leader/verify/").content.decode()
    assert client.get("/leader/commission/").status_code == 200

    # another point's leader opening this point's QR is told so, and nothing changes
    ticket = PickupTicket.objects.filter(pickup_point_id=first.pickup_point_id).order_by("id")[0]
    page = member_client(second.user).get(f"/leader/verify/{ticket.token}/").content.decode()
    assert "这不是你的自提点的订单，不能核销" in page
    page = member_client(second.user).post(f"/leader/verify/{ticket.token}/").content.decode()
    assert "这不是你的自提点的订单，不能核销" in page
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert member_client(second.user).get("/leader/verify/not-a-token/").status_code == 404


def test_member_page_before_the_goods_arrive(world):
    wang = world.sign_ups[0]
    page = member_client(wang.user).get(f"/groupbuy/orders/{wang.order.number}/pickup/")
    assert 'data-testid="pickup-pending"' in page.content.decode()


def test_the_periodic_task_reminds_uncollected_goods(world):
    second = world.leaders[1]
    actions.receive_goods(second, world.campaign.pk, {world.skus["fish"].pk: 3}, actor=second.user)
    assert tasks.remind_uncollected_goods.call_local() == 0
    later = timezone.now() + timedelta(days=actions.UNCOLLECTED_AFTER_DAYS, hours=1)
    with time_machine.travel(later):
        assert tasks.remind_uncollected_goods.call_local() == 1
        assert tasks.remind_uncollected_goods.call_local() == 0
