"""Offers validation (API and console form), other shops' staff get 404, members open and join
through the API and see masked names; member and console pages render the team's state."""

import json

import pytest
from django.test import Client

from shequn.core.models import AuditLog
from shequn.teambuy import actions
from shequn.teambuy.models import Team, TeamMember, TeamOffer
from shequn.testing.factories import SkuFactory
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals
from shequn.testing.orders import auth_headers, make_sku

pytestmark = pytest.mark.django_db

OFFERS = "/api/v1/teambuy/console/offers"


def post_json(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def put_json(client, url, body, **headers):
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"team_size": 1}, "team_size", "成团人数应为 2 到 10 人"),
        ({"team_size": 11}, "team_size", "成团人数应为 2 到 10 人"),
        ({"team_price_fen": 0}, "team_price_fen", "拼团价至少 ¥0.01"),
        ({"team_price_fen": 5990}, "team_price_fen", "拼团价应低于原价 ¥59.90"),
        ({"time_limit_hours": 0}, "time_limit_hours", "成团时限应为 1 到 72 小时"),
        ({"time_limit_hours": 73}, "time_limit_hours", "成团时限应为 1 到 72 小时"),
    ],
)
def test_offer_validation_through_the_api(shop, operator, sku, change, field, message):
    body = {"sku_id": sku.pk, "team_size": 3, "team_price_fen": 3990, "time_limit_hours": 24, **change}
    response = post_json(Client(), OFFERS, body, **auth_headers(operator, **{"X-Shop": shop.slug}))
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "invalid_team_offer"
    assert payload["details"]["fields"] == {field: message}
    assert TeamOffer.objects.count() == 0


def test_an_offer_on_another_shops_sku_is_refused(shop, other_shop, operator):
    foreign = make_sku(other_shop, price_fen=5000)
    body = {"sku_id": foreign.pk, "team_size": 2, "team_price_fen": 3000}
    response = post_json(Client(), OFFERS, body, **auth_headers(operator, **{"X-Shop": shop.slug}))
    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {"sku_id": "请选择本店在售的商品规格"}


def test_operator_creates_and_edits_an_offer_with_an_audit_trail(shop, operator, sku):
    headers = auth_headers(operator, **{"X-Shop": shop.slug})
    created = post_json(Client(), OFFERS, {"sku_id": sku.pk, "team_size": 3, "team_price_fen": 3990}, **headers)
    assert created.status_code == 201
    offer = created.json()
    assert (offer["title"], offer["team_size"], offer["team_price_fen"], offer["time_limit_hours"]) == (
        "千岛湖有机鱼头 " + sku.spec,
        3,
        3990,
        24,
    )
    edited = put_json(
        Client(),
        f"{OFFERS}/{offer['id']}",
        {"sku_id": sku.pk, "team_size": 5, "team_price_fen": 3500, "time_limit_hours": 48, "title": "鱼头5人团"},
        **headers,
    )
    assert edited.status_code == 200
    assert (edited.json()["team_size"], edited.json()["team_price_fen"], edited.json()["title"]) == (
        5,
        3500,
        "鱼头5人团",
    )
    assert list(AuditLog.objects.filter(shop=shop).order_by("pk").values_list("action", flat=True)) == [
        "teambuy.offer_create",
        "teambuy.offer_update",
    ]


def test_other_shops_staff_get_404_for_offers_and_teams(
    offer, destination, members, commit, other_shop, other_operator, other_console_client
):
    with commit():
        team = actions.do_open_team(members[0], offer.pk, destination).team
    headers = auth_headers(other_operator, **{"X-Shop": other_shop.slug})
    body = {"sku_id": offer.sku_id, "team_size": 3, "team_price_fen": 3000}
    assert Client().get(f"{OFFERS}/{offer.pk}", headers=headers).status_code == 404
    assert put_json(Client(), f"{OFFERS}/{offer.pk}", body, **headers).status_code == 404
    assert Client().get(f"/api/v1/teambuy/console/teams/{team.pk}", headers=headers).status_code == 404
    listed = Client().get("/api/v1/teambuy/console/teams", headers=headers).json()
    assert listed["count"] == 0
    assert other_console_client.get(f"/console/teambuy/{offer.pk}/").status_code == 404
    page = other_console_client.get("/console/teambuy/teams/")
    assert page.status_code == 200
    assert f'data-team-id="{team.pk}"' not in page.content.decode()
    offer.refresh_from_db()
    assert offer.team_size == 3


def test_members_open_and_join_through_the_api_and_see_masked_names(offer, pickup_point, members, commit):
    opener, joiner, *_ = members
    body = {"fulfilment": "pickup", "pickup_point_id": pickup_point.pk}
    with commit():
        opened = post_json(Client(), f"/api/v1/teambuy/offers/{offer.pk}/teams", body, **auth_headers(opener))
    assert opened.status_code == 201
    membership = opened.json()
    assert (membership["is_opener"], membership["status"], membership["order_total_fen"]) == (True, "pending", 3990)
    assert membership["pay_url"] == f"/api/v1/payments/orders/{membership['order_number']}/pay"
    team_id = membership["team_id"]
    joined = post_json(Client(), f"/api/v1/teambuy/teams/{team_id}/join", body, **auth_headers(joiner))
    assert joined.status_code == 201
    again = post_json(Client(), f"/api/v1/teambuy/teams/{team_id}/join", body, **auth_headers(joiner))
    assert (again.status_code, again.json()["code"]) == (409, "already_in_team")
    team = Client().get(f"/api/v1/teambuy/teams/{team_id}", headers=auth_headers(joiner)).json()
    assert (team["seats_taken"], team["seats_left"], team["status"]) == (2, 1, "forming")
    assert [(m["name"], m["is_opener"]) for m in team["members"]] == [("王**", True), ("李*", False)]
    mine = Client().get("/api/v1/teambuy/me/teams", headers=auth_headers(joiner)).json()
    assert [item["team_id"] for item in mine["items"]] == [team_id]
    open_list = Client().get(f"/api/v1/teambuy/offers/{offer.pk}/teams", headers=auth_headers(members[2])).json()
    assert [item["id"] for item in open_list] == [team_id]
    assert Client().get(f"/api/v1/teambuy/teams/{team_id}").status_code == 401


def test_a_full_team_refuses_a_join_with_409(offer, destination, pickup_point, members, commit):
    offer.team_size = 2
    offer.save()
    with commit():
        team = actions.do_open_team(members[0], offer.pk, destination).team
    actions.do_join_team(members[1], team.pk, destination)
    body = {"fulfilment": "pickup", "pickup_point_id": pickup_point.pk}
    refused = post_json(Client(), f"/api/v1/teambuy/teams/{team.pk}/join", body, **auth_headers(members[2]))
    assert (refused.status_code, refused.json()["code"]) == (409, "team_full")
    assert TeamMember.objects.filter(team=team).count() == 2


def test_console_form_shows_field_errors_and_creates_an_offer(shop, console_client, sku):
    other_goods = SkuFactory.create(product__shop=shop, price_fen=2000, stock=5)
    page = console_client.get("/console/teambuy/new/")
    assert page.status_code == 200
    assert f'value="{other_goods.pk}"' in page.content.decode()
    bad = console_client.post(
        "/console/teambuy/new/",
        {"sku": sku.pk, "team_size": "12", "team_price": "70.00", "time_limit_hours": "100", "is_active": "1"},
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    for message in ("成团人数应为 2 到 10 人", "拼团价应低于原价 ¥59.90", "成团时限应为 1 到 72 小时"):
        assert message in text
    good = console_client.post(
        "/console/teambuy/new/",
        {"sku": sku.pk, "team_size": "3", "team_price": "39.90", "time_limit_hours": "24", "is_active": "1"},
    )
    assert good.status_code == 302
    offer = TeamOffer.objects.get()
    assert (offer.team_size, offer.team_price_fen, offer.time_limit_hours, offer.is_active) == (3, 3990, 24, True)
    listing = console_client.get("/console/teambuy/").content.decode()
    assert "¥39.90" in listing
    assert "3 人" in listing


def test_member_pages_show_the_offer_the_team_and_my_teams(offer, destination, members, commit):
    opener, joiner, *_ = members
    with commit():
        team = actions.do_open_team(opener, offer.pk, destination).team
    client = Client()
    client.force_login(joiner)
    offer_page = client.get(f"/teambuy/offers/{offer.pk}/").content.decode()
    assert "¥39.90" in offer_page
    assert "3 人" in offer_page
    assert f'data-team-id="{team.pk}"' in offer_page
    assert "王** 的团 · 还差 2 人" in offer_page
    team_page = client.get(f"/teambuy/teams/{team.pk}/").content.decode()
    assert "王**（团长） · 待支付" in team_page
    assert 'data-testid="join-team"' in team_page
    assert f"http://testserver/teambuy/teams/{team.pk}/" in team_page
    joined = client.post(f"/teambuy/teams/{team.pk}/join/", {"where": f"pickup:{destination.pickup_point_id}"})
    member = TeamMember.objects.get(team=team, user=joiner)
    assert joined.status_code == 302
    assert joined["Location"] == f"/orders/{member.order.number}/"
    again = client.get(f"/teambuy/teams/{team.pk}/").content.decode()
    assert 'data-testid="my-status">待支付' in again
    assert 'data-testid="join-team"' not in again
    assert "成团后才会发货或备货" in again
    mine = client.get("/teambuy/mine/").content.decode()
    assert f'data-team-id="{team.pk}"' in mine
    assert "我参的团" in mine
    qr = client.get(f"/teambuy/teams/{team.pk}/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content
    assert Team.objects.get(pk=team.pk).seats_taken == 2


def test_out_of_range_ids_and_impossible_dates_are_answered_not_crashed(shop, console_client, sku):
    assert console_client.get("/console/teambuy/teams/?offer=99999999999999999999").status_code == 200
    bad = console_client.post(
        "/console/teambuy/new/",
        {"sku": "99999999999999999999", "team_size": "3", "team_price": "1", "time_limit_hours": "24"},
    )
    assert bad.status_code == 422
    assert "请选择本店在售的商品规格" in bad.content.decode()
    odd_date = console_client.post(
        "/console/teambuy/new/",
        {
            "sku": sku.pk,
            "team_size": "3",
            "team_price": "39.90",
            "time_limit_hours": "24",
            "starts_at": "2026-13-40T10:00",
        },
    )
    assert odd_date.status_code == 422
    assert "时间格式不正确" in odd_date.content.decode()
    assert TeamOffer.objects.count() == 0


def test_console_teams_list_each_teams_orders_and_holds_paid_ones_until_success(
    sandbox, offer, destination, members, commit, console_client
):
    from .conftest import pay

    with commit():
        first = actions.do_open_team(members[0], offer.pk, destination)
    pay(first.order, commit)
    joined = actions.do_join_team(members[1], first.team_id, destination)
    page = console_client.get("/console/teambuy/teams/?status=forming").content.decode()
    assert f'data-team-id="{first.team_id}"' in page
    assert f"{first.order.number}</a> 已支付（待成团，暂不发货）" in page
    assert f"{joined.order.number}</a> 待支付<br>" in page
    assert "2 / 1 / 3" in page


@pytest.mark.parametrize(("typed", "message"), yuan_refusals())
def test_a_team_price_that_cannot_be_read_is_an_error_beside_the_field(console_client, sku, typed, message):
    response = console_client.post(
        "/console/teambuy/new/",
        {"sku": sku.pk, "title": "鱼头团", "team_size": "3", "team_price": typed, "time_limit_hours": "24"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in beside_input(page, "team_price")
    assert keeps_typed_value(page, "team_price", typed)
    assert 'value="鱼头团"' in page
    assert not TeamOffer.objects.exists()


def test_a_team_price_in_yuan_is_saved_in_fen_and_shown_back(console_client, sku):
    response = console_client.post(
        "/console/teambuy/new/",
        {"sku": sku.pk, "team_size": "3", "team_price": "35.90", "time_limit_hours": "24", "is_active": "1"},
    )
    assert response.status_code == 302
    offer = TeamOffer.objects.get()
    assert offer.team_price_fen == 3590
    edit = console_client.get(f"/console/teambuy/{offer.pk}/").content.decode()
    assert keeps_typed_value(edit, "team_price", "35.90")
