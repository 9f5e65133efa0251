"""Figures: the operator's view of promoters and suspicious patterns, the promoter's own view."""

from datetime import UTC, datetime, timedelta

import pytest

from shequn.distribution import actions, figures
from shequn.orders import actions as order_actions
from shequn.testing.community import api_client
from shequn.testing.factories import AddressFactory, UserFactory
from shequn.testing.orders import make_sku, make_staff, paid_order

from .helpers import chain

pytestmark = pytest.mark.django_db

BASE = "/api/v1/distribution"


PAID_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    """Time stands still at PAID_AT while the world is built (the orders are paid then)."""
    time_machine.move_to(PAID_AT, tick=False)
    return time_machine


@pytest.fixture
def world(shop, operator, clock):
    actions.do_update_settings(operator, shop, {"tiers": 2})
    actions.do_save_rule(operator, shop, {"scope": "shop", "kind": "percent", "tier1_value": 1000, "tier2_value": 300})
    promoters = chain(shop, "ABCD")  # A←B←C←D: each bound to the one before
    sku = make_sku(shop, price_fen=5000)
    buyers = []
    for index in range(3):
        buyer = UserFactory.create(nickname=f"买家{index}")
        AddressFactory.create(user=buyer)
        actions.record_visit(promoters["D"].code, buyer, device="same-phone")
        paid_order(buyer, sku)
        buyers.append(buyer)
    stranger = UserFactory.create()
    AddressFactory.create(user=stranger)
    paid_order(stranger, sku)  # not referred
    return promoters, buyers


def test_operator_figures(shop, world, console_client):
    promoters, _ = world
    found = figures.shop_figures(shop)
    assert [row["code"] for row in found.top_promoters] == [promoters["D"].code]
    assert found.top_promoters[0]["sales_fen"] == 15000
    assert found.top_promoters[0]["commission_fen"] == 1500
    assert found.commission_fen == 1500 + 450  # tier 1 (D) + tier 2 (C)
    assert found.referred_sales_fen == 15000
    assert (found.tree_depth, found.tree_breadth) == (4, 3)  # A→B→C→D; D has 3 bound buyers
    assert (found.buyers, found.referred_buyers, found.k_factor) == (4, 3, 0.75)
    assert [row["people"] for row in found.shared_devices] == [3]

    response = console_client.get(f"{BASE}/console/figures")
    assert response.status_code == 200
    assert response.json()["k_factor"] == 0.75


def test_promoter_figures_mask_names(shop, world):
    promoters, _ = world
    found = api_client(promoters["C"].user).get(f"{BASE}/shops/{shop.slug}/promoter/figures").json()
    assert found["team"] == ["D*"]
    assert found["customers"] == 1
    assert found["frozen_commission_fen"] == 450
    d = api_client(promoters["D"].user).get(f"{BASE}/shops/{shop.slug}/promoter/figures").json()
    assert sorted(d["customer_names"]) == ["买**", "买**", "买**"]
    assert (d["orders"], d["frozen_commission_fen"], d["team"]) == (3, 1500, [])


def refund_in_full(buyer, operator):
    order = buyer.orders.get()
    line = order.lines.get()
    refund = order_actions.request_refund(buyer, order.number, line.pk, amount_fen=line.total_fen, reason="不要了")
    order_actions.approve_refund(refund, operator)
    order_actions.complete_refund(refund)
    return refund


def test_refunds_within_the_window_after_payment_flag_the_promoter(shop, operator, world, clock):
    promoters, buyers = world
    clock.move_to(PAID_AT + timedelta(days=figures.RAPID_REFUND_DAYS) - timedelta(minutes=1), tick=False)
    for buyer in buyers[:2]:
        refund_in_full(buyer, operator)
    found = figures.shop_figures(shop)
    assert found.rapid_refunds == [{"code": promoters["D"].code, "lines": 3, "refunded": 2, "share": 0.67, "days": 7}]
    assert found.commission_fen == 500 + 150  # one unrefunded sale left: tier 1 + tier 2


def test_refunds_after_the_window_do_not_count(shop, operator, world, clock):
    _promoters, buyers = world
    clock.move_to(PAID_AT + timedelta(days=figures.RAPID_REFUND_DAYS, minutes=1), tick=False)
    for buyer in buyers:
        refund_in_full(buyer, operator)
    found = figures.shop_figures(shop)
    assert found.rapid_refunds == []
    assert found.commission_fen == 0  # the commission was still taken back


def test_one_quick_refund_and_one_late_one_are_not_enough(shop, operator, world, clock):
    promoters, buyers = world
    clock.move_to(PAID_AT + timedelta(days=1), tick=False)
    refund_in_full(buyers[0], operator)
    clock.move_to(PAID_AT + timedelta(days=10), tick=False)
    refund_in_full(buyers[1], operator)
    assert figures.rapid_refunds(shop) == []
    # Counted over a longer window, both are quick.
    assert figures.rapid_refunds(shop, days=30) == [
        {"code": promoters["D"].code, "lines": 3, "refunded": 2, "share": 0.67, "days": 30}
    ]


def test_refunds_asked_quickly_but_rejected_or_not_yet_paid_back_do_not_count(shop, operator, world, clock):
    _promoters, buyers = world
    clock.move_to(PAID_AT + timedelta(days=2), tick=False)
    first = buyers[0].orders.get()
    line = first.lines.get()
    refused = order_actions.request_refund(buyers[0], first.number, line.pk, amount_fen=5000, reason="不要了")
    order_actions.reject_refund(shop, refused, make_staff(shop), "商品无质量问题")
    second = buyers[1].orders.get()
    pending = order_actions.request_refund(
        buyers[1], second.number, second.lines.get().pk, amount_fen=5000, reason="不要了"
    )
    order_actions.approve_refund(pending, operator)  # the gateway has not confirmed yet
    refund_in_full(buyers[2], operator)
    assert figures.rapid_refunds(shop) == []


def test_the_flag_appears_in_the_console_figures_api(shop, operator, world, clock, console_client):
    promoters, buyers = world
    clock.move_to(PAID_AT + timedelta(days=3), tick=False)
    for buyer in buyers:
        refund_in_full(buyer, operator)
    response = console_client.get(f"{BASE}/console/figures")
    assert response.status_code == 200
    row = response.json()["rapid_refunds"][0]
    assert row == {"code": promoters["D"].code, "lines": 3, "refunded": 3, "share": 1.0, "days": 7}


def test_the_console_page_names_the_window_of_the_rapid_refunds(shop, operator, world, clock, client):
    promoters, buyers = world
    clock.move_to(PAID_AT + timedelta(days=3), tick=False)
    for buyer in buyers[:2]:
        refund_in_full(buyer, operator)
    client.force_login(operator)
    page = client.get("/console/distribution/").content.decode()
    assert f"推广码 {promoters['D'].code}：3 笔推广成交中 2 笔在付款后 7 天内退款（67%）" in page
