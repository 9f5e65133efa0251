"""Sold by weight: the integer arithmetic, and SKUs priced per 斤/公斤 in the console."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequn.catalog.actions import SkuInput, check_sku_inputs
from shequn.catalog.models import Sku
from shequn.catalog.weights import (
    actual_line_price,
    estimated_piece_price,
    format_grams,
    price_for_grams,
    refund_due_fen,
    refund_step_fen,
)
from shequn.core.errors import InvalidInput
from shequn.testing.catalog import make_weighed_product

# --- arithmetic ----------------------------------------------------------------------------


def test_the_s1_fish_costs_42_yuan_a_piece():
    # 整条鲈鱼, 约 1.2 斤/条, ¥35/斤 → round(35.00 × 1.2) = ¥42.00
    assert estimated_piece_price("jin", 3500, 600) == 4200
    assert estimated_piece_price("kg", 7000, 600) == 4200
    assert price_for_grams(3500, 500, 525) == 3675  # 1.05 斤
    assert 4200 - price_for_grams(3500, 500, 525) == 525  # 0.15 斤 × ¥35 = ¥5.25


def test_prices_round_half_up_to_the_fen():
    assert price_for_grams(1, 500, 250) == 1  # 0.5 fen → 1
    assert price_for_grams(1, 500, 249) == 0  # 0.498 fen → 0
    assert price_for_grams(3333, 500, 600) == 4000  # 3999.6 → 4000
    assert price_for_grams(999, 1000, 1500) == 1499  # 1498.5 → 1499
    with pytest.raises(ValueError, match="unit positive"):
        price_for_grams(100, 0, 1)


def test_weights_are_shown_in_jin_or_kg_with_at_most_two_decimals():
    assert format_grams(600, 500) == "1.2 斤"
    assert format_grams(525, 500) == "1.05 斤"
    assert format_grams(75, 500) == "0.15 斤"
    assert format_grams(500, 500) == "1 斤"
    assert format_grams(1234, 1000) == "1.23 公斤"
    assert format_grams(1235, 1000) == "1.24 公斤"


def test_a_line_sold_at_another_price_per_piece_keeps_that_price_per_gram():
    # A campaign sold the ¥42.00 fish at ¥30.00: 10% lighter costs 10% less of ¥30.00.
    assert (
        actual_line_price(
            unit_price_fen=3000, quantity=2, unit_grams=500, rate_fen=3500, estimated_grams=600, actual_grams=1080
        )
        == 5400
    )
    # At the shelf price the rate applies exactly.
    assert (
        actual_line_price(
            unit_price_fen=4200, quantity=2, unit_grams=500, rate_fen=3500, estimated_grams=600, actual_grams=1050
        )
        == 7350
    )


def test_heavier_owes_nothing_and_lighter_owes_the_exact_difference():
    assert refund_due_fen(4200, 4200, 4550) == 0
    assert refund_due_fen(4200, 4200, 3675) == 525
    assert refund_due_fen(4200, 4200, 0) == 4200
    # A coupon paid ¥21.00 of the ¥42.00: the member gets the difference in what they paid.
    assert refund_due_fen(4200, 2100, 3675) == 263  # 525 × 2100 / 4200 = 262.5, half up
    assert refund_due_fen(4200, 2100, 0) == 2100
    assert refund_due_fen(4200, 2100, 4550) == 0
    assert refund_step_fen(525, 0, 4200) == 525
    assert refund_step_fen(525, 525, 3675) == 0  # weighed again: nothing more
    assert refund_step_fen(350, 525, 3675) == 0  # heavier correction: nothing taken back
    assert refund_step_fen(700, 525, 3675) == 175  # lighter correction: only the extra
    assert refund_step_fen(700, 0, 100) == 100  # never more than is left on the line


pricings = st.sampled_from([("jin", 500), ("kg", 1000)])


@given(
    pricing=pricings,
    rate=st.integers(min_value=1, max_value=10_000_000),
    estimated=st.integers(min_value=1, max_value=50_000),
    quantity=st.integers(min_value=1, max_value=99),
    weighings=st.lists(st.integers(min_value=1, max_value=150_000), min_size=1, max_size=6),
)
def test_weight_refunds_never_exceed_the_line_and_sum_to_the_difference(pricing, rate, estimated, quantity, weighings):
    name, unit = pricing
    unit_price = estimated_piece_price(name, rate, estimated)
    total = unit_price * quantity
    refunded = 0
    for actual in weighings:
        price = actual_line_price(
            unit_price_fen=unit_price,
            quantity=quantity,
            unit_grams=unit,
            rate_fen=rate,
            estimated_grams=estimated,
            actual_grams=actual,
        )
        step = refund_step_fen(refund_due_fen(total, total, price), refunded, total - refunded)
        assert step >= 0
        refunded += step
        assert refunded <= total
    # The refunds sum to the largest difference ever recorded: exactly estimate − actual
    # price when the lightest weighing was the last (or only) one.
    lightest = min(weighings)
    lightest_price = price_for_grams(rate, unit, lightest)
    assert refunded == max(0, min(total, total - lightest_price))
    if weighings[-1] == lightest and lightest_price < total:
        assert refunded == total - price_for_grams(rate, unit, weighings[-1])


@given(data=st.data(), total=st.integers(min_value=1, max_value=10_000_000))
def test_the_weight_refund_is_the_paid_share_of_the_difference(data, total):
    from fractions import Fraction

    paid = data.draw(st.integers(min_value=0, max_value=total), label="paid")
    actual_price = data.draw(st.integers(min_value=0, max_value=3 * total), label="actual price")
    due = refund_due_fen(total, paid, actual_price)
    exact = Fraction(max(0, total - actual_price) * paid, total)
    assert 0 <= due <= paid
    assert exact - Fraction(1, 2) < due <= exact + Fraction(1, 2)


@given(
    rate=st.integers(min_value=1, max_value=10_000_000),
    grams=st.integers(min_value=0, max_value=10_000_000),
    unit=st.sampled_from([500, 1000]),
)
def test_price_for_grams_is_the_exact_value_rounded_half_up(rate, grams, unit):
    from fractions import Fraction

    exact = Fraction(rate * grams, unit)
    price = price_for_grams(rate, unit, grams)
    assert exact - Fraction(1, 2) < price <= exact + Fraction(1, 2)
    if exact.denominator == 2:
        assert price == exact + Fraction(1, 2)  # halves go up


# --- SKUs priced by weight -----------------------------------------------------------------


def weighed(**fields):
    row: dict[str, Any] = {
        "spec": "整条",
        "price_fen": 0,
        "pricing": "jin",
        "weight_price_fen": 3500,
        "weight_grams": 600,
    }
    row.update(fields)
    return SkuInput(**row)


def test_the_price_per_piece_is_computed_from_the_price_per_weight():
    row = weighed(price_fen=1)  # whatever was typed: the estimate wins
    check_sku_inputs([row])
    assert row.price_fen == 4200
    kg = weighed(pricing="kg", weight_price_fen=6990, weight_grams=1500)
    check_sku_inputs([kg])
    assert kg.price_fen == 10485


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"weight_price_fen": None}, "weight_price_required", "按斤计价时请填写每斤单价"),
        ({"weight_price_fen": 0}, "weight_price_required", "且大于 0"),
        ({"weight_price_fen": 10_000_001}, "weight_price_too_high", "单价太高"),
        ({"weight_grams": None}, "estimated_weight_required", "请填写每件预估重量"),
        ({"weight_grams": 0}, "estimated_weight_required", "且大于 0"),
        ({"weight_grams": 50_001}, "estimated_weight_too_high", "不能超过 50 公斤"),
        ({"member_price_fen": 3000}, "weighed_member_price", "不支持会员价"),
        ({"pricing": "kg", "weight_price_fen": None}, "weight_price_required", "每公斤单价"),
        ({"weight_price_fen": 1, "weight_grams": 1}, "estimated_price_zero", "不足 ¥0.01"),
        ({"list_price_fen": 4000}, "list_price_below_price", "划线价不能低于售价"),
        ({"pricing": "gram"}, "invalid_pricing", "请选择计价方式"),
    ],
)
def test_weight_priced_skus_are_validated_with_clear_messages(fields, code, message):
    with pytest.raises(InvalidInput) as caught:
        check_sku_inputs([weighed(**fields)])
    assert caught.value.code == code
    assert message in caught.value.message


def test_a_sku_switched_back_to_piece_pricing_forgets_its_price_per_weight(db):
    row = SkuInput(spec="500g", price_fen=3500, pricing="piece", weight_price_fen=3500, piece_name="条")
    check_sku_inputs([row])
    assert (row.weight_price_fen, row.piece_name) == (None, "")


def test_the_database_refuses_a_weighed_sku_without_rate_or_weight(shop):
    from django.db import IntegrityError, transaction

    product = make_weighed_product(shop)
    sku = product.skus.get()
    assert (sku.price_fen, sku.pricing, sku.weight_price_fen, sku.weight_grams) == (4200, "jin", 3500, 600)
    with pytest.raises(IntegrityError), transaction.atomic():
        Sku.objects.filter(pk=sku.pk).update(weight_grams=None)


# --- console product form and the product page ---------------------------------------------


def fish_form(**overrides):
    data = {
        "title": "整条鲈鱼",
        "sku-TOTAL_FORMS": "1",
        "sku-INITIAL_FORMS": "0",
        "sku-0-spec": "整条",
        "sku-0-pricing": "jin",
        "sku-0-weight_price": "35.00",
        "sku-0-weight_grams": "600",
        "sku-0-piece_name": "条",
        "sku-0-stock": "20",
        "sku-0-is_active": "on",
        "on_shelf": "1",
    }
    data.update(overrides)
    return data


def test_console_creates_a_fish_sold_per_jin_and_edits_it_back(console_client, shop):
    from django.urls import reverse

    from shequn.catalog.models import Product

    response = console_client.post(reverse("catalog:console_product_new"), fish_form())
    assert response.status_code == 302
    product = Product.objects.get(shop=shop)
    sku = product.skus.get()
    assert (sku.pricing, sku.weight_price_fen, sku.weight_grams, sku.price_fen, sku.piece_name) == (
        "jin",
        3500,
        600,
        4200,
        "条",
    )
    page = console_client.get(reverse("catalog:console_product_edit", args=[product.pk])).content.decode()
    assert 'value="35.00"' in page  # the price per 斤 shown back in yuan
    assert '<option value="jin" selected>按斤</option>' in page
    assert "多退少不补" in page


def test_console_form_explains_what_a_weighed_sku_needs(console_client, shop):
    from django.urls import reverse

    from shequn.catalog.models import Product

    response = console_client.post(reverse("catalog:console_product_new"), fish_form(**{"sku-0-weight_grams": ""}))
    assert response.status_code == 422
    assert "按斤计价时请填写每件预估重量（克），且大于 0" in response.content.decode()
    response = console_client.post(reverse("catalog:console_product_new"), fish_form(**{"sku-0-weight_price": ""}))
    assert response.status_code == 422
    assert "按斤计价时请填写每斤单价，且大于 0" in response.content.decode()
    response = console_client.post(reverse("catalog:console_product_new"), fish_form(**{"sku-0-weight_price": "3.555"}))
    assert response.status_code == 422
    assert "金额最多两位小数" in response.content.decode()
    assert not Product.objects.exists()


def test_the_product_page_shows_the_price_per_jin_and_the_promise(shop):
    from django.test import Client
    from django.urls import reverse

    product = make_weighed_product(shop)
    page = Client().get(reverse("catalog:product_detail", args=[shop.slug, product.pk])).content.decode()
    assert "¥35.00/斤 · 约 1.2 斤/条 · 按实重多退少不补" in page
    assert "¥42.00" in page


def test_the_api_shows_the_weight_pricing(shop):
    from django.test import Client

    product = make_weighed_product(shop)
    body = Client().get(f"/api/v1/catalog/shops/{shop.slug}/products/{product.pk}").json()
    assert {k: body["skus"][0][k] for k in ("price_fen", "pricing", "weight_price_fen", "estimated_grams")} == {
        "price_fen": 4200,
        "pricing": "jin",
        "weight_price_fen": 3500,
        "estimated_grams": 600,
    }
