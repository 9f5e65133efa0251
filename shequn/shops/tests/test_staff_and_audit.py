"""Staff writes: roles, the last owner, and an audit row for every write."""

import pytest
from django.test import Client

from shequn.core.models import AuditLog
from shequn.shops import actions as shop_actions
from shequn.shops.enums import StaffRole
from shequn.shops.models import PickupPoint, StaffMember
from shequn.testing.factories import PickupPointFactory, StaffFactory, UserFactory
from shequn.testing.money import beside_input, keeps_typed_value, yuan_refusals

pytestmark = pytest.mark.django_db


def member_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


IP = "203.0.113.7"


def _client(staff) -> Client:
    client = member_client(staff.user)
    client.defaults["REMOTE_ADDR"] = IP
    return client


def _last_audit(shop) -> AuditLog:
    return AuditLog.objects.filter(shop=shop).order_by("-id")[0]


def _assert_audit(entry, *, actor, shop, action, obj):
    assert entry is not None
    assert (entry.actor_id, entry.shop_id, entry.action) == (actor.pk, shop.pk, action)
    assert (entry.object_type, entry.object_id) == (obj._meta.label_lower, str(obj.pk))
    assert entry.ip == IP
    assert entry.created_at.utcoffset().total_seconds() == 0  # stored in UTC


def test_add_change_role_and_deactivate_are_audited():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    shop = owner.shop
    client = _client(owner)
    newcomer = UserFactory.create()
    response = client.post("/console/staff/add/", {"username": newcomer.username, "role": "service"})
    assert response.status_code == 302
    row = StaffMember.objects.get(shop=shop, user=newcomer)
    assert row.role == StaffRole.SERVICE
    _assert_audit(_last_audit(shop), actor=owner.user, shop=shop, action="staff.add", obj=row)

    client.post(f"/console/staff/{row.pk}/role/", {"role": "finance"})
    row.refresh_from_db()
    assert row.role == StaffRole.FINANCE
    entry = _last_audit(shop)
    _assert_audit(entry, actor=owner.user, shop=shop, action="staff.change_role", obj=row)
    assert entry.detail == {"old_role": "service", "new_role": "finance"}

    client.post(f"/console/staff/{row.pk}/deactivate/")
    row.refresh_from_db()
    assert not row.is_active
    _assert_audit(_last_audit(shop), actor=owner.user, shop=shop, action="staff.deactivate", obj=row)

    # Re-adding a deactivated account re-activates it with the new role.
    client.post("/console/staff/add/", {"username": newcomer.username, "role": "operator"})
    row.refresh_from_db()
    assert row.is_active
    assert row.role == StaffRole.OPERATOR


def test_add_unknown_or_existing_staff_is_explained():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    client = _client(owner)
    response = client.post("/console/staff/add/", {"username": "ghost", "role": "service"}, follow=True)
    assert "找不到该用户名" in response.content.decode()
    response = client.post("/console/staff/add/", {"username": owner.user.username, "role": "service"}, follow=True)
    assert "已经是本店员工" in response.content.decode()
    assert not AuditLog.objects.filter(shop=owner.shop).exists()


def test_last_owner_cannot_be_demoted_or_deactivated():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    client = _client(owner)
    response = client.post(f"/console/staff/{owner.pk}/role/", {"role": "admin"}, follow=True)
    assert "至少需要一位店主" in response.content.decode()
    response = client.post(f"/console/staff/{owner.pk}/deactivate/", follow=True)
    assert "至少需要一位店主" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == StaffRole.OWNER
    assert owner.is_active
    # With a second owner, the first may step down.
    second = StaffFactory.create(shop=owner.shop, role=StaffRole.OWNER)
    client.post(f"/console/staff/{owner.pk}/role/", {"role": "admin"})
    owner.refresh_from_db()
    assert owner.role == StaffRole.ADMIN
    second.refresh_from_db()
    assert second.role == StaffRole.OWNER


def test_last_owner_via_api_is_409():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    client = _client(owner)
    response = client.delete(f"/api/v1/shops/{owner.shop.pk}/staff/{owner.pk}")
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"


def test_admin_cannot_touch_ownership():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    admin = StaffFactory.create(shop=owner.shop, role=StaffRole.ADMIN)
    operator = StaffFactory.create(shop=owner.shop, role=StaffRole.OPERATOR)
    client = _client(admin)
    assert client.post(f"/console/staff/{operator.pk}/role/", {"role": "owner"}).status_code == 403
    assert client.post(f"/console/staff/{owner.pk}/role/", {"role": "operator"}).status_code == 403
    assert client.post(f"/console/staff/{owner.pk}/deactivate/").status_code == 403
    # But an admin manages everyone else.
    client.post(f"/console/staff/{operator.pk}/role/", {"role": "service"})
    operator.refresh_from_db()
    assert operator.role == StaffRole.SERVICE


def test_invalid_role_is_refused():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    operator = StaffFactory.create(shop=owner.shop, role=StaffRole.OPERATOR)
    response = _client(owner).patch(
        f"/api/v1/shops/{owner.shop.pk}/staff/{operator.pk}", {"role": "god"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_role"


def test_pickup_point_writes_are_audited_and_validated():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    shop = owner.shop
    client = _client(owner)
    bad = client.post("/console/pickup-points/", {"name": "", "address": ""})
    assert bad.status_code == 422
    assert "请填写自提点名称" in bad.content.decode()
    client.post(
        "/console/pickup-points/",
        {"name": "张江店", "address": "张江路 1 号", "opening_hours": "9-21", "contact_phone": "021-12345678"},
    )
    point = PickupPoint.objects.get(shop=shop)
    _assert_audit(_last_audit(shop), actor=owner.user, shop=shop, action="pickup_point.create", obj=point)
    client.post(f"/console/pickup-points/{point.pk}/", {"name": "张江旗舰店", "address": "张江路 1 号"})
    point.refresh_from_db()
    assert point.name == "张江旗舰店"
    entry = _last_audit(shop)
    _assert_audit(entry, actor=owner.user, shop=shop, action="pickup_point.update", obj=point)
    assert entry.detail["changes"]["name"] == ["张江店", "张江旗舰店"]
    client.post(f"/console/pickup-points/{point.pk}/active/", {"active": "0"})
    point.refresh_from_db()
    assert not point.is_active
    _assert_audit(_last_audit(shop), actor=owner.user, shop=shop, action="pickup_point.deactivate", obj=point)


def test_shop_settings_are_validated_and_audited():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    shop = owner.shop
    client = _client(owner)
    bad = client.post(
        "/console/settings/",
        {"unpaid_timeout_minutes": "1", "shipping_fee_yuan": "8", "free_shipping_threshold_yuan": "99"},
    )
    assert bad.status_code == 422
    assert "5–1440" in bad.content.decode()
    bad = client.post(
        "/console/settings/",
        {"unpaid_timeout_minutes": "30", "shipping_fee_yuan": "8.999", "free_shipping_threshold_yuan": "99"},
    )
    assert bad.status_code == 422
    assert "最多两位小数" in bad.content.decode()
    response = client.post(
        "/console/settings/",
        {"unpaid_timeout_minutes": "45", "shipping_fee_yuan": "8.50", "free_shipping_threshold_yuan": "0"},
    )
    assert response.status_code == 302
    shop.refresh_from_db()
    assert (shop.unpaid_timeout_minutes, shop.shipping_fee_fen, shop.free_shipping_threshold_fen) == (45, 850, 0)
    assert shop.cod_enabled is False  # the box was not ticked
    entry = _last_audit(shop)
    _assert_audit(entry, actor=owner.user, shop=shop, action="shop.update_settings", obj=shop)
    assert entry.detail["changes"]["unpaid_timeout_minutes"] == [30, 45]


def test_audit_page_filters_and_paginates():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    finance = StaffFactory.create(shop=owner.shop, role=StaffRole.FINANCE)
    client = _client(owner)
    for n in range(3):
        client.post("/console/pickup-points/", {"name": f"点{n}", "address": "某路"})
    point = PickupPoint.objects.filter(shop=owner.shop).order_by("id")[0]
    client.post(f"/console/pickup-points/{point.pk}/active/", {"active": "0"})
    page = _client(finance).get("/console/audit/?action=pickup_point.deactivate").content.decode()
    assert page.count("<code>pickup_point.deactivate</code>") == 1
    assert "<code>pickup_point.create</code>" not in page
    page = _client(finance).get(f"/console/audit/?actor={finance.user.pk}").content.decode()
    assert "暂无操作记录" in page
    api = _client(finance).get(f"/api/v1/shops/{owner.shop.pk}/audit?page_size=2").json()
    assert api["count"] == 4
    assert len(api["items"]) == 2
    assert api["items"][0]["action"] == "pickup_point.deactivate"
    assert api["items"][0]["ip"] == IP
    assert api["items"][0]["actor_name"] == owner.user.display_name


def test_api_staff_management_and_public_pickup_points():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    shop = owner.shop
    client = _client(owner)
    newcomer = UserFactory.create()
    response = client.post(
        f"/api/v1/shops/{shop.pk}/staff",
        {"username": newcomer.username, "role": "service"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["role_label"] == "客服"
    staff_id = response.json()["id"]
    response = client.patch(
        f"/api/v1/shops/{shop.pk}/staff/{staff_id}", {"role": "finance"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "finance"
    listed = client.get(f"/api/v1/shops/{shop.pk}/staff").json()
    assert listed["count"] == 2
    assert AuditLog.objects.filter(shop=shop, action__startswith="staff.").count() == 2
    # Public pickup points: only active ones, no login needed.
    PickupPointFactory.create(shop=shop, name="开着的")
    PickupPointFactory.create(shop=shop, name="关了的", is_active=False)
    points = Client().get(f"/api/v1/shops/{shop.slug}/pickup-points").json()
    assert [p["name"] for p in points] == ["开着的"]
    assert Client().get("/api/v1/shops/no-such-shop/pickup-points").status_code == 404
    mine = client.get("/api/v1/shops/mine").json()
    assert mine == [{"id": shop.pk, "name": shop.name, "slug": shop.slug, "role": "owner"}]


def test_api_roles_without_permission_get_403():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    service = StaffFactory.create(shop=owner.shop, role=StaffRole.SERVICE)
    client = _client(service)
    assert client.get(f"/api/v1/shops/{owner.shop.pk}/staff").status_code == 403
    assert client.get(f"/api/v1/shops/{owner.shop.pk}/audit").status_code == 403
    assert Client().get(f"/api/v1/shops/{owner.shop.pk}/staff").status_code == 401


def test_owner_creates_a_new_staff_account_who_can_then_sign_in():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    client = _client(owner)
    short = client.post(
        "/console/staff/add/", {"username": "xiaoli", "role": "service", "new_password": "short"}, follow=True
    )
    assert "初始密码至少 8 位" in short.content.decode()
    response = client.post(
        "/console/staff/add/", {"username": "xiaoli", "role": "service", "new_password": "fish-farm-2026"}
    )
    assert response.status_code == 302
    row = StaffMember.objects.get(shop=owner.shop, user__username="xiaoli")
    assert row.role == StaffRole.SERVICE
    entry = _last_audit(owner.shop)
    _assert_audit(entry, actor=owner.user, shop=owner.shop, action="staff.add", obj=row)
    assert entry.detail["created_account"] is True
    login = Client().post("/console/login/", {"username": "xiaoli", "password": "fish-farm-2026"})
    assert login.status_code == 302


def test_adding_an_existing_account_never_changes_its_password():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    member = UserFactory.create()
    _client(owner).post(
        "/console/staff/add/", {"username": member.username, "role": "service", "new_password": "takeover-123"}
    )
    member.refresh_from_db()
    assert not member.check_password("takeover-123")
    assert StaffMember.objects.filter(shop=owner.shop, user=member).exists()


@pytest.mark.parametrize(
    ("field", "max_fen"),
    [
        ("shipping_fee_yuan", shop_actions.MAX_SHIPPING_FEE_FEN),
        ("free_shipping_threshold_yuan", shop_actions.MAX_FREE_SHIPPING_THRESHOLD_FEN),
    ],
)
def test_a_shipping_amount_that_cannot_be_read_is_an_error_beside_the_field(field, max_fen):
    owner = StaffFactory.create(role=StaffRole.OWNER)
    client = _client(owner)
    form = {"unpaid_timeout_minutes": "45", "shipping_fee_yuan": "8", "free_shipping_threshold_yuan": "99"}
    for typed, message in yuan_refusals(max_fen=max_fen):
        response = client.post("/console/settings/", {**form, field: typed})
        assert response.status_code == 422, typed
        html = response.content.decode()
        assert message in beside_input(html, field), typed
        assert keeps_typed_value(html, field, typed)
        assert keeps_typed_value(html, "unpaid_timeout_minutes", "45")
    owner.shop.refresh_from_db()
    assert owner.shop.unpaid_timeout_minutes != 45


def test_shipping_amounts_in_yuan_are_saved_in_fen_and_shown_back():
    owner = StaffFactory.create(role=StaffRole.OWNER)
    client = _client(owner)
    form = {"unpaid_timeout_minutes": "45", "shipping_fee_yuan": "¥8.5", "free_shipping_threshold_yuan": "35.90"}
    assert client.post("/console/settings/", form).status_code == 302
    owner.shop.refresh_from_db()
    assert (owner.shop.shipping_fee_fen, owner.shop.free_shipping_threshold_fen) == (850, 3590)
    html = client.get("/console/settings/").content.decode()
    assert keeps_typed_value(html, "shipping_fee_yuan", "8.50")
    assert keeps_typed_value(html, "free_shipping_threshold_yuan", "35.90")
