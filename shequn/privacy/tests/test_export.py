"""A member downloads their data (PIPL): JSON or a zip of CSVs, theirs only, in a fixed number of statements."""

import csv
import io
import json
import zipfile

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequn.notifications.actions import notify
from shequn.privacy.enums import RequestKind, RequestOutcome
from shequn.privacy.models import DataRequest
from shequn.testing.accounts import bearer, member_client
from shequn.testing.orders import make_shop, make_sku, paid_order

from .helpers import delivered_order, join_and_post, person, promotions

pytestmark = pytest.mark.django_db

ME = ("林晓雨", "13700001111", "林晓雨", "滨江路 8 号 1201")
OTHER = ("赵铁柱", "13800002222", "赵铁柱", "解放路 99 号 303")


@pytest.fixture
def world():
    shop = make_shop(name="鲜果铺", slug="fruit")
    sku = make_sku(shop, title="阳山水蜜桃", price_fen=3990)
    me = person(*ME)
    other = person(*OTHER)
    mine = [delivered_order(me, sku, 2), paid_order(me, sku, 1)]
    theirs = paid_order(other, sku, 3)
    join_and_post(me, shop, community_name="吃货群", thread_title="求推荐桃子")
    join_and_post(other, shop, community_name="邻居群", thread_title="别人的帖子")
    notify(me, shop=shop, kind="test", title="给我的消息")
    notify(other, shop=shop, kind="test", title="给别人的消息")
    return {"shop": shop, "sku": sku, "me": me, "other": other, "mine": mine, "theirs": theirs}


def _zip_tables(content: bytes) -> dict[str, list[dict[str, str]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    tables = {}
    for name in archive.namelist():
        if name.endswith(".csv"):
            text = archive.read(name).decode("utf-8-sig")
            tables[name.removesuffix(".csv")] = list(csv.DictReader(io.StringIO(text)))
    return tables


def test_the_json_export_holds_the_members_orders_addresses_and_communities_and_nobody_elses(world):
    response = Client().get("/api/v1/me/export?format=json", headers=bearer(world["me"]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    tables = json.loads(response.content)["tables"]
    assert tables["profile"][0]["nickname"] == "林晓雨"
    assert tables["profile"][0]["phone"] == "13700001111"
    assert [row["recipient"] for row in tables["addresses"]] == ["林晓雨"]
    assert sorted(row["number"] for row in tables["orders"]) == sorted(order.number for order in world["mine"])
    assert {row["recipient_phone"] for row in tables["orders"]} == {"13700001111"}
    assert sorted((row["order__number"], row["quantity"]) for row in tables["order_lines"]) == sorted(
        (order.number, order.lines.get().quantity) for order in world["mine"]
    )
    assert [row["order__number"] for row in tables["payments"]] == [world["mine"][0].number]
    assert [row["community__name"] for row in tables["community_memberships"]] == ["吃货群"]
    assert [row["title"] for row in tables["board_threads"]] == ["求推荐桃子"]
    assert "给我的消息" in [row["title"] for row in tables["messages"]]
    # Isolation: nothing of the other member, in any table.
    text = response.content.decode()
    for leak in ("赵铁柱", "13800002222", "解放路", world["theirs"].number, "邻居群", "别人的帖子", "给别人的消息"):
        assert leak not in text


def test_the_csv_export_is_a_zip_of_well_formed_csvs_with_the_same_rows(world):
    client = member_client(world["me"])

    response = client.get("/me/data/export/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    tables = _zip_tables(response.content)
    assert {"profile", "addresses", "orders", "order_lines", "payments", "refunds", "community_memberships"} <= set(
        tables
    )
    assert sorted(row["number"] for row in tables["orders"]) == sorted(order.number for order in world["mine"])
    assert tables["addresses"][0]["detail"] == "滨江路 8 号 1201"
    assert tables["orders"][0]["total_fen"].isdigit()
    # An empty table still carries its header, so it says what it would hold.
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.read("refunds.csv").decode("utf-8-sig").startswith("number,order__number,")
    assert "赵铁柱" not in b"".join(archive.read(name) for name in archive.namelist()).decode()


def test_each_export_is_logged_for_the_shops_concerned(world):
    Client().get("/api/v1/me/export?format=csv", headers=bearer(world["me"]))

    row = DataRequest.objects.get(user=world["me"])
    assert (row.kind, row.outcome, row.export_format) == (RequestKind.EXPORT, RequestOutcome.DONE, "csv")
    assert row.member_masked == "137****1111"
    assert list(row.shops.all()) == [world["shop"]]


def test_an_unknown_format_is_a_422_and_signed_out_is_a_401(world):
    response = Client().get("/api/v1/me/export?format=xml", headers=bearer(world["me"]))
    assert response.status_code == 422
    assert Client().get("/api/v1/me/export?format=json").status_code == 401
    assert not DataRequest.objects.exists()


def _export_statements(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/me/data/export/?format=json")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_export_makes_the_same_statements_for_two_orders_or_twenty(world):
    client = member_client(world["me"])
    small = _export_statements(client)

    for n in range(18):
        paid_order(world["me"], world["sku"], 1)
        notify(world["me"], shop=world["shop"], kind="test", title=f"消息 {n}")
    join_and_post(world["me"], world["shop"], community_name="第二个群", thread_title="再来一帖")

    large = _export_statements(client)
    assert len(json.loads(client.get("/me/data/export/?format=json").content)["tables"]["orders"]) == 20
    assert small == large
    # Pinned: the session and user, one statement per table (27), the shops concerned, the log row and its shops.
    assert large == 32, large


def test_the_export_holds_the_wechat_binding_and_subscribe_choices(world):
    from django.utils import timezone

    from shequn.notifications.models import SubscribeConsent
    from shequn.testing.wechat import bind_wechat

    openid = bind_wechat(world["me"], "me")
    SubscribeConsent.objects.create(user=world["me"], template="order_paid", accepted_at=timezone.now())

    tables = json.loads(member_client(world["me"]).get("/me/data/export/?format=json").content)["tables"]

    assert [row["openid"] for row in tables["wechat_bindings"]] == [openid]
    assert [row["template"] for row in tables["subscribe_consents"]] == ["order_paid"]


def test_the_export_holds_the_members_coupons_red_packets_and_lottery_entries_and_wins(world):
    mine = promotions(world["me"], world["shop"])
    promotions(world["other"], make_shop(name="别人的店", slug="theirs"))

    tables = json.loads(Client().get("/api/v1/me/export?format=json", headers=bearer(world["me"])).content)["tables"]

    assert [(row["template__name"], row["status"]) for row in tables["coupons"]] == [("满100减20", "claimed")]
    assert [(row["packet__title"], row["amount_fen"]) for row in tables["red_packet_grabs"]] == [("周末红包", 888)]
    assert [(row["lottery__title"], row["number"]) for row in tables["lottery_entries"]] == [("周年庆抽奖", 1)]
    assert [(row["prize__name"], row["status"]) for row in tables["lottery_wins"]] == [("一等奖 土鸡蛋", "won")]
    assert tables["lottery_spins"] == []
    assert ("鲜果铺", "spendable", 888) in [
        (row["shop__name"], row["kind"], row["balance_fen"]) for row in tables["wallet_accounts"]
    ]
    assert {row["lottery__shop__name"] for row in tables["lottery_wins"]} == {mine["lottery"].shop.name}
    assert "别人的店" not in json.dumps(tables, ensure_ascii=False)
