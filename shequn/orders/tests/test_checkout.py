from datetime import timedelta

import pytest
from django.utils import timezone

from shequn.catalog.models import Sku
from shequn.content.models import Article
from shequn.notifications.models import Notification
from shequn.orders import actions
from shequn.orders.enums import Fulfilment, OrderStatus, PaymentMethod
from shequn.orders.errors import (
    AddressRequired,
    CartMixedShops,
    InvalidQuantity,
    NoteTooLong,
    PaymentMethodUnavailable,
    PickupPointRequired,
    ProductUnavailable,
    PurchaseCapExceeded,
    SoldOut,
)
from shequn.orders.models import CartItem, Order, PurchaseCounter
from shequn.orders.selectors import cart_groups
from shequn.testing.factories import (
    AddressFactory,
    CommunityFactory,
    MembershipFactory,
    PickupPointFactory,
    PostFactory,
    UserFactory,
)
from shequn.testing.orders import make_shop, make_sku, place_order

pytestmark = pytest.mark.django_db


def test_buy_now_reserves_stock_and_copies_the_address(member, sku):
    address = member.addresses.get()
    order = place_order(member, sku, 3, buyer_note="请放门口")

    sku.refresh_from_db()
    assert sku.stock == 7
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.items_total_fen == 3 * 3500
    assert order.shipping_fee_fen == 0  # 105.00 is above the 99.00 threshold
    assert order.total_fen == 10500
    assert (order.recipient, order.recipient_phone, order.address_detail) == (
        address.recipient,
        address.phone,
        address.detail,
    )
    assert order.buyer_note == "请放门口"
    line = order.lines.get()
    assert (line.title, line.spec, line.unit_price_fen, line.quantity) == (sku.product.title, sku.spec, 3500, 3)
    assert order.events.get().to_status == OrderStatus.PENDING_PAYMENT
    assert Notification.objects.filter(user=member, kind="order.created").count() == 1
    # A later edit of the address book does not change the order.
    address.detail = "别处"
    address.save()
    order.refresh_from_db()
    assert order.address_detail != "别处"


def test_order_number_is_a_valid_out_trade_no(member, sku):
    order = place_order(member, sku)
    assert 6 <= len(order.number) <= 32
    assert order.number.isdigit()


def test_expiry_follows_the_shop_timeout_and_cod_never_expires(member, sku):
    sku.shop.unpaid_timeout_minutes = 15
    sku.shop.save()
    before = timezone.now()
    online = place_order(member, sku)
    assert online.expires_at is not None
    assert before + timedelta(minutes=15) <= online.expires_at <= timezone.now() + timedelta(minutes=15)
    cod = place_order(member, sku, payment_method=PaymentMethod.COD)
    assert cod.expires_at is None


@pytest.mark.parametrize(
    ("threshold", "items_fen", "expected_fee"),
    [
        (9900, 9899, 1000),  # one fen below the threshold pays the fee
        (9900, 9900, 0),  # at the threshold it is free
        (9900, 15000, 0),
        (0, 100000, 1000),  # threshold 0 means never free
    ],
)
def test_shipping_fee_rule(member, threshold, items_fen, expected_fee):
    shop = make_shop(shipping_fee_fen=1000, free_shipping_threshold_fen=threshold)
    sku = make_sku(shop, price_fen=items_fen)
    order = place_order(member, sku)
    assert order.shipping_fee_fen == expected_fee
    assert order.total_fen == items_fen + expected_fee


def test_pickup_has_no_fee_and_needs_an_active_point_of_the_shop(member):
    shop = make_shop(shipping_fee_fen=1000, free_shipping_threshold_fen=0)
    sku = make_sku(shop, price_fen=1000)
    point = PickupPointFactory.create(shop=shop)
    order = actions.create_order(
        member,
        sku_id=sku.pk,
        fulfilment=Fulfilment.PICKUP,
        payment_method=PaymentMethod.SANDBOX,
        pickup_point_id=point.pk,
    )
    assert order.shipping_fee_fen == 0
    assert order.pickup_point == point
    assert order.recipient == ""

    foreign_point = PickupPointFactory.create()
    inactive_point = PickupPointFactory.create(shop=shop, is_active=False)
    for point_id in (foreign_point.pk, inactive_point.pk, None):
        with pytest.raises(PickupPointRequired):
            actions.create_order(
                member, sku_id=sku.pk, fulfilment="pickup", payment_method="sandbox", pickup_point_id=point_id
            )


def test_delivery_needs_the_members_own_address(member, sku):
    someone_else = AddressFactory.create()
    with pytest.raises(AddressRequired):
        actions.create_order(
            member, sku_id=sku.pk, fulfilment="delivery", payment_method="sandbox", address_id=someone_else.pk
        )
    with pytest.raises(AddressRequired):
        actions.create_order(member, sku_id=sku.pk, fulfilment="delivery", payment_method="sandbox")
    assert Order.objects.count() == 0


def test_member_price_applies_only_to_community_members(member):
    shop = make_shop(free_shipping_threshold_fen=0)
    sku = make_sku(shop, price_fen=3500)
    Sku.objects.filter(pk=sku.pk).update(member_price_fen=2900)
    sku.refresh_from_db()
    outsider_order = place_order(member, sku)
    assert outsider_order.lines.get().unit_price_fen == 3500

    MembershipFactory.create(user=member, community__shop=shop)
    member_order = place_order(member, sku, 2)
    assert member_order.lines.get().unit_price_fen == 2900
    assert member_order.items_total_fen == 5800

    # Membership of another shop's community does not count.
    other = make_shop()
    other_sku = make_sku(other, price_fen=3500)
    Sku.objects.filter(pk=other_sku.pk).update(member_price_fen=2000)
    assert place_order(member, other_sku).lines.get().unit_price_fen == 3500


def test_cod_only_when_the_shop_offers_it(member, sku):
    sku.shop.cod_enabled = False
    sku.shop.save()
    with pytest.raises(PaymentMethodUnavailable):
        place_order(member, sku, payment_method=PaymentMethod.COD)
    with pytest.raises(PaymentMethodUnavailable):
        place_order(member, sku, payment_method="bitcoin")


def test_note_limited_to_200_characters(member, sku):
    place_order(member, sku, buyer_note="好" * 200)
    with pytest.raises(NoteTooLong):
        place_order(member, sku, buyer_note="好" * 201)


def test_sold_out_names_the_product_and_rolls_back_the_whole_order(member, shop):
    plenty = make_sku(shop, stock=50)
    scarce = make_sku(shop, stock=1, title="帝王蟹")
    actions.add_to_cart(member, plenty.pk, 2)
    actions.add_to_cart(member, scarce.pk, 2)
    with pytest.raises(SoldOut) as error:
        actions.create_order(
            member, fulfilment="delivery", payment_method="sandbox", address_id=member.addresses.get().pk
        )
    assert "帝王蟹" in error.value.message
    assert error.value.code == "sold_out"
    plenty.refresh_from_db()
    scarce.refresh_from_db()
    assert (plenty.stock, scarce.stock) == (50, 1)
    assert Order.objects.count() == 0
    assert CartItem.objects.filter(user=member).count() == 2
    assert PurchaseCounter.objects.filter(user=member, quantity__gt=0).count() == 0


def test_stock_gone_after_checkout_rolls_back_the_rows_already_written(
    member, shop, django_capture_on_commit_callbacks
):
    # Stock is taken last in the order transaction: when it is gone by then (another buyer
    # took it after this checkout read it), the order, lines, event, message and counter
    # written before must all roll back, and the unpaid-close task must not be scheduled.
    sku = make_sku(shop, stock=2, per_person_cap=5)
    plan = actions.check_checkout(
        member,
        sku_id=sku.pk,
        quantity=2,
        fulfilment="delivery",
        payment_method="sandbox",
        address_id=member.addresses.get().pk,
    )
    Sku.objects.filter(pk=sku.pk).update(stock=1)
    with django_capture_on_commit_callbacks() as after_commit, pytest.raises(SoldOut):
        actions.do_create_order(plan)
    assert after_commit == []
    assert Sku.objects.get(pk=sku.pk).stock == 1
    assert Order.objects.count() == 0
    assert Notification.objects.filter(user=member).count() == 0
    assert PurchaseCounter.objects.filter(user=member, quantity__gt=0).count() == 0


def test_per_person_cap_holds_across_orders(member, shop):
    sku = make_sku(shop, stock=100, per_person_cap=3)
    place_order(member, sku, 2)
    with pytest.raises(PurchaseCapExceeded):
        place_order(member, sku, 2)
    place_order(member, sku, 1)
    with pytest.raises(PurchaseCapExceeded):
        place_order(member, sku, 1)
    # Two SKUs of the same product count together.
    second_spec = make_sku(shop, stock=100)
    Sku.objects.filter(pk=second_spec.pk).update(product=sku.product)
    with pytest.raises(PurchaseCapExceeded):
        place_order(member, Sku.objects.get(pk=second_spec.pk), 1)
    sku.refresh_from_db()
    assert sku.stock == 97
    # Another member has their own allowance.
    other = UserFactory.create()
    AddressFactory.create(user=other)
    place_order(other, sku, 3)


def test_cancelling_gives_the_cap_back(member, shop):
    sku = make_sku(shop, per_person_cap=2)
    order = place_order(member, sku, 2)
    with pytest.raises(PurchaseCapExceeded):
        place_order(member, sku, 1)
    actions.cancel_order_by_member(member, order.number)
    place_order(member, sku, 2)


def test_post_attribution(member, sku):
    post = PostFactory.create(community__shop=sku.shop)
    order = place_order(member, sku, post_id=post.pk)
    assert (order.post, order.community) == (post, post.community)
    foreign_post = PostFactory.create()
    order = place_order(member, sku, post_id=foreign_post.pk)
    assert order.post is None
    assert order.community is None


def _article(community, status="published"):
    return Article.objects.create(shop=community.shop, community=community, title="三文鱼怎么吃", status=status)


def test_article_attribution_buy_now_and_through_the_cart(member, sku):
    community = CommunityFactory.create(shop=sku.shop)
    article = _article(community)
    order = place_order(member, sku, article_id=article.pk)
    assert (order.article, order.community, order.post) == (article, community, None)
    actions.add_to_cart(member, sku.pk, 1, article_id=article.pk)
    from_cart = actions.create_order(
        member, fulfilment="delivery", payment_method="sandbox", address_id=member.addresses.get().pk
    )
    assert (from_cart.article, from_cart.community) == (article, community)


def test_foreign_and_unpublished_articles_are_not_recorded(member, sku):
    foreign = _article(CommunityFactory.create())
    draft = _article(CommunityFactory.create(shop=sku.shop), status="draft")
    for article in (foreign, draft):
        order = place_order(member, sku, article_id=article.pk)
        assert (order.article, order.community) == (None, None)


@pytest.mark.parametrize(
    "written",
    [
        "inside a transaction: alone",
        pytest.param("outside one: by group commit", marks=pytest.mark.django_db(transaction=True)),
    ],
)
def test_cart_checkout_removes_bought_lines_only(member, shop, written):
    first, second = make_sku(shop), make_sku(shop)
    post = PostFactory.create(community__shop=shop)
    item1 = actions.add_to_cart(member, first.pk, 1, post_id=post.pk)
    item2 = actions.add_to_cart(member, second.pk, 2)
    order = actions.create_order(
        member,
        cart_item_ids=[item1.pk],
        fulfilment="delivery",
        payment_method="sandbox",
        address_id=member.addresses.get().pk,
    )
    assert list(CartItem.objects.filter(user=member).values_list("pk", flat=True)) == [item2.pk]
    assert order.lines.get().sku == first
    assert order.post == post


def test_cart_validates_products_and_quantities(member, shop):
    sku = make_sku(shop)
    with pytest.raises(InvalidQuantity):
        actions.add_to_cart(member, sku.pk, 0)
    off_shelf = make_sku(shop, on_shelf=False)
    with pytest.raises(ProductUnavailable):
        actions.add_to_cart(member, off_shelf.pk, 1)
    inactive = make_sku(shop)
    Sku.objects.filter(pk=inactive.pk).update(is_active=False)
    with pytest.raises(ProductUnavailable):
        actions.add_to_cart(member, inactive.pk, 1)

    item = actions.add_to_cart(member, sku.pk, 1)
    again = actions.add_to_cart(member, sku.pk, 2)
    assert again.pk == item.pk
    assert again.quantity == 3
    assert actions.update_cart_item(member, item.pk, 5).quantity == 5
    with pytest.raises(InvalidQuantity):
        actions.update_cart_item(member, item.pk, 0)
    actions.remove_cart_item(member, item.pk)
    assert not CartItem.objects.filter(user=member).exists()


def test_product_taken_off_shelf_after_adding_cannot_be_bought(member, shop):
    sku = make_sku(shop)
    actions.add_to_cart(member, sku.pk, 1)
    sku.product.on_shelf = False
    sku.product.save()
    with pytest.raises(ProductUnavailable):
        actions.create_order(
            member, fulfilment="delivery", payment_method="sandbox", address_id=member.addresses.get().pk
        )


def test_cart_is_grouped_by_shop_and_checkout_refuses_mixed_shops(member):
    shop_a, shop_b = make_shop(), make_shop()
    actions.add_to_cart(member, make_sku(shop_a).pk, 1)
    actions.add_to_cart(member, make_sku(shop_a).pk, 1)
    actions.add_to_cart(member, make_sku(shop_b).pk, 1)
    groups = cart_groups(member)
    assert [(group.shop, len(group.items)) for group in groups] == [(shop_a, 2), (shop_b, 1)]
    with pytest.raises(CartMixedShops):
        actions.create_order(
            member, fulfilment="delivery", payment_method="sandbox", address_id=member.addresses.get().pk
        )
