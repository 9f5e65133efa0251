"""Test helpers for payments: the sandbox wired for tests, signed notifications, row counts.

The sandbox speaks the real protocol in tests too: notifications are signed with the
sandbox's platform keys and AES-GCM encrypted with its APIv3 key; only the transport is
in-process (``SANDBOX_PAY_DELIVERY = "inline"`` posts through Django's test client).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from django.apps import apps
from django.test import Client
from huey.contrib.djhuey import HUEY

from shequn.orders import actions as order_actions
from shequn.orders.enums import Fulfilment, PaymentMethod
from shequn.orders.models import Order
from shequn.payments.gateways.sandbox import certificate_cache
from shequn.payments.sandbox import notify
from shequn.payments.sandbox.keys import load_keys
from shequn.testing.factories import (
    AddressFactory,
    PickupPointFactory,
    ShopFactory,
    SkuFactory,
    StaffFactory,
    UserFactory,
)

NOTIFY_PATH = "/api/v1/payments/notify/sandbox"


@pytest.fixture(scope="session")
def sandbox_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Generated once per session: RSA key generation is the slow part.
    return tmp_path_factory.mktemp("sandbox-pay")


@pytest.fixture
def sandbox(settings: Any, sandbox_key_dir: Path) -> Iterator[notify.Behaviour]:
    """The sandbox gateway delivering inline to our callback; yields its (resettable) behaviour."""
    settings.SANDBOX_PAY_KEY_DIR = sandbox_key_dir
    settings.SANDBOX_PAY_DELIVERY = "inline"
    settings.PAYMENT_NOTIFY_URL = f"http://testserver{NOTIFY_PATH}"
    load_keys()
    certificate_cache(str(sandbox_key_dir)).forget()
    HUEY.storage.flush_all()
    with notify.sandbox_behaviour() as behaviour:
        yield behaviour
    HUEY.storage.flush_all()


def make_order(
    *,
    shop: Any = None,
    user: Any = None,
    price_fen: int = 3500,
    quantity: int = 1,
    stock: int = 10,
    payment_method: str = PaymentMethod.SANDBOX,
    fulfilment: str = Fulfilment.PICKUP,
    returnable: bool = True,
) -> Order:
    """A real order through orders.actions.create_order (stock reserved, events written)."""
    shop = shop or ShopFactory()
    user = user or UserFactory()
    sku = SkuFactory.create(product__shop=shop, product__returnable=returnable, price_fen=price_fen, stock=stock)
    extra: dict[str, Any] = {}
    if fulfilment == Fulfilment.DELIVERY:
        extra["address_id"] = AddressFactory.create(user=user).pk
    else:
        extra["pickup_point_id"] = PickupPointFactory.create(shop=shop).pk
    return order_actions.create_order(
        user, sku_id=sku.pk, quantity=quantity, fulfilment=fulfilment, payment_method=payment_method, **extra
    )


def post_notification(body: str | bytes, headers: dict[str, str], client: Client | None = None) -> Any:
    client = client or Client()
    data = body.encode() if isinstance(body, str) else body
    sent = {key: value for key, value in headers.items() if key.lower() != "content-type"}
    return client.post(NOTIFY_PATH, data=data, content_type="application/json", headers=sent)


def transaction_body(out_trade_no: str, amount_fen: int, **overrides: Any) -> str:
    """A TRANSACTION.SUCCESS notification body as the sandbox would send it (not yet signed)."""
    from django.conf import settings

    resource: dict[str, Any] = {
        "appid": settings.SANDBOX_PAY_APPID,
        "mchid": settings.SANDBOX_PAY_MCHID,
        "out_trade_no": out_trade_no,
        "transaction_id": overrides.pop("transaction_id", "4200000000202611220000000001"),
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": "2026-11-22T10:00:00+08:00",
        "payer": {"openid": "oSandboxPayer"},
        "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY"},
    }
    resource.update(overrides)
    return notify.build_body(event_type="TRANSACTION.SUCCESS", original_type="transaction", resource=resource)


PAYMENT_AND_ORDER_TABLES = ("payments", "orders", "core", "notifications")


def row_counts() -> dict[str, int]:
    """Rows in every table of payments, orders, core (alerts, audit) and notifications."""
    return {
        model._meta.label: model._default_manager.count()
        for label in PAYMENT_AND_ORDER_TABLES
        for model in apps.get_app_config(label).get_models()
    }


def run_scheduled_tasks(rounds: int | None = None) -> int:
    """Run the Huey tasks waiting for their ETA now (immediate mode keeps them in memory).

    Tasks those tasks schedule run in the next round; ``rounds`` limits how many rounds run.
    """
    ran = 0
    while rounds is None or rounds > 0:
        if rounds is not None:
            rounds -= 1
        tasks = HUEY.scheduled()
        if not tasks:
            return ran
        HUEY.storage.flush_schedule()
        for task in tasks:
            task.eta = None
            HUEY.execute(task)
            ran += 1
    return ran


# --- a shop with its own (live) WeChat Pay merchant account, WeChat played by the sandbox ------------


@dataclass
class LiveWechat:
    """A shop configured for live WeChat Pay with the sandbox's merchant keys, so the sandbox
    server answers as api.mch.weixin.qq.com would; ``requests`` records what reached it."""

    shop: Any
    owner: Any
    requests: list[tuple[str, str, dict[str, str], str]] = field(default_factory=list)

    def notify_path(self) -> str:
        return f"/api/v1/payments/notify/wechat/{self.shop.pk}"


def private_key_pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def certificate_pem(certificate: Any) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def configure_live_merchant(shop: Any, owner: Any, *, with_platform_keys: bool = True) -> None:
    """What the owner types into the console: the sandbox's merchant id, keys and platform certificates."""
    from django.conf import settings

    from shequn.payments import actions as payment_actions

    keys = load_keys()
    payment_actions.do_save_merchant_account(
        shop,
        owner,
        payment_actions.MerchantAccountInput(
            mchid=settings.SANDBOX_PAY_MCHID,
            appid=settings.SANDBOX_PAY_APPID,
            merchant_serial=keys.merchant_serial,
            merchant_private_key=private_key_pem(keys.merchant_private_key),
            api_v3_key=keys.api_v3_key.decode(),
        ),
    )
    if with_platform_keys:
        for platform_key in keys.platform_keys.values():
            payment_actions.do_add_platform_key(shop, owner, pem=certificate_pem(platform_key.certificate))


@pytest.fixture
def live_wechat(sandbox: notify.Behaviour, monkeypatch: pytest.MonkeyPatch) -> LiveWechat:
    """A shop whose owner entered a complete WeChat Pay configuration; its API calls reach the
    sandbox server (which checks every signature) and are recorded."""
    from shequn.payments.gateways import wechat_live
    from shequn.payments.gateways.sandbox import sandbox_transport

    shop = ShopFactory()
    owner = StaffFactory(shop=shop, role="owner").user
    live = LiveWechat(shop=shop, owner=owner)

    def recording_transport(method: str, url: str, headers: dict[str, str], body: str) -> Any:
        live.requests.append((method, url, dict(headers), body))
        return sandbox_transport(method, url, headers, body)

    monkeypatch.setattr(wechat_live, "live_transport", lambda: recording_transport)
    configure_live_merchant(shop, owner)
    return live
