from urllib.parse import urlsplit

import pytest

from shequn.packages import actions, selectors
from shequn.testing.orders import make_member, make_shop, make_sku, make_staff
from shequn.testing.payments import sandbox, sandbox_key_dir
from shequn.testing.two_shops import login

__all__ = ["sandbox", "sandbox_key_dir"]

JSON = "application/json"
PRICE = 800_000  # ¥8,000 for 100 portions of crayfish (S10)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shop(db):
    return make_shop()


@pytest.fixture
def operator(shop):
    return make_staff(shop)


@pytest.fixture
def crayfish(shop):
    return make_sku(shop, price_fen=8000, stock=500, title="麻辣小龙虾")


@pytest.fixture
def member(db):
    return make_member(nickname="老王")


def make_plan(shop, operator, item, **fields):
    data = actions.PlanInput(
        title=fields.pop("title", "小龙虾 100 份套餐"),
        item_sku_id=item.pk,
        portions=fields.pop("portions", 100),
        price_fen=fields.pop("price_fen", PRICE),
        validity_days=fields.pop("validity_days", 365),
        stock=fields.pop("stock", 50),
        **fields,
    )
    return actions.do_save_plan(shop, data, actor=operator)


@pytest.fixture
def plan(shop, operator, crayfish):
    return make_plan(shop, operator, crayfish)


def pay(user, number, commit):
    """Start paying and confirm on the sandbox cashier page, as the member does."""
    from shequn.testing.community import api_client

    pay_url = api_client(user).post(f"/api/v1/payments/orders/{number}/pay").json()["pay_url"]
    with commit():
        return login(user).post(urlsplit(pay_url).path, {"action": "confirm"})


def buy(user, plan, commit):
    """Buy the package through the ordinary checkout and the sandbox cashier; the member's package."""
    from shequn.testing.community import api_client

    sku_id = selectors.plan_sku_id(plan)
    created = api_client(user).post(
        "/api/v1/orders",
        {"sku_id": sku_id, "quantity": 1, "fulfilment": "none", "payment_method": "sandbox"},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    paid = pay(user, created.json()["number"], commit)
    assert paid.status_code == 302
    return selectors.my_packages(user).get(order_line__order__number=created.json()["number"])
