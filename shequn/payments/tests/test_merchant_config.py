"""The owner's WeChat Pay merchant configuration: encrypted at rest, masked and write-only in the
console, owner-only and audited; the live gateway is chosen only when the configuration is complete."""

import pytest
from django.db import connection
from django.test import Client

from shequn.core import secrets
from shequn.core.errors import PermissionDenied
from shequn.core.models import AuditLog
from shequn.payments import actions
from shequn.payments.gateways import online_gateway
from shequn.payments.models import MerchantAccount, PlatformKey
from shequn.payments.sandbox import keys as sandbox_keys
from shequn.testing.factories import ShopFactory
from shequn.testing.orders import make_staff
from shequn.testing.payments import certificate_pem, configure_live_merchant, private_key_pem

pytestmark = pytest.mark.django_db

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture
def shop_and_owner(sandbox):
    shop = ShopFactory()
    return shop, make_staff(shop, role="owner")


def raw_columns(account):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT merchant_private_key_encrypted, api_v3_key_encrypted FROM payments_merchantaccount WHERE id = %s",
            [account.pk],
        )
        return cursor.fetchone()


def test_secrets_are_encrypted_at_rest_and_open_only_with_the_secrets_key(shop_and_owner, settings):
    shop, owner = shop_and_owner
    configure_live_merchant(shop, owner)
    keys = sandbox_keys.load_keys()
    pem = private_key_pem(keys.merchant_private_key)
    api_v3_key = keys.api_v3_key.decode()

    raw_private_key, raw_api_v3_key = raw_columns(MerchantAccount.objects.get(shop=shop))

    assert "PRIVATE KEY" not in raw_private_key
    assert pem.splitlines()[1] not in raw_private_key
    assert api_v3_key not in raw_api_v3_key
    assert secrets.decrypt(raw_private_key) == pem.strip()
    assert secrets.decrypt(raw_api_v3_key) == api_v3_key
    # SECRET_KEY alone does not open them: another secrets key cannot read what is stored.
    settings.SHEQUN_SECRETS_KEYS = ["a different secrets key"]
    with pytest.raises(secrets.SecretUnreadable):
        secrets.decrypt(raw_api_v3_key)


def test_a_new_secrets_key_reads_old_tokens_and_reencryption_lets_the_old_key_go(shop_and_owner, settings):
    shop, owner = shop_and_owner
    configure_live_merchant(shop, owner)
    old = list(settings.SHEQUN_SECRETS_KEYS)
    settings.SHEQUN_SECRETS_KEYS = ["the new secrets key", *old]
    account = MerchantAccount.objects.get(shop=shop)
    assert secrets.decrypt(account.api_v3_key_encrypted) == sandbox_keys.load_keys().api_v3_key.decode()

    assert actions.reencrypt_merchant_secrets() == 1

    settings.SHEQUN_SECRETS_KEYS = ["the new secrets key"]
    account.refresh_from_db()
    assert secrets.decrypt(account.api_v3_key_encrypted) == sandbox_keys.load_keys().api_v3_key.decode()
    assert online_gateway(shop, payer_openid=OPENID).name == "wechat"  # the private key opens too


def test_the_console_shows_secrets_masked_and_never_renders_them_back(shop_and_owner):
    shop, owner = shop_and_owner
    configure_live_merchant(shop, owner)
    api_v3_key = sandbox_keys.load_keys().api_v3_key.decode()
    pem = private_key_pem(sandbox_keys.load_keys().merchant_private_key)
    client = Client()
    client.force_login(owner)

    page = client.get("/console/payments/wechat/").content.decode()

    assert api_v3_key not in page
    assert "••••••••" + api_v3_key[-4:] in page
    assert pem.splitlines()[1] not in page
    assert 'data-testid="merchant-live"' in page
    # A refused save does not echo the secrets just typed either.
    refused = client.post(
        "/console/payments/wechat/",
        {
            "mchid": "12",
            "appid": "wxd0000000000sandbox",
            "merchant_serial": "ABCDEF12",
            "merchant_private_key": pem,
            "api_v3_key": api_v3_key,
        },
    )
    assert refused.status_code == 422
    assert pem.splitlines()[1] not in refused.content.decode()
    assert api_v3_key not in refused.content.decode()


def test_only_the_owner_configures_and_every_change_is_audited_without_values(shop_and_owner):
    shop, owner = shop_and_owner
    admin = make_staff(shop, role="admin")
    client = Client()
    client.force_login(admin)
    assert client.get("/console/payments/wechat/").status_code == 403
    with pytest.raises(PermissionDenied):
        actions.do_save_merchant_account(
            shop,
            admin,
            actions.MerchantAccountInput(mchid="1900000001", appid="wxd0000000000sandbox", merchant_serial="AB12CD34"),
        )

    configure_live_merchant(shop, owner)

    entries = AuditLog.objects.filter(shop=shop, action__startswith="payments.")
    assert [entry.action for entry in entries.order_by("id")][:1] == ["payments.merchant_account.save"]
    saved = entries.get(action="payments.merchant_account.save")
    assert set(saved.detail["fields"]) >= {"mchid", "merchant_private_key", "api_v3_key"}
    assert sandbox_keys.load_keys().api_v3_key.decode() not in str(saved.detail)
    assert entries.filter(action="payments.platform_key.add").exists()


def test_the_owner_saves_through_the_page_and_blank_secrets_keep_the_stored_ones(shop_and_owner):
    shop, owner = shop_and_owner
    configure_live_merchant(shop, owner)
    before = raw_columns(MerchantAccount.objects.get(shop=shop))
    client = Client()
    client.force_login(owner)

    response = client.post(
        "/console/payments/wechat/",
        {
            "mchid": "1900000001",
            "appid": "wxd0000000000sandbox",
            "merchant_serial": sandbox_keys.load_keys().merchant_serial,
        },
    )

    assert response.status_code == 302
    assert raw_columns(MerchantAccount.objects.get(shop=shop)) == before


def test_the_live_gateway_is_chosen_only_when_the_configuration_is_complete(shop_and_owner):
    shop, owner = shop_and_owner
    assert online_gateway(shop, payer_openid=OPENID).name == "sandbox"  # nothing configured

    configure_live_merchant(shop, owner, with_platform_keys=False)
    assert online_gateway(shop, payer_openid=OPENID).name == "sandbox"  # no platform key: cannot verify WeChat

    certificate = sandbox_keys.load_keys().active_platform_key.certificate
    platform_key = actions.do_add_platform_key(shop, owner, pem=certificate_pem(certificate))
    assert online_gateway(shop, payer_openid=OPENID).name == "wechat"
    assert online_gateway(shop, payer_openid="").name == "sandbox"  # outside WeChat: no openid for JSAPI
    assert online_gateway(ShopFactory.create(), payer_openid=OPENID).name == "sandbox"  # another shop: its own config

    actions.do_retire_platform_key(shop, owner, platform_key.pk)
    assert online_gateway(shop, payer_openid=OPENID).name == "sandbox"


def test_a_wechat_pay_public_key_with_its_id_is_a_platform_key(shop_and_owner):
    shop, owner = shop_and_owner
    configure_live_merchant(shop, owner, with_platform_keys=False)
    public_pem = certificate_pem(sandbox_keys.load_keys().active_platform_key.certificate)
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key_pem = (
        x509.load_pem_x509_certificate(public_pem.encode())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(actions.InvalidInput):
        actions.do_add_platform_key(shop, owner, pem=key_pem)  # a bare public key needs its id

    added = actions.do_add_platform_key(
        shop, owner, pem=key_pem, public_key_id="PUB_KEY_ID_0114232134912410000000000000"
    )

    assert PlatformKey.objects.get(pk=added.pk).serial == "PUB_KEY_ID_0114232134912410000000000000"
    assert online_gateway(shop, payer_openid=OPENID).name == "wechat"
