"""Figures: the operator's view of promoters and suspicious patterns, the promoter's own view."""

import pytest

from shequn.distribution import actions, figures
from shequn.orders import actions as order_actions
from shequn.testing.community import api_client
from shequn.testing.factories import AddressFactory, UserFactory
from shequn.testing.orders import make_sku, paid_order

from .helpers import chain

pytestmark = pytest.mark.django_db

BASE = "/api/v1/distribution"


@pytest.fixture
def world(shop, operator):
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


def test_repeated_refunds_on_a_promoters_sales_are_flagged(shop, operator, world):
    promoters, buyers = world
    for buyer in buyers[:2]:
        order = buyer.orders.get()
        line = order.lines.get()
        refund = order_actions.request_refund(buyer, order.number, line.pk, amount_fen=5000, reason="不要了")
        order_actions.approve_refund(refund, operator)
        order_actions.complete_refund(refund)
    found = figures.shop_figures(shop)
    assert found.rapid_refunds == [{"code": promoters["D"].code, "lines": 3, "refunded": 2}]
    assert found.commission_fen == 500 + 150  # one unrefunded sale left: tier 1 + tier 2
