"""Addresses: CRUD, exactly one default, region chain validation, members see only their own."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from shequn.accounts.actions import AddressInput, do_create_address, do_delete_address, do_set_default_address
from shequn.accounts.models import Address
from shequn.core.errors import InvalidInput, NotFound
from shequn.testing.accounts import bearer, member_client
from shequn.testing.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

VALID = {
    "recipient": "王小明",
    "phone": "139 1234 5678",
    "province_code": "310000",
    "city_code": "310100",
    "district_code": "310115",
    "detail": "张江路 100 弄 5 号 601",
}


def _data(**changes) -> AddressInput:
    return AddressInput(**{**VALID, **changes})


def _defaults(user) -> list[int]:
    return list(Address.objects.filter(user=user, is_default=True).values_list("pk", flat=True))


def test_first_address_becomes_default_and_names_come_from_the_data():
    user = UserFactory.create()
    address = do_create_address(user, _data())
    assert address.is_default
    assert (address.province, address.city, address.district) == ("上海市", "上海市", "浦东新区")
    assert address.phone == "13912345678"


def test_exactly_one_default_through_create_set_and_delete():
    user = UserFactory.create()
    first = do_create_address(user, _data())
    second = do_create_address(user, _data(detail="世纪大道 1 号"))
    assert _defaults(user) == [first.pk]
    third = do_create_address(user, _data(detail="陆家嘴环路 2 号", is_default=True))
    assert _defaults(user) == [third.pk]
    do_set_default_address(user, second.pk)
    assert _defaults(user) == [second.pk]
    do_delete_address(user, second.pk)
    assert len(_defaults(user)) == 1  # the newest remaining address took over
    assert _defaults(user) == [third.pk]
    do_delete_address(user, third.pk)
    do_delete_address(user, first.pk)
    assert not Address.objects.filter(user=user).exists()


def test_database_rejects_two_defaults():
    user = UserFactory.create()
    AddressFactory.create(user=user, is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        AddressFactory.create(user=user, is_default=True)


def test_validation_messages_are_per_field():
    user = UserFactory.create()
    with pytest.raises(InvalidInput) as error:
        do_create_address(user, _data(recipient=" ", phone="123", detail="", district_code=""))
    fields = error.value.details["fields"]
    assert fields["recipient"] == "请填写收货人"
    assert fields["phone"] == "请输入正确的 11 位手机号"
    assert "详细地址" in fields["detail"]
    assert fields["district_code"] == "请选择区/县"
    assert not Address.objects.exists()


def test_city_without_districts_needs_none():
    user = UserFactory.create()
    address = do_create_address(user, _data(province_code="440000", city_code="441900", district_code=""))
    assert (address.city, address.district, address.district_code) == ("东莞市", "", "")


def test_another_members_address_is_not_found():
    owner, other = UserFactory.create(), UserFactory.create()
    address = AddressFactory.create(user=owner)
    with pytest.raises(NotFound):
        do_set_default_address(other, address.pk)
    with pytest.raises(NotFound):
        do_delete_address(other, address.pk)
    assert Address.objects.filter(pk=address.pk).exists()


# --- API ---------------------------------------------------------------------------------------------


def test_api_crud():
    user = UserFactory.create()
    headers = bearer(user)
    client = Client()
    created = client.post("/api/v1/accounts/addresses", VALID, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["district"] == "浦东新区"
    assert body["is_default"] is True
    assert body["phone"] == "13912345678"
    address_id = body["id"]
    updated = client.put(
        f"/api/v1/accounts/addresses/{address_id}",
        {**VALID, "province_code": "110000", "city_code": "110100", "district_code": "110108"},
        content_type="application/json",
        headers=headers,
    )
    assert updated.status_code == 200
    assert updated.json()["district"] == "海淀区"
    listed = client.get("/api/v1/accounts/addresses", headers=headers).json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == address_id
    assert client.delete(f"/api/v1/accounts/addresses/{address_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/accounts/addresses/{address_id}", headers=headers).status_code == 404


def test_api_rejects_bad_region_chain_with_field_errors():
    user = UserFactory.create()
    response = Client().post(
        "/api/v1/accounts/addresses",
        {**VALID, "city_code": "110100"},
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(user)["Authorization"],
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_address"
    assert body["details"]["fields"] == {"city_code": "请选择所在城市"}


def test_api_other_members_address_is_404_everywhere():
    owner, other = UserFactory.create(), UserFactory.create()
    address = AddressFactory.create(user=owner)
    client = Client()
    headers = bearer(other)
    url = f"/api/v1/accounts/addresses/{address.pk}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.put(url, VALID, content_type="application/json", headers=headers).status_code == 404
    assert client.post(f"{url}/default", headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    assert client.get("/api/v1/accounts/addresses", headers=headers).json()["count"] == 0
    assert Address.objects.get(pk=address.pk).detail == address.detail


def test_api_requires_authentication():
    assert Client().get("/api/v1/accounts/addresses").status_code == 401


# --- pages --------------------------------------------------------------------------------------------


def test_pages_create_edit_set_default_delete():
    user = UserFactory.create()
    client = member_client(user)
    empty = client.get("/me/addresses/")
    assert empty.status_code == 200
    assert "还没有收货地址" in empty.content.decode()
    form = client.get("/me/addresses/new/")
    assert form.status_code == 200
    assert "请选择省份" in form.content.decode()
    response = client.post("/me/addresses/new/", VALID)
    assert response.status_code == 302
    assert response["Location"] == "/me/addresses/"
    first = Address.objects.get(user=user)
    response = client.post("/me/addresses/new/?next=/checkout/", {**VALID, "detail": "世纪大道 1 号"})
    assert response.status_code == 302
    assert response["Location"] == "/checkout/"
    second = Address.objects.exclude(pk=first.pk).get(user=user)
    assert client.get(f"/me/addresses/{first.pk}/").status_code == 200
    response = client.post(f"/me/addresses/{first.pk}/", {**VALID, "recipient": "李雷"})
    assert response.status_code == 302
    assert Address.objects.get(pk=first.pk).recipient == "李雷"
    client.post(f"/me/addresses/{second.pk}/default/")
    assert _defaults(user) == [second.pk]
    client.post(f"/me/addresses/{second.pk}/delete/")
    assert _defaults(user) == [first.pk]
    listing = client.get("/me/addresses/").content.decode()
    assert "李雷" in listing
    assert "默认" in listing


def test_page_shows_validation_errors_and_keeps_input():
    user = UserFactory.create()
    client = member_client(user)
    response = client.post("/me/addresses/new/", {**VALID, "district_code": "110101", "recipient": "韩梅梅"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "请选择区/县" in html
    assert "韩梅梅" in html
    assert "浦东新区" in html
    assert not Address.objects.exists()


def test_page_refuses_offsite_next():
    client = member_client(UserFactory.create())
    response = client.post("/me/addresses/new/?next=https://evil.example/", VALID)
    assert response["Location"] == "/me/addresses/"


def test_pages_other_members_address_is_404():
    owner, other = UserFactory.create(), UserFactory.create()
    address = AddressFactory.create(user=owner)
    client = member_client(other)
    assert client.get(f"/me/addresses/{address.pk}/").status_code == 404
    assert client.post(f"/me/addresses/{address.pk}/", VALID).status_code == 404
    assert client.post(f"/me/addresses/{address.pk}/default/").status_code == 404
    assert client.post(f"/me/addresses/{address.pk}/delete/").status_code == 404
    assert Address.objects.filter(pk=address.pk).exists()
    assert address.detail not in client.get("/me/addresses/").content.decode()


def test_pages_need_sign_in():
    response = Client().get("/me/addresses/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_region_text_says_a_municipality_once():
    address = AddressFactory.build()
    assert address.region_text == "上海市 浦东新区"
    assert str(address) == "上海市浦东新区张江路 100 弄 5 号 601"
    address.province, address.city, address.district = "广东省", "东莞市", ""
    assert address.region_text == "广东省 东莞市"
