"""What a coupon is worth on a checkout (``coupons.rules``), on rows built in memory: every type
and scope, the reasons shown when one does not apply, and the split over the lines."""

from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from shequn.catalog.models import Product, Sku
from shequn.coupons import rules
from shequn.coupons.enums import CouponKind, CouponScope, CouponStatus
from shequn.coupons.models import CouponTemplate, MemberCoupon

NOW = timezone.now()


@dataclass
class Line:
    sku: SimpleNamespace
    unit_price_fen: int
    quantity: int = 1
    member_price: bool = False

    @property
    def total_fen(self) -> int:
        return self.unit_price_fen * self.quantity


def line(price: int, quantity: int = 1, *, sku_id: int = 1, product_id: int = 1, category_id: int | None = None, **kw):
    product = SimpleNamespace(pk=product_id, category_id=category_id, kind="goods", title="苹果")
    return Line(SimpleNamespace(pk=sku_id, product=product, spec="1 斤"), price, quantity, **kw)


def coupon(**fields) -> MemberCoupon:
    template = CouponTemplate(name="券", total_quantity=10, remaining=10, **fields)
    return MemberCoupon(
        pk=1,
        template=template,
        status=CouponStatus.CLAIMED,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
    )


def offer(held: MemberCoupon, lines, payable: int | None = None, audience: bool = True) -> rules.Offer:
    payable = sum(x.total_fen for x in lines) if payable is None else payable
    return rules.offer(held, lines, payable_fen=payable, is_audience=audience, now=NOW)


def test_threshold_applies_from_the_threshold_and_says_how_much_is_missing():
    held = coupon(kind=CouponKind.THRESHOLD, threshold_fen=10000, amount_fen=2000)
    assert offer(held, [line(5000, 2)]).discount_fen == 2000
    short = offer(held, [line(9900)])
    assert not short.applies
    assert short.refusal == "满¥100.00可用，还差¥1.00"
    assert rules.describe(held.template) == "满¥100.00减¥20.00"


def test_percent_off_is_capped():
    held = coupon(kind=CouponKind.PERCENT, percent_off=20, cap_fen=1500)
    assert offer(held, [line(5000)]).discount_fen == 1000  # 8折 of ¥50
    assert offer(held, [line(10000)]).discount_fen == 1500  # capped
    assert rules.describe(held.template) == "8折，最多减¥15.00"
    assert rules.percent_label(15) == "8.5折"


def test_no_threshold_never_takes_more_than_the_goods_and_leaves_one_fen_to_pay():
    held = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=500)
    assert offer(held, [line(300)], payable=300).discount_fen == 299
    assert offer(held, [line(300)], payable=1300).discount_fen == 300  # shipping still to pay


def test_free_item_takes_one_unit_of_its_sku_off():
    held = coupon(kind=CouponKind.FREE_ITEM, free_sku=Sku(pk=7, spec="1 斤", product=Product(title="苹果")))
    found = offer(held, [line(1000, 3, sku_id=7, product_id=7), line(2000, sku_id=8, product_id=8)])
    assert found.discount_fen == 1000
    assert found.line_discounts == [1000, 0]
    missing = offer(held, [line(2000, sku_id=8, product_id=8)])
    assert not missing.applies
    assert missing.refusal == "订单中需要有「苹果 1 斤」"


def test_scope_by_category_and_by_product_counts_only_those_lines():
    by_category = coupon(
        kind=CouponKind.THRESHOLD, threshold_fen=3000, amount_fen=1000, scope=CouponScope.CATEGORIES, scope_ids=[5]
    )
    lines = [line(2000, category_id=5, sku_id=1), line(2000, category_id=6, sku_id=2, product_id=2)]
    assert offer(by_category, lines).refusal == "满¥30.00可用，还差¥10.00"  # only ¥20 in scope
    lines[1].sku.product.category_id = 5
    assert offer(by_category, lines).line_discounts == [500, 500]
    by_product = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=300, scope=CouponScope.PRODUCTS, scope_ids=[9])
    assert offer(by_product, [line(2000)]).refusal == "订单中没有适用的商品"
    assert offer(by_product, [line(2000), line(1000, sku_id=9, product_id=9)]).line_discounts == [0, 300]


def test_member_prices_count_only_when_the_coupon_combines_with_them():
    lines = [line(2000, member_price=True)]
    alone = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=300)
    assert offer(alone, lines).refusal == "不与会员价同享"
    combined = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=300, with_member_prices=True)
    assert offer(combined, lines).discount_fen == 300
    assert "不与会员价同享" in rules.rule_notes(alone.template)
    assert "每单限用一张优惠券" in rules.rule_notes(alone.template)


def test_expired_not_yet_valid_used_and_audience_are_refused_with_a_reason():
    held = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=300)
    held.valid_until = NOW
    assert offer(held, [line(1000)]).refusal == "已过期"
    held.valid_until, held.valid_from = NOW + timedelta(days=1), NOW + timedelta(hours=1)
    assert "起可用" in offer(held, [line(1000)]).refusal
    held.valid_from, held.status = NOW, CouponStatus.USED
    assert not offer(held, [line(1000)]).applies
    held.status = CouponStatus.RETURNED  # given back: usable again
    assert offer(held, [line(1000)]).applies
    assert "社群成员" in offer(held, [line(1000)], audience=False).refusal


def test_best_is_the_largest_discount_then_the_first_to_expire():
    small = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=300)
    large = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=800)
    soon = coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=800)
    large.pk, soon.pk = 2, 3
    soon.valid_until = NOW + timedelta(hours=1)
    lines = [line(5000)]
    best = rules.best([offer(c, lines) for c in (small, large, soon)])
    assert best is not None
    assert best.coupon is soon


@given(
    totals=st.lists(st.tuples(st.integers(1, 100_000), st.integers(1, 20)), min_size=1, max_size=8),
    amount=st.integers(1, 3_000_000),
    percent=st.integers(1, 99),
    shipping=st.integers(0, 2000),
)
def test_the_split_sums_exactly_to_the_discount_and_never_exceeds_a_line(totals, amount, percent, shipping):
    lines = [line(price, quantity, sku_id=i, product_id=i) for i, (price, quantity) in enumerate(totals)]
    payable = sum(x.total_fen for x in lines) + shipping
    for held in (
        coupon(kind=CouponKind.NO_THRESHOLD, amount_fen=amount),
        coupon(kind=CouponKind.PERCENT, percent_off=percent),
        coupon(kind=CouponKind.FREE_ITEM, free_sku=Sku(pk=0, spec="1 斤", product=Product(title="苹果"))),
    ):
        found = offer(held, lines, payable=payable)
        assert found.applies
        assert sum(found.line_discounts) == found.discount_fen
        assert all(0 <= part <= x.total_fen for part, x in zip(found.line_discounts, lines, strict=True))
        assert payable - found.discount_fen >= 1
