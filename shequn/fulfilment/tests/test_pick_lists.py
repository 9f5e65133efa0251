"""Pick lists and the supplier summary: each leader sees exactly their members' lines, in the
page, the PDF (read back with pypdf), the CSV and the Excel file; operators see every point."""

import csv
import io

import openpyxl
import pypdf
import pytest

from shequn.fulfilment import selectors
from shequn.testing.accounts import member_client
from shequn.testing.orders import auth_headers

pytestmark = pytest.mark.django_db

FIRST_POINT = [(1, "王**", "有机鱼头", 2), (3, "李*", "有机鱼头", 1), (3, "李*", "基围虾", 1), (4, "张*", "基围虾", 2)]
SECOND_POINT = [(2, "赵*", "有机鱼头", 3)]


def rows_of(world, leader):
    return [(r.sequence, r.name, r.title, r.units) for r in selectors.pick_list(world.campaign, leader)]


def test_each_leaders_pick_list_has_exactly_their_members_lines(world):
    first, second = world.leaders
    assert rows_of(world, first) == FIRST_POINT
    assert rows_of(world, second) == SECOND_POINT


def leader_download(world, leader, fmt):
    response = member_client(leader.user).get(f"/leader/pick-lists/?campaign={world.campaign.pk}&format={fmt}")
    assert response.status_code == 200
    return response


def test_the_leader_pdf_csv_and_excel_hold_only_their_points_lines(world):
    first, second = world.leaders
    pdf = leader_download(world, first, "pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "拣货单" in text
    assert "翠苑自提点" in text
    for name in ("王**", "李*", "张*"):
        assert name in text
    assert "赵*" not in text
    assert "赵六" not in text
    assert "王小明" not in text

    raw = leader_download(world, first, "csv").content
    assert raw.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == ["序号", "成员", "商品", "规格", "数量"]
    assert [(int(r[0]), r[1], r[2], int(r[4])) for r in table[1:]] == FIRST_POINT

    book = openpyxl.load_workbook(io.BytesIO(leader_download(world, second, "xlsx").content))
    sheet = book.active
    values = [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(v[0], v[1], v[2], v[4]) for v in values] == SECOND_POINT


def test_the_leader_page_lists_their_lines_and_not_another_points(world):
    _first, second = world.leaders
    page = member_client(second.user).get(f"/leader/pick-lists/?campaign={world.campaign.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('data-testid="pick-row"') == 1
    assert "赵*" in body
    assert "王**" not in body


def test_a_member_who_is_not_a_leader_gets_404(world):
    member = world.sign_ups[0].user
    assert member_client(member).get(f"/leader/pick-lists/?campaign={world.campaign.pk}").status_code == 404
    response = member_client(member).get(f"/api/v1/fulfilment/leader/campaigns/{world.campaign.pk}/pick-list")
    assert response.status_code == 404
    assert response.json()["code"] == "leader_not_found"


def test_a_leader_of_a_campaign_they_are_not_in_gets_404(world, shop):
    from .conftest import make_leader

    outsider = make_leader(shop, "古荡")
    assert member_client(outsider.user).get(f"/leader/pick-lists/?campaign={world.campaign.pk}").status_code == 404


def test_operators_see_every_points_pick_list_and_the_supplier_summary(world, console_client, operator):
    first, second = world.leaders
    page = console_client.get(f"/console/fulfilment/campaigns/{world.campaign.pk}/leaders/{first.pk}/pick-list/")
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="pick-row"') == 4
    pdf = console_client.get(
        f"/console/fulfilment/campaigns/{world.campaign.pk}/leaders/{second.pk}/pick-list/?format=pdf"
    )
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "赵*" in text
    assert "王**" not in text

    summary = {r.title: (r.units, r.amount_fen, r.per_leader) for r in selectors.supplier_summary(world.shop)}
    assert summary == {
        "有机鱼头": (6, 6 * 3990, {first.pk: 3, second.pk: 3}),
        "基围虾": (3, 3 * 2990, {first.pk: 3}),
    }
    raw = console_client.get(f"/console/fulfilment/summary/?campaign={world.campaign.pk}&format=csv").content
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row[:4] for row in table[1:]] == [["基围虾", "500g", "3", "89.70"], ["有机鱼头", "1 个装", "6", "239.40"]]
    assert table[2][4] == "翠苑自提点 3；文一自提点 3"
    book = openpyxl.load_workbook(
        io.BytesIO(
            console_client.get(f"/console/fulfilment/summary/?date={world.campaign.pickup_date}&format=xlsx").content
        )
    )
    assert [row[:3] for row in book.active.iter_rows(min_row=2, values_only=True)] == [
        ("基围虾", "500g", 3),
        ("有机鱼头", "1 个装", 6),
    ]
    api = console_client.get(
        f"/api/v1/fulfilment/console/summary?campaign_id={world.campaign.pk}", headers={"X-Shop": "salmon"}
    )
    assert api.status_code == 200
    assert [(r["title"], r["units"]) for r in api.json()] == [("基围虾", 3), ("有机鱼头", 6)]
    api = console_client.get(
        f"/api/v1/fulfilment/console/campaigns/{world.campaign.pk}/leaders/{second.pk}/pick-list",
        headers=auth_headers(operator, HTTP_X_SHOP="salmon"),
    )
    assert [(r["sequence"], r["name"], r["units"]) for r in api.json()] == [(2, "赵*", 3)]


def test_other_shops_staff_get_404_for_summary_and_pick_lists(world, other_console_client, other_operator):
    first = world.leaders[0]
    for url in (
        f"/console/fulfilment/summary/?campaign={world.campaign.pk}",
        f"/console/fulfilment/campaigns/{world.campaign.pk}/leaders/{first.pk}/pick-list/",
        f"/console/fulfilment/campaigns/{world.campaign.pk}/leaders/{first.pk}/pick-list/?format=pdf",
    ):
        assert other_console_client.get(url).status_code == 404, url
    for url in (
        f"/api/v1/fulfilment/console/summary?campaign_id={world.campaign.pk}",
        f"/api/v1/fulfilment/console/campaigns/{world.campaign.pk}/leaders/{first.pk}/pick-list",
    ):
        response = other_console_client.get(url)
        assert response.status_code == 404, url
    # and naming the first shop in X-Shop does not help
    response = other_console_client.get(
        f"/api/v1/fulfilment/console/summary?campaign_id={world.campaign.pk}", headers={"X-Shop": "salmon"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "shop_not_found"
