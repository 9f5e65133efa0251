"""Member pages (pay, the sandbox cashier), console buttons, and the payments API."""

import pytest
from django.test import Client
from django.urls import reverse

from shequn.core.models import AuditLog, IdempotencyKey
from shequn.orders.actions import request_refund
from shequn.orders.enums import OrderStatus, PaymentMethod, RefundStatus
from shequn.payments.models import Payment, SandboxTransaction
from shequn.shops.enums import StaffRole
from shequn.testing.factories import ShopFactory, StaffFactory, UserFactory
from shequn.testing.payments import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pay_page_flow(sandbox, commit):
    order = make_order(price_fen=2990)
    client = logged_in(order.user)
    response = client.post(reverse("payments:pay", args=[order.number]))
    assert response.status_code == 302
    payment = Payment.objects.get(order=order)
    assert response["Location"] == reverse("payments:sandbox_pay_page", args=[payment.prepay_id])

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    for needle in (
        'data-testid="pay-amount"',
        "¥29.90",
        order.shop.name,
        "确认支付",
        "支付失败",
        'data-testid="pay-confirm"',
    ):
        assert needle in html

    with commit():
        done = client.post(response["Location"], {"action": "confirm"})
    assert done.status_code == 302
    assert done["Location"] == reverse("orders:order_detail", args=[order.number])
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    again = client.get(response["Location"])
    assert 'data-testid="pay-done"' in again.content.decode()


def test_pay_page_failure_leaves_the_order_unpaid(sandbox):
    order = make_order()
    client = logged_in(order.user)
    location = client.post(reverse("payments:pay", args=[order.number]))["Location"]
    response = client.post(location, {"action": "fail"})
    assert response["Location"] == reverse("orders:order_detail", args=[order.number])
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert SandboxTransaction.objects.get().trade_state == "PAYERROR"
    # Paying again opens the same cashier.
    assert client.post(reverse("payments:pay", args=[order.number]))["Location"] == location


def test_pay_page_for_a_closed_payment(sandbox):
    from shequn.orders.actions import cancel_order_by_member
    from shequn.payments.actions import close_gateway_payments

    order = make_order()
    client = logged_in(order.user)
    location = client.post(reverse("payments:pay", args=[order.number]))["Location"]
    cancel_order_by_member(order.user, order.number)
    close_gateway_payments()
    response = client.post(location, {"action": "confirm"})
    assert response.status_code == 409
    assert 'data-testid="pay-closed"' in response.content.decode()


def test_pay_cod_goes_to_the_order_and_strangers_get_404(sandbox):
    cod = make_order(payment_method=PaymentMethod.COD)
    response = logged_in(cod.user).post(reverse("payments:pay", args=[cod.number]))
    assert response["Location"] == reverse("orders:order_detail", args=[cod.number])
    order = make_order()
    assert logged_in(UserFactory.create()).post(reverse("payments:pay", args=[order.number])).status_code == 404
    assert logged_in(order.user).get(reverse("payments:pay", args=[order.number])).status_code == 405
    assert Client().get(reverse("payments:sandbox_pay_page", args=["wxnope"])).status_code == 404
    assert not Payment.objects.exists()


def test_console_confirm_cod_button(sandbox):
    shop = ShopFactory.create()
    order = make_order(shop=shop, payment_method=PaymentMethod.COD)
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    url = reverse("payments:console_confirm_cod", args=[order.pk])
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    assert logged_in(operator).post(url).status_code == 403
    response = logged_in(finance).post(url, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:console_order_detail", args=[order.pk])
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert AuditLog.objects.get(action="payment.confirm_cod").ip == "10.1.2.3"
    outsider = StaffFactory.create(role=StaffRole.OWNER).user
    assert logged_in(outsider).post(url).status_code == 404


def test_console_cod_order_shows_who_may_confirm_the_cash(sandbox):
    shop = ShopFactory.create()
    order = make_order(shop=shop, payment_method=PaymentMethod.COD)
    page = reverse("orders:console_order_detail", args=[order.pk])
    confirm_url = reverse("payments:console_confirm_cod", args=[order.pk])
    operator = StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user
    html = logged_in(operator).get(page).content.decode()
    # The operator sees the button, disabled, and whom to ask; there is no form to post.
    assert "确认已收款" in html
    assert 'disabled aria-describedby="confirm-cod-hint" data-testid="confirm-cod-button"' in html
    assert 'data-testid="confirm-cod-hint">需要店主、管理员或财务角色</span>' in html
    assert f'action="{confirm_url}"' not in html
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    html = logged_in(finance).get(page).content.decode()
    assert f'action="{confirm_url}"' in html
    assert "confirm-cod-hint" not in html


def test_console_approve_refund_button(sandbox, commit):
    shop = ShopFactory.create()
    order = make_order(shop=shop, quantity=2)
    client = logged_in(order.user)
    location = client.post(reverse("payments:pay", args=[order.number]))["Location"]
    with commit():
        client.post(location, {"action": "confirm"})
    refund = request_refund(order.user, order.number, order.lines.get().pk, amount_fen=3500, reason="坏了")
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    with commit():
        response = logged_in(finance).post(reverse("payments:console_approve_refund", args=[refund.pk]))
    assert response["Location"] == reverse("orders:console_order_detail", args=[order.pk])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED


def test_api_pay_honours_idempotency_key(sandbox):
    order = make_order()
    client = logged_in(order.user)
    url = f"/api/v1/payments/orders/{order.number}/pay"
    first = client.post(url, headers={"Idempotency-Key": "pay-1"})
    assert first.status_code == 200, first.content
    assert first.json()["pay_url"].startswith("/sandbox-pay/")
    second = client.post(url, headers={"Idempotency-Key": "pay-1"})
    assert second.json() == first.json()
    assert IdempotencyKey.objects.count() == 1
    other = make_order(user=order.user, shop=order.shop)
    reused = client.post(f"/api/v1/payments/orders/{other.number}/pay", headers={"Idempotency-Key": "pay-1"})
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert Client().post(url).status_code == 401
    assert logged_in(UserFactory.create()).post(url).json()["code"] == "order_not_found"


def test_api_console_endpoints(sandbox):
    shop = ShopFactory.create()
    order = make_order(shop=shop, payment_method=PaymentMethod.COD, quantity=2)
    finance = StaffFactory.create(shop=shop, role=StaffRole.FINANCE).user
    client = logged_in(finance)
    url = f"/api/v1/payments/console/orders/{order.pk}/confirm-cod"
    response = client.post(url)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "succeeded"
    assert client.post(url).json()["code"] == "order_already_paid"
    refund = request_refund(order.user, order.number, order.lines.get().pk, amount_fen=100, reason="少了")
    approve = client.post(f"/api/v1/payments/console/refunds/{refund.pk}/approve", headers={"X-Shop": shop.slug})
    assert approve.status_code == 200, approve.content
    assert approve.json() == {"refund_number": refund.number, "status": "refunded", "amount_fen": 100}
    operator = logged_in(StaffFactory.create(shop=shop, role=StaffRole.OPERATOR).user)
    assert operator.post(url).status_code == 403


def test_api_console_tenant_isolation(sandbox):
    shop, other = ShopFactory.create(), ShopFactory.create()
    order = make_order(shop=shop, payment_method=PaymentMethod.COD)
    outsider = logged_in(StaffFactory.create(shop=other, role=StaffRole.OWNER).user)
    url = f"/api/v1/payments/console/orders/{order.pk}/confirm-cod"
    assert outsider.post(url).status_code == 404
    assert outsider.post(url, headers={"X-Shop": shop.slug}).status_code == 404
    both = StaffFactory.create(shop=other, role=StaffRole.OWNER).user
    StaffFactory.create(shop=shop, user=both, role=StaffRole.OPERATOR)
    assert logged_in(both).post(url).json()["code"] == "shop_required"
    assert logged_in(both).post(url, headers={"X-Shop": shop.slug}).status_code == 403
    assert not Payment.objects.exists()


def test_openapi_declares_the_error_responses():
    schema = Client().get("/api/v1/openapi.json").json()
    paths = {path: item for path, item in schema["paths"].items() if path.startswith("/api/v1/payments")}
    assert len(paths) == 6
    for item in paths.values():
        for operation in item.values():
            assert any(code.startswith("4") for code in operation["responses"]), operation["operationId"]


def test_the_sandbox_is_off_when_left_out_of_the_gateways(sandbox, settings):
    order = make_order()
    client = logged_in(order.user)
    location = client.post(reverse("payments:pay", args=[order.number]))["Location"]
    settings.PAYMENT_GATEWAYS = ["cod"]
    assert client.get(location).status_code == 404
    assert Client().post("/sandbox-pay/v3/certificates").status_code == 404
    refused = Client().post("/api/v1/payments/notify/sandbox", data=b"{}", content_type="application/json")
    assert 400 <= refused.status_code < 500


def test_api_payment_status_asks_the_gateway_when_still_open(sandbox):
    from shequn.payments.sandbox import server

    order = make_order()
    client = logged_in(order.user)
    url = f"/api/v1/payments/orders/{order.number}"
    assert client.get(url).json()["code"] == "payment_not_found"
    sandbox.hold = True  # the callback is slow
    pay_url = client.post(f"{url}/pay").json()["pay_url"]
    assert client.get(url).json()["status"] == "created"
    server.confirm(pay_url.rstrip("/").rsplit("/", 1)[-1])
    body = client.get(url).json()
    assert (body["status"], body["amount_fen"], body["gateway"]) == ("succeeded", order.total_fen, "sandbox")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert logged_in(UserFactory.create()).get(url).status_code == 404
