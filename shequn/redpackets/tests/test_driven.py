"""The console's "orders and sales driven" by a red packet: its grabbers' paid orders at the shop in
the week after their grab, not refunded in full, net of refunds; in a fixed number of statements."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shequn.orders import actions as order_actions
from shequn.redpackets import actions
from shequn.testing.factories import MembershipFactory
from shequn.testing.orders import make_member, make_sku, paid_order

from .conftest import login, packet_input

pytestmark = pytest.mark.django_db


def refund(order, owner, amount_fen: int) -> None:
    line = order.lines.get()
    request = order_actions.request_refund(order.user, order.number, line.pk, amount_fen=amount_fen, reason="不要了")
    order_actions.approve_refund(request, owner)
    order_actions.complete_refund(request)


def grabbed_packet(shop, owner, community, members):
    packet = actions.fund_packet(shop, owner, packet_input(community, total_fen=300, count=3))
    for member in members:
        actions.grab(member, packet.pk)
    actions.materialise_grabs()
    return packet


def test_a_packet_drove_its_grabbers_orders_of_the_following_week(shop, owner, community):
    sku = make_sku(shop, price_fen=5000, stock=100)
    grabber, bystander = make_member(nickname="王小明"), make_member(nickname="李雷")
    for user in (grabber, bystander):
        MembershipFactory.create(community=community, user=user)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        paid_order(grabber, sku)  # before the grab: not driven
        clock.shift(timedelta(minutes=1))
        packet = grabbed_packet(shop, owner, community, [grabber])
        clock.shift(timedelta(hours=1))
        driven = paid_order(grabber, sku)
        paid_order(bystander, sku)  # never grabbed it
        refunded = paid_order(grabber, sku)
        refund(refunded, owner, refunded.lines.get().paid_fen)  # refunded in full: not driven
        partly = paid_order(grabber, sku, 2)
        refund(partly, owner, 1000)
        clock.shift(timedelta(days=8))
        paid_order(grabber, sku)  # more than a week after the grab: not driven

    client = login(owner)
    page = client.get(reverse("redpackets:console_packets")).content.decode()
    api = client.get(f"/api/v1/redpackets/console/packets/{packet.pk}").json()

    sales = driven.total_fen + partly.total_fen - 1000
    yuan = f"¥{sales // 100:,}.{sales % 100:02d}"
    assert 'data-testid="packet-driven-orders">2<' in page
    assert f'data-testid="packet-driven-sales">{yuan}<' in page
    assert "领到红包的会员在领取后 7 天内在本店下单并付款的订单" in page
    assert (api["driven_orders"], api["driven_sales_fen"]) == (2, sales)


def test_the_console_list_reads_the_driven_figures_in_one_statement_whatever_the_packets(shop, owner, community):
    members = [make_member(nickname=f"会员{index}") for index in range(3)]
    for member in members:
        MembershipFactory.create(community=community, user=member)
    client = login(owner)
    grabbed_packet(shop, owner, community, members[:1])
    client.get(reverse("redpackets:console_packets"))  # warm per-process caches
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("redpackets:console_packets"))
    for _round in range(3):
        grabbed_packet(shop, owner, community, members)
    with CaptureQueriesContext(connection) as four:
        client.get(reverse("redpackets:console_packets"))
    assert len(four.captured_queries) == len(one.captured_queries)
