"""Gifts (送礼) of a package through the real order and payment flow (sandbox gateway): the buyer
pays and gets a claim link, a friend claims and redeems to their own address (which the buyer
never sees), unclaimed gifts are refunded after the claim time."""

from datetime import timedelta

import pytest

from shequn.catalog.models import Sku
from shequn.gifts import actions
from shequn.gifts.enums import GiftStatus
from shequn.gifts.errors import GiftNotClaimable, NotGiftable
from shequn.gifts.models import Gift
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.orders.models import Order
from shequn.packages import actions as package_actions
from shequn.packages import selectors as package_selectors
from shequn.packages.enums import Channel, PackageStatus
from shequn.packages.errors import PackageNotRedeemable
from shequn.testing.community import api_client
from shequn.testing.factories import AddressFactory, UserFactory
from shequn.testing.orders import make_member
from shequn.testing.two_shops import login

from .conftest import JSON, PRICE, pay

pytestmark = pytest.mark.django_db


def send(buyer, plan, commit, message="生日快乐"):
    gift = actions.do_buy(buyer, Sku.objects.get(product=plan.product).pk, payment_method="sandbox", message=message)
    assert gift.status == GiftStatus.AWAITING_PAYMENT
    pay(buyer, gift.order.number, commit)
    gift.refresh_from_db()
    return gift


def test_a_friend_claims_the_package_and_redeems_to_their_own_address(sandbox, commit, plan, member):
    gift = send(member, plan, commit)
    assert gift.status == GiftStatus.OPEN
    package = package_selectors.shop_packages(plan.shop).get(pk=gift.subject_id)
    assert (package.owner_id, package.status) == (member.pk, PackageStatus.GIFTING)
    # The buyer cannot use what they gave away, nor claim it themselves.
    with pytest.raises(PackageNotRedeemable):
        package_actions.redeem(
            member, package, portions=1, fulfilment=Fulfilment.DELIVERY, channel=Channel.MEMBER,
            address_id=member.addresses.first().pk,
        )  # fmt: skip
    with pytest.raises(GiftNotClaimable):
        actions.do_claim(member, gift.token)

    friend = UserFactory.create(nickname="小李")
    secret = AddressFactory.create(user=friend, detail="西湖区文三路 99 号 8 幢", recipient="李小姐")
    page = login(friend).get(f"/gifts/claim/{gift.token}/").content.decode()
    assert "生日快乐" in page
    assert "小龙虾 100 份套餐" in page
    claimed = login(friend).post(f"/gifts/claim/{gift.token}/")
    assert claimed["Location"] == f"/packages/mine/{package.pk}/"
    package.refresh_from_db()
    assert (package.owner_id, package.status, package.portions_left) == (friend.pk, PackageStatus.ACTIVE, 100)
    with pytest.raises(GiftNotClaimable):
        actions.do_claim(make_member(), gift.token)

    redeemed = login(friend).post(
        f"/packages/mine/{package.pk}/",
        {"portions": 2, "fulfilment": "delivery", "address": secret.pk, "buyer_note": ""},
    )
    assert redeemed.status_code == 302
    order = Order.objects.get(user=friend, payment_method=PaymentMethod.PREPAID)
    assert (order.user_id, order.address_detail, order.total_fen) == (friend.pk, secret.detail, 0)
    # The buyer's pages show the gift claimed by a masked name, never the address or the orders.
    sent = login(member).get("/gifts/").content.decode()
    assert "小*" in sent
    for private in (secret.detail, secret.recipient, order.number):
        assert private not in sent
    assert login(member).get(f"/packages/mine/{package.pk}/").status_code == 404
    assert login(member).get(f"/orders/{order.number}/").status_code == 404
    assert package_selectors.books_balance() == []


def test_an_unclaimed_gift_is_refunded_in_full_after_the_claim_time(sandbox, commit, plan, member, time_machine):
    gift = send(member, plan, commit)
    assert actions.refund_unclaimed() == 0
    time_machine.move_to(gift.claim_by + timedelta(seconds=1), tick=False)
    with pytest.raises(GiftNotClaimable):
        actions.do_claim(make_member(), gift.token)
    with commit():
        assert actions.refund_unclaimed() == 1
    assert actions.refund_unclaimed() == 0  # safe to run twice
    gift.refresh_from_db()
    assert gift.status == GiftStatus.REFUNDED
    package = package_selectors.shop_packages(plan.shop).get(pk=gift.subject_id)
    assert (package.status, package.portions_left, package.value_left_fen) == (PackageStatus.REFUNDED, 0, 0)
    line = package.order_line
    line.refresh_from_db()
    assert line.refunded_fen == PRICE
    assert package_selectors.books_balance() == []


def test_only_giftable_kinds_and_paid_gifts(sandbox, commit, plan, member, crayfish):
    with pytest.raises(NotGiftable):
        actions.do_buy(member, crayfish.pk, payment_method="sandbox")
    unpaid = actions.do_buy(member, Sku.objects.get(product=plan.product).pk, payment_method="sandbox")
    with pytest.raises(GiftNotClaimable):
        actions.do_claim(make_member(), unpaid.token)
    assert Gift.objects.filter(status=GiftStatus.AWAITING_PAYMENT).count() == 1
    assert login(make_member()).get("/gifts/claim/not-a-token/").status_code == 404


def test_a_buyer_sends_a_package_they_hold_and_an_unclaimed_one_comes_back_as_money(
    sandbox, commit, plan, member, time_machine
):
    from .conftest import buy

    package = buy(member, plan, commit)
    package_actions.redeem(
        member, package, portions=10, fulfilment=Fulfilment.DELIVERY, channel=Channel.MEMBER,
        address_id=member.addresses.first().pk,
    )  # fmt: skip
    sent = login(member).post(f"/packages/mine/{package.pk}/gift/", {"message": "剩下的给你"})
    assert sent["Location"] == "/gifts/"
    gift = Gift.objects.get(subject_id=package.pk)
    assert (gift.status, gift.sender_id, gift.message) == (GiftStatus.OPEN, member.pk, "剩下的给你")
    package.refresh_from_db()
    assert package.status == PackageStatus.GIFTING

    friend = UserFactory.create(nickname="阿强")
    actions.do_claim(friend, gift.token)
    package.refresh_from_db()
    assert (package.owner_id, package.status, package.portions_left) == (friend.pk, PackageStatus.ACTIVE, 90)
    # Received as a gift: not sent on (the money behind it is the buyer's).
    refused = api_client(friend).post(f"/api/v1/packages/mine/{package.pk}/gift", {}, content_type=JSON)
    assert (refused.status_code, refused.json()["code"]) == (409, "package_not_giftable")

    second = buy(member, plan, commit)
    made = api_client(member).post(f"/api/v1/packages/mine/{second.pk}/gift", {"message": "x"}, content_type=JSON)
    assert made.status_code == 201, made.content
    claim_by = Gift.objects.get(subject_id=second.pk).claim_by
    assert claim_by is not None
    time_machine.move_to(claim_by + timedelta(seconds=1), tick=False)
    with commit():
        assert actions.refund_unclaimed() == 1
    second.refresh_from_db()
    assert (second.status, second.portions_left) == (PackageStatus.REFUNDED, 0)
    assert second.order_line.refunded_fen == PRICE
    assert package_selectors.books_balance() == []
