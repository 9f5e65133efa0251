"""A member deletes their account (PIPL): confirmed by SMS, anonymised everywhere, records kept and
the shop's figures unchanged; refused, with what to do, while something still needs the member."""

import json

import pytest
from django.apps import apps
from django.db import models
from django.db.models import Count, Sum
from django.test import Client

from shequn.accounts.models import User
from shequn.board.models import Thread
from shequn.catalog.models import Sku
from shequn.lotteries.selectors import public_entries
from shequn.orders.actions import check_checkout, do_create_order, request_refund
from shequn.orders.errors import AccountInactive
from shequn.orders.models import Order, OrderLine
from shequn.payments.models import Payment
from shequn.privacy.actions import do_delete_account, do_send_deletion_code
from shequn.privacy.enums import RequestKind, RequestOutcome
from shequn.privacy.models import DataRequest
from shequn.redpackets.selectors import packet_view
from shequn.testing.accounts import bearer, member_client
from shequn.testing.factories import PickupPointFactory
from shequn.testing.orders import make_shop, make_sku, paid_order, place_order
from shequn.testing.storedvalue import make_plan, paid_top_up
from shequn.wallets import flows, ledger
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account

from .helpers import delivered_order, join_and_post, person, promotions

pytestmark = pytest.mark.django_db

PHONE = "13655557777"
NAME = "柳如烟"
STREET = "梧桐巷 17 号 402"


@pytest.fixture
def member():
    return person(NAME, PHONE, NAME, STREET)


@pytest.fixture
def shop_with_history(member):
    """A shop where the member bought (delivered), posted, joined a community and earned commission paid out."""
    shop = make_shop(name="好邻居", slug="neighbour")
    sku = make_sku(shop, title="土鸡蛋", price_fen=2800, stock=50)
    orders = [delivered_order(member, sku, 2), delivered_order(member, sku, 1)]
    someone_else = person("周大福", "13511112222", "周大福", "人民路 1 号")
    delivered_order(someone_else, sku, 4)
    join_and_post(member, shop, community_name="好邻居群", thread_title="鸡蛋很新鲜")
    flows.credit_available(shop, member, 1500, reference="test:commission")
    flows.pay_out_externally(shop, member, 1500, reference="test:payout")
    return {"shop": shop, "sku": sku, "orders": orders}


def rows_mentioning(text: str) -> list[str]:
    """Every row of every table whose text (or JSON) contains ``text``: where the person still lives."""
    found = []
    for model in apps.get_models():
        text_fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))
        ]
        json_fields = [f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
        for name in text_fields:
            hits = model._default_manager.filter(**{f"{name}__contains": text}).count()
            if hits:
                found.append(f"{model._meta.label}.{name} ×{hits}")
        for name in json_fields:
            for value in model._default_manager.values_list(name, flat=True):
                if text in json.dumps(value, ensure_ascii=False):
                    found.append(f"{model._meta.label}.{name}")
    return found


def shop_figures(shop, sku) -> dict:
    orders = Order.objects.filter(shop=shop).aggregate(
        count=Count("pk"), total=Sum("total_fen"), items=Sum("items_total_fen"), refunded=Sum("refunded_fen")
    )
    return {
        **orders,
        "lines": OrderLine.objects.filter(shop=shop).aggregate(total=Sum("total_fen"), units=Sum("quantity")),
        "payments": Payment.objects.filter(shop=shop).aggregate(total=Sum("amount_fen")),
        "stock": Sku.objects.get(pk=sku.pk).stock,
        "ledger": list(
            Account.objects.filter(shop=shop).order_by("pk").values_list("holder_id", "kind", "balance_fen")
        ),
    }


def delete_through_the_page(client: Client, sms_outbox, phone: str):
    response = client.post("/me/data/delete/code/")
    assert response.status_code == 200, response.content.decode()[:500]
    return client.post("/me/data/delete/", {"code": sms_outbox.last_code(phone)})


def test_deleting_anonymises_every_place_the_name_and_phone_lived_and_keeps_the_shops_books(
    member, shop_with_history, sms_outbox
):
    shop, sku = shop_with_history["shop"], shop_with_history["sku"]
    assert rows_mentioning(PHONE)
    assert rows_mentioning(NAME)
    figures_before = shop_figures(shop, sku)
    numbers = sorted(order.number for order in shop_with_history["orders"])
    client = member_client(member)
    token_headers = bearer(member)
    page = client.get("/me/data/")
    assert "注销后" in page.content.decode()
    assert "保留至少 3 年" in page.content.decode()

    response = delete_through_the_page(client, sms_outbox, PHONE)

    assert response.status_code == 302
    assert rows_mentioning(PHONE) == []
    assert rows_mentioning(NAME) == []
    assert rows_mentioning(STREET) == []
    # The records stay, tied to an account that no longer says who it was, and still add up.
    assert sorted(Order.objects.filter(user=member).values_list("number", flat=True)) == numbers
    assert shop_figures(shop, sku) == figures_before
    member.refresh_from_db()
    assert (member.is_active, member.phone, member.nickname) == (False, None, "已注销用户")
    assert Thread.objects.get(author=member).author.display_name == "已注销用户"
    assert member.addresses.count() == 0
    # Signed out everywhere: the page session and the API token.
    assert client.get("/me/").status_code == 302
    assert Client().get("/api/v1/accounts/me", headers=token_headers).status_code == 401
    log = DataRequest.objects.get(user=member, kind=RequestKind.DELETION)
    assert (log.outcome, log.member_masked) == (RequestOutcome.DONE, "136****7777")
    assert list(log.shops.all()) == [shop]


def test_the_phone_signs_up_anew_as_a_fresh_account_after_deletion(member, shop_with_history, sms_outbox):
    old_id = member.pk
    delete_through_the_page(member_client(member), sms_outbox, PHONE)
    client = Client()

    client.post("/api/v1/accounts/otp/send", {"phone": PHONE}, content_type="application/json")
    response = client.post(
        "/api/v1/accounts/otp/verify",
        {"phone": PHONE, "code": sms_outbox.last_code(PHONE)},
        content_type="application/json",
    )

    assert response.status_code == 200
    fresh = User.objects.get(phone=PHONE)
    assert fresh.pk != old_id
    assert fresh.is_active
    assert response.json()["user"]["id"] == fresh.pk
    # The new account starts empty: none of the old orders or addresses come back.
    assert Order.objects.filter(user=fresh).count() == 0
    assert fresh.addresses.count() == 0


def test_a_wrong_code_deletes_nothing(member, shop_with_history, sms_outbox):
    client = member_client(member)
    client.post("/me/data/delete/code/")
    wrong = "000000" if sms_outbox.last_code(PHONE) != "000000" else "111111"

    response = client.post("/me/data/delete/", {"code": wrong})

    assert response.status_code == 422
    assert "验证码错误" in response.content.decode()
    member.refresh_from_db()
    assert member.is_active
    assert member.phone == PHONE
    assert not DataRequest.objects.filter(kind=RequestKind.DELETION).exists()


def _blocker_codes(member) -> list[str]:
    response = Client().post("/api/v1/me/deletion/code", headers=bearer(member))
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "deletion_blocked"
    return [blocker["code"] for blocker in body["details"]["blockers"]]


def test_unpaid_and_undelivered_orders_block_the_deletion_and_the_refusal_is_logged(member, sms_outbox):
    sku = make_sku(make_shop())
    place_order(member, sku, 1)
    paid_order(member, sku, 1)

    assert _blocker_codes(member) == ["unpaid_orders", "undelivered_orders"]
    assert sms_outbox.outbox == []  # no code is texted for a deletion that cannot happen
    page = member_client(member).get("/me/data/").content.decode()
    assert "待付款订单，请先付款或取消订单" in page
    assert 'data-testid="send-deletion-code"' not in page

    response = Client().post(
        "/api/v1/me/deletion", {"code": "123456"}, content_type="application/json", headers=bearer(member)
    )

    assert response.status_code == 409
    refusal = DataRequest.objects.get(kind=RequestKind.DELETION)
    assert (refusal.outcome, refusal.note) == (RequestOutcome.REFUSED, "unpaid_orders,undelivered_orders")
    member.refresh_from_db()
    assert member.is_active
    assert member.phone == PHONE


def test_an_open_refund_blocks_the_deletion(member):
    order = delivered_order(member, make_sku(make_shop()), 1)
    line = order.lines.get()
    request_refund(member, order.number, line.pk, amount_fen=line.total_fen, reason="坏了")

    assert _blocker_codes(member) == ["open_refunds"]


def test_money_not_yet_withdrawn_blocks_the_deletion_and_says_what_to_do(member):
    flows.credit_available(make_shop(), member, 880, reference="test:commission")

    assert _blocker_codes(member) == ["wallet_balance"]
    check = Client().get("/api/v1/me/deletion", headers=bearer(member)).json()
    assert check["can_delete"] is False
    assert "¥8.80 未提现" in check["blockers"][0]["message"]
    assert "推广中心提现" in check["blockers"][0]["message"]


def test_stored_principal_blocks_the_deletion_and_the_bonus_would_be_forfeited(member):
    shop = make_shop()
    paid_top_up(member, make_plan(shop, principal_fen=10_000, bonus_fen=1_000))

    assert _blocker_codes(member) == ["stored_value"]
    check = Client().get("/api/v1/me/deletion", headers=bearer(member)).json()
    assert "储值本金 ¥100.00" in check["blockers"][0]["message"]
    assert check["forfeited_fen"] == 1_000


def test_a_non_withdrawable_balance_is_forfeited_to_the_shop_as_the_page_says(member, sms_outbox):
    shop = make_shop(name="好邻居", slug="neighbour")
    held = promotions(member, shop)
    client = member_client(member)
    page = client.get("/me/data/").content.decode()
    assert "你还有 ¥8.88 不可提现余额（店铺设为不可提现的红包、储值的赠送金额），注销后作废，退回给店铺。" in page
    check = Client().get("/api/v1/me/deletion", headers=bearer(member)).json()
    assert (check["can_delete"], check["forfeited_fen"]) == (True, 888)
    expense_before = ledger.balance(shop, AccountKind.PROMOTION_EXPENSE)

    assert delete_through_the_page(client, sms_outbox, PHONE).status_code == 302

    assert ledger.balance(shop, AccountKind.SPENDABLE, member) == 0
    assert ledger.balance(shop, AccountKind.PROMOTION_EXPENSE) == expense_before + 888
    for account in Account.objects.filter(shop=shop):
        assert account.balance_fen == ledger.entries_total(account.pk)
    # The red packet's grabs and the lottery's published entries name nobody any more, masked or not.
    assert rows_mentioning(NAME) == []
    assert [grab.name for grab in packet_view(held["packet"], member).grabs] == ["已****"]
    assert public_entries(held["lottery"]) == [{"number": 1, "name": "已****"}]


def test_the_api_deletes_the_account_and_its_token_stops_working(member, sms_outbox):
    headers = bearer(member)
    client = Client()
    assert client.get("/api/v1/me/deletion", headers=headers).json()["can_delete"] is True
    assert client.post("/api/v1/me/deletion/code", headers=headers).status_code == 200

    response = client.post(
        "/api/v1/me/deletion", {"code": sms_outbox.last_code(PHONE)}, content_type="application/json", headers=headers
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": True}
    assert client.get("/api/v1/me/deletion", headers=headers).status_code == 401
    assert rows_mentioning(PHONE) == []


def test_deleting_removes_the_wechat_binding_so_the_openid_signs_in_nobody(member, sms_outbox):
    from shequn.wechat.models import WechatBinding

    WechatBinding.objects.create(user=member, app_id="wx0123456789abcdef", openid="o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    delete_through_the_page(member_client(member), sms_outbox, PHONE)

    assert not WechatBinding.objects.filter(openid="o6_bmjrPTlm6_2sgVt7hMZOPfL2M").exists()
    assert rows_mentioning("o6_bmjrPTlm6_2sgVt7hMZOPfL2M") == []


def test_deleting_removes_subscribe_consents_and_the_copies_of_messages_sent_through_wechat(member, sms_outbox):
    from django.utils import timezone

    from shequn.notifications.models import SubscribeConsent, SubscribeMessage

    SubscribeConsent.objects.create(user=member, template="order_paid", accepted_at=timezone.now())
    SubscribeMessage.objects.create(user=member, template="order_paid", event_key="order.paid:test", title="订单已支付")
    delete_through_the_page(member_client(member), sms_outbox, PHONE)

    assert not SubscribeConsent.objects.filter(user=member).exists()
    assert not SubscribeMessage.objects.filter(user=member).exists()


def test_an_order_checked_out_before_the_deletion_is_refused_when_written_after_it(member, sms_outbox):
    """The checkout read the account while it was active; the account was deleted before the order
    was written: the write refuses it (the race's one order, proven on PostgreSQL in
    test_deletion_race_postgres)."""
    sku = make_sku(make_shop())
    plan = check_checkout(
        member, sku_id=sku.pk, fulfilment="pickup", payment_method="sandbox",
        pickup_point_id=PickupPointFactory.create(shop=sku.shop).pk,
    )  # fmt: skip
    do_send_deletion_code(member, ip=None)
    do_delete_account(member, sms_outbox.last_code(member.phone), ip=None)

    with pytest.raises(AccountInactive):
        do_create_order(plan)
    assert not Order.objects.filter(user=member).exists()
    sku.refresh_from_db()
    assert sku.stock == 100
