"""Onboarding and platform decisions: licence check digit, slug rules, apply → approve → shop,
reject with a reason, suspend / reinstate / close with an audit trail, figures and audit search."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from shequn.core.errors import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from shequn.core.models import AuditLog
from shequn.merchants import actions, licence, selectors
from shequn.merchants.enums import ApplicationStatus, BusinessSubject
from shequn.notifications.models import Notification
from shequn.orders import actions as order_actions
from shequn.orders.models import Order
from shequn.shops.enums import ShopCategory, ShopStatus, StaffRole
from shequn.shops.errors import ShopUnavailable
from shequn.shops.models import Shop, StaffMember
from shequn.testing.factories import UserFactory
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff, paid_order, place_order

pytestmark = pytest.mark.django_db

# The standard's own example (GB 32100-2015, annex) and a real one, both checked by hand:
# Σ(value × 3^i mod 31) over the first 17, then 31 minus the remainder.
VALID_CODES = ["91350100M000100Y43", "91110000600037341L"]


def application(**fields: str) -> actions.ApplicationInput:
    values = {
        "name": "小区鲜果铺",
        "slug": "xianguo",
        "category": ShopCategory.FRESH,
        "business_subject": BusinessSubject.COMPANY,
        "licence_number": VALID_CODES[0],
    }
    values.update(fields)
    return actions.ApplicationInput(**values)


@pytest.fixture
def platform_admin():
    return UserFactory(username="platform", is_staff=True)


@pytest.fixture
def applicant():
    return make_member(phone="13800138000")


# --- licence number ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_unified_social_credit_codes_pass(code):
    assert licence.licence_problem(code) is None


def test_the_check_character_is_computed_over_the_first_17():
    assert licence.check_character("91350100M000100Y4") == "3"
    assert licence.check_character("91110000600037341") == "L"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y44", "校验位不正确"),  # one character off in the check digit
        ("91350100M000100Y4", "应为 18 位"),
        ("91350100M00O100Y43", "不含 I、O"),  # the letter O is not in the alphabet
        ("9135A100M000100Y43", "行政区划码"),
    ],
)
def test_malformed_codes_are_refused_with_the_reason(code, problem):
    assert problem in (licence.licence_problem(code) or "")


def test_a_person_needs_no_licence_and_a_company_must_give_a_valid_one():
    assert actions.check_licence(BusinessSubject.INDIVIDUAL, "") == ""
    assert actions.check_licence(BusinessSubject.SOLE_PROPRIETOR, " 9135 0100m000100y43 ") == VALID_CODES[0]
    with pytest.raises(InvalidInput) as missing:
        actions.check_licence(BusinessSubject.COMPANY, "")
    assert missing.value.code == "licence_required"
    with pytest.raises(InvalidInput) as wrong:
        actions.check_licence(BusinessSubject.COMPANY, "91350100M000100Y44")
    assert wrong.value.code == "licence_invalid"


# --- slug -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("ab", "slug_length"),
        ("a" * 33, "slug_length"),
        ("1shop", "slug_invalid"),
        ("my_shop", "slug_invalid"),
        ("my--shop", "slug_invalid"),
        ("shop-", "slug_invalid"),
        ("小店", "slug_length"),
        ("admin", "slug_reserved"),
        ("platform", "slug_reserved"),
        ("Console", "slug_reserved"),
    ],
)
def test_bad_slugs_are_refused(slug, code):
    with pytest.raises(InvalidInput) as refused:
        actions.check_slug(slug)
    assert refused.value.code == code
    assert "slug" in refused.value.details["fields"]


def test_a_slug_is_lower_cased_and_must_be_free_of_shops_and_waiting_applications(applicant):
    assert actions.check_slug(" Fresh-Fruit-2 ") == "fresh-fruit-2"
    make_shop(slug="taken-shop")
    with pytest.raises(InvalidInput) as taken:
        actions.check_slug("taken-shop")
    assert taken.value.code == "slug_taken"
    actions.do_apply(applicant, application(slug="waiting"))
    with pytest.raises(InvalidInput):
        actions.check_slug("waiting")


# --- apply, approve, reject ----------------------------------------------------------------------------


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), "green").save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def test_apply_then_approve_opens_the_shop_with_the_applicant_as_owner(applicant, platform_admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    filed = actions.do_apply(applicant, application(), logo=_png())
    assert filed.status == ApplicationStatus.PENDING
    with Image.open(filed.logo.path) as logo:
        assert (logo.format, max(logo.size)) == ("JPEG", 400)  # resized like product thumbnails
    assert not Shop.objects.filter(slug="xianguo").exists()  # nothing opens before the platform says so

    actions.do_approve(platform_admin, filed.pk, ip="10.0.0.1")

    filed.refresh_from_db()
    shop = Shop.objects.get(slug="xianguo")
    assert (filed.status, filed.shop, filed.decided_by) == (ApplicationStatus.APPROVED, shop, platform_admin)
    assert (shop.name, shop.category, shop.status, shop.logo.name) == (
        "小区鲜果铺", ShopCategory.FRESH, ShopStatus.ACTIVE, filed.logo.name,
    )  # fmt: skip
    assert StaffMember.objects.get(shop=shop).user == applicant
    assert StaffMember.objects.get(shop=shop).role == StaffRole.OWNER
    assert Notification.objects.get(user=applicant, kind="merchant.approved").shop == shop
    assert AuditLog.objects.filter(shop=shop, action="merchant.approve", actor=platform_admin).exists()
    # The new shop sells at once.
    order = place_order(make_member(), make_sku(shop))
    assert order.shop == shop


def test_reject_needs_a_reason_which_the_applicant_reads_and_may_apply_again(applicant, platform_admin):
    filed = actions.do_apply(applicant, application())
    with pytest.raises(InvalidInput):
        actions.do_reject(platform_admin, filed.pk, reason="  ")
    actions.do_reject(platform_admin, filed.pk, reason="营业执照与店铺名称不符")
    filed.refresh_from_db()
    assert (filed.status, filed.reason) == (ApplicationStatus.REJECTED, "营业执照与店铺名称不符")
    message = Notification.objects.get(user=applicant, kind="merchant.rejected")
    assert "营业执照与店铺名称不符" in message.body
    with pytest.raises(InvalidTransition):
        actions.do_approve(platform_admin, filed.pk)
    again = actions.do_apply(applicant, application(name="小区鲜果铺（新）"))
    assert again.status == ApplicationStatus.PENDING


def test_one_waiting_application_per_person(applicant):
    actions.do_apply(applicant, application())
    with pytest.raises(Conflict):
        actions.do_apply(applicant, application(slug="another"))


def test_only_platform_staff_decide(applicant):
    filed = actions.do_apply(applicant, application())
    shop = make_shop()
    owner = make_staff(shop, role=StaffRole.OWNER)
    for outsider in (owner, applicant):
        with pytest.raises(PermissionDenied):
            actions.do_approve(outsider, filed.pk)
        with pytest.raises(PermissionDenied):
            actions.do_change_shop_status(outsider, shop.pk, "suspend", reason="测试")
    actions.do_approve(UserFactory(is_superuser=True), filed.pk)  # a superuser is platform staff too


# --- suspend, reinstate, close ---------------------------------------------------------------------


def test_suspend_refuses_orders_keeps_data_and_reinstate_reopens(platform_admin):
    shop = make_shop()
    sku = make_sku(shop)
    member = make_member()
    earlier = paid_order(member, sku)
    actions.do_change_shop_status(platform_admin, shop.pk, "suspend", reason="食品安全投诉核查中")
    shop.refresh_from_db()
    assert (shop.status, shop.status_reason) == (ShopStatus.SUSPENDED, "食品安全投诉核查中")

    with pytest.raises(ShopUnavailable) as refused:
        place_order(member, sku)
    assert (refused.value.code, refused.value.status) == ("shop_suspended", 403)
    with pytest.raises(ShopUnavailable):
        order_actions.quote_checkout(member, sku_id=sku.pk, fulfilment="delivery", payment_method="sandbox")
    assert Order.objects.filter(shop=shop).get() == earlier  # nothing lost, nothing new

    actions.do_change_shop_status(platform_admin, shop.pk, "reinstate", reason="核查完毕")
    shop.refresh_from_db()
    assert (shop.status, shop.status_reason) == (ShopStatus.ACTIVE, "")
    assert place_order(member, sku).shop == shop
    trail = list(
        AuditLog.objects.filter(shop=shop, actor=platform_admin).order_by("id").values_list("action", "detail")
    )
    assert [action for action, _ in trail] == ["shop.suspend", "shop.reinstate"]
    assert [detail["reason"] for _, detail in trail] == ["食品安全投诉核查中", "核查完毕"]


def test_closed_is_final_and_hidden_from_the_directory(platform_admin):
    from shequn.shops.selectors import shop_directory

    shop = make_shop()
    actions.do_change_shop_status(platform_admin, shop.pk, "close", reason="商家申请注销")
    assert shop not in shop_directory()
    with pytest.raises(InvalidTransition):
        actions.do_change_shop_status(platform_admin, shop.pk, "reinstate", reason="误操作")
    with pytest.raises(ShopUnavailable) as refused:
        place_order(make_member(), make_sku(shop))
    assert refused.value.code == "shop_closed"


# --- figures and audit search -----------------------------------------------------------------------


def test_gmv_is_paid_minus_refunded_and_after_sales_are_counted(django_assert_max_num_queries):
    shop, other = make_shop(), make_shop()
    member = make_member()
    sku = make_sku(shop, price_fen=3500)
    paid_order(member, sku, 2, fulfilment="pickup")  # 7000, no shipping fee at pickup
    refunded = paid_order(member, sku, 1, fulfilment="pickup")  # 3500
    Order.objects.filter(pk=refunded.pk).update(refunded_fen=1200)
    place_order(member, sku, 5, fulfilment="pickup")  # unpaid: not sales
    paid_order(member, make_sku(other, price_fen=999), 1, fulfilment="pickup")
    line = refunded.lines.get()
    order_actions.request_refund(member, refunded.number, line.pk, amount_fen=500, reason="不新鲜")

    with django_assert_max_num_queries(1):
        rows: dict[int, Any] = {row.pk: row for row in selectors.platform_shops()}
    assert rows[shop.pk].gmv_fen == 7000 + 3500 - 1200
    assert rows[other.pk].gmv_fen == 999
    assert (rows[shop.pk].after_sales_count, rows[other.pk].after_sales_count) == (1, 0)


def test_audit_search_filters_by_shop_actor_action_and_day(platform_admin):
    one, two = make_shop(), make_shop()
    actions.do_change_shop_status(platform_admin, one.pk, "suspend", reason="核查")
    actions.do_change_shop_status(platform_admin, two.pk, "close", reason="注销")
    old = AuditLog.objects.create(shop=one, actor=None, action="order.ship")
    AuditLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))

    def search(**filters):
        return [(row.shop_id, row.action) for row in selectors.audit_search(selectors.AuditFilters(**filters))]

    assert search(shop_id=one.pk) == [(one.pk, "shop.suspend"), (one.pk, "order.ship")]
    assert search(actor="platform") == [(two.pk, "shop.close"), (one.pk, "shop.suspend")]
    assert search(action="shop.c") == [(two.pk, "shop.close")]
    today = timezone.localdate()
    assert search(since=today - timedelta(days=11), until=today - timedelta(days=9)) == [(one.pk, "order.ship")]
    assert len(search(since=today)) == 2
