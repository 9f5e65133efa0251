"""The API as a whole keeps its promises: every route declares its errors, and errors are JSON with codes."""

import datetime
import typing
from decimal import Decimal

import annotated_types
import pytest
from django.test import Client
from pydantic import AfterValidator, BaseModel

from shequn.api import api
from shequn.core import schemas as core_schemas

pytestmark = pytest.mark.django_db


def _operations():
    schema = Client().get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method.upper(), operation


def _can_fail_validation(operation) -> bool:
    # Every parameter is validated: numbers are bounded, text refuses control characters.
    return "requestBody" in operation or bool(operation.get("parameters"))


def _models_in(annotation) -> typing.Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def _route_models() -> set[type[BaseModel]]:
    """Every schema class a route takes or returns, and the schemas inside them."""
    found: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = []
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                # ninja's own per-operation wrappers (path, query, body) hold the route's schemas.
                for wrapper in operation.models:
                    for field in wrapper.model_fields.values():
                        pending.extend(_models_in(field.annotation))
                for response_model in operation.response_models.values():
                    if response_model is not None:
                        for field in response_model.model_fields.values():
                            pending.extend(_models_in(field.annotation))
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.add(model)
        for field in model.model_fields.values():
            pending.extend(_models_in(field.annotation))
    return found


def test_every_schema_in_the_api_has_its_own_component_name():
    """django-ninja keeps one OpenAPI component per class name: two schemas with one name would
    document one route with another app's model."""
    by_name: dict[str, set[str]] = {}
    for model in _route_models():
        by_name.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    shared = {name: sorted(classes) for name, classes in by_name.items() if len(classes) > 1}
    assert shared == {}, "\n".join(f"{name}: {', '.join(classes)}" for name, classes in sorted(shared.items()))
    # And the spec documents each of them with its own fields.
    components = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    for model in _route_models():
        if model.__name__ in components:
            documented = set(components[model.__name__].get("properties", {}))
            assert documented == set(model.model_json_schema().get("properties", {})), model


def test_openapi_is_served_and_lists_every_app():
    schema = Client().get("/api/v1/openapi.json").json()
    prefixes = {path.split("/")[3] for path in schema["paths"]}
    assert {"accounts", "shops", "catalog", "communities", "orders", "payments", "notifications"} <= prefixes


def test_every_route_declares_its_error_responses():
    missing = []
    for path, method, operation in _operations():
        declared = {int(code) for code in operation["responses"]}
        takes_input = _can_fail_validation(operation) or "{" in path
        if (takes_input or operation.get("security")) and not any(400 <= code < 600 for code in declared):
            missing.append(f"{method} {path}: no error response")
        if operation.get("security") and 401 not in declared:
            missing.append(f"{method} {path}: needs sign-in but does not declare 401")
        if _can_fail_validation(operation) and 422 not in declared:
            missing.append(f"{method} {path}: takes input but does not declare 422")
    assert missing == [], "\n".join(missing)


def test_signed_out_calls_get_a_json_401_with_a_stable_code():
    for path, method, operation in _operations():
        if not operation.get("security") or "{" in path:
            continue
        # A real client: Django's test client would skip the CSRF check a browser-less app meets.
        response = Client(enforce_csrf_checks=True).generic(method, path, "{}", content_type="application/json")
        assert response.status_code == 401, f"{method} {path} → {response.status_code}"
        assert response.json()["code"] == "not_authenticated"


def test_unknown_api_paths_and_bad_input_are_json_errors():
    client = Client()
    response = client.get("/api/v1/catalog/shops/no-such-shop/products")
    assert response.status_code == 404
    assert response.json()["code"] == "shop_not_found"
    response = client.post("/api/v1/accounts/otp/send", "not json", content_type="application/json")
    assert response.status_code in {400, 422}
    assert set(response.json()) >= {"code", "message"}
    response = client.get("/api/v1/accounts/regions/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "region_not_found"
    assert [region["name"] for region in client.get("/api/v1/accounts/regions/330100").json()][:1] == ["上城区"]


# --- values the database cannot hold are refused at the door (422 naming the field), never a 500 ---

BIGINT_OVERFLOW = 2**63  # one past what SQLite and PostgreSQL integers hold
PAGE_OVERFLOW = 9223372036854775807


def _error_fields(response) -> list[str]:
    body = response.json()
    assert body["code"] == "invalid_input", body
    return [str(error["loc"][-1]) for error in body["details"]["errors"]]


def test_a_huge_page_number_is_a_422_naming_page_not_a_500():
    from shequn.testing.orders import make_shop, make_sku

    shop = make_shop()
    make_sku(shop)
    client = Client()
    response = client.get(f"/api/v1/catalog/shops/{shop.slug}/products?page={PAGE_OVERFLOW}")
    assert response.status_code == 422
    assert _error_fields(response) == ["page"]
    response = client.get(f"/api/v1/catalog/shops/{shop.slug}/products?page_size=101")
    assert response.status_code == 422
    assert _error_fields(response) == ["page_size"]
    assert client.get(f"/api/v1/catalog/shops/{shop.slug}/products?page=2").json()["items"] == []


def test_a_huge_id_in_the_path_query_or_body_is_a_422_naming_it():
    from shequn.testing.accounts import bearer
    from shequn.testing.orders import make_member, make_shop, make_sku

    shop = make_shop()
    make_sku(shop)
    client = Client()
    response = client.get(f"/api/v1/catalog/shops/{shop.slug}/products/{BIGINT_OVERFLOW}")
    assert response.status_code == 422
    assert _error_fields(response) == ["product_id"]
    response = client.get(f"/api/v1/catalog/shops/{shop.slug}/products?category_id={BIGINT_OVERFLOW}")
    assert response.status_code == 422
    assert _error_fields(response) == ["category_id"]
    headers = bearer(make_member())
    response = client.post(
        "/api/v1/orders/cart", {"sku_id": BIGINT_OVERFLOW}, content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert _error_fields(response) == ["sku_id"]
    response = client.post(
        "/api/v1/orders/cart", {"sku_id": 1, "quantity": 10**6}, content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert _error_fields(response) == ["quantity"]


def _console_product(title: str, price_fen: int) -> dict:
    return {"title": title, "skus": [{"spec": "500g", "price_fen": price_fen, "stock": 1}]}


def test_a_price_past_the_column_or_a_nul_in_a_title_is_a_422_and_nothing_is_saved():
    from shequn.catalog.models import Product
    from shequn.testing.accounts import bearer
    from shequn.testing.orders import make_shop, make_staff

    shop = make_shop()
    client = Client(headers=bearer(make_staff(shop)))
    url = "/api/v1/catalog/console/products"
    response = client.post(url, _console_product("三文鱼", 2147483648), content_type="application/json")
    assert response.status_code == 422
    assert _error_fields(response) == ["price_fen"]
    assert response.json()["message"] == "请求参数有误：price_fen"
    response = client.post(url, _console_product("三文\x00鱼", 3500), content_type="application/json")
    assert response.status_code == 422
    assert _error_fields(response) == ["title"]
    response = client.post(url, _console_product("三" * 121, 3500), content_type="application/json")
    assert response.status_code == 422
    assert _error_fields(response) == ["title"]
    assert not Product.objects.filter(shop=shop).exists()
    # The largest price the column holds, and line breaks in a description, are fine.
    body = _console_product("三文鱼", 2147483647) | {"description": "产地：千岛湖\n\t冷链直送"}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["skus"][0]["price_fen"] == 2147483647


def test_control_characters_are_refused_in_single_line_text_and_query_strings():
    from shequn.testing.orders import make_shop

    shop = make_shop()
    client = Client()
    response = client.get(f"/api/v1/catalog/shops/{shop.slug}/products", {"q": "鱼\x1b"})
    assert response.status_code == 422
    assert _error_fields(response) == ["q"]
    response = client.post("/api/v1/accounts/otp/send", {"phone": "1381234\x001234"}, content_type="application/json")
    assert response.status_code == 422
    assert _error_fields(response) == ["phone"]


def test_a_look_ahead_longer_than_any_membership_term_is_a_422_not_a_500():
    from shequn.testing.accounts import bearer
    from shequn.testing.factories import CommunityFactory
    from shequn.testing.orders import make_shop, make_staff

    shop = make_shop()
    community = CommunityFactory(shop=shop)
    client = Client(headers=bearer(make_staff(shop)))
    url = f"/api/v1/communities/console/communities/{community.pk}/members"
    response = client.get(url, {"expiry": "expiring", "days": 2147483646})
    assert response.status_code == 422
    assert _error_fields(response) == ["days"]
    assert client.get(url, {"expiry": "expiring", "days": 30}).status_code == 200


def _leaves(annotation, metadata: list) -> typing.Iterator[tuple[typing.Any, list]]:
    """(type, constraints) for each scalar a field can hold, through Optional, list and Annotated."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        # A pydantic Field(...) inside Annotated carries its constraints in its own metadata.
        constraints = [inner for item in extra for inner in (getattr(item, "metadata", None) or [item])]
        yield from _leaves(base, [*metadata, *constraints])
    elif typing.get_args(annotation) and not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        for argument in typing.get_args(annotation):
            yield from _leaves(argument, metadata)
    else:
        yield annotation, metadata


def _input_fields() -> typing.Iterator[tuple[str, str, typing.Any, list]]:
    """Every scalar a client sends: path, query, header and form parameters and body fields."""
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel], where: str) -> typing.Iterator[tuple[str, str, typing.Any, list]]:
        for name, field in model.model_fields.items():
            for leaf, metadata in _leaves(field.annotation, list(field.metadata)):
                if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                    if leaf not in seen:
                        seen.add(leaf)
                        yield from walk(leaf, leaf.__name__)
                else:
                    yield where, name, leaf, metadata

    for router in api._get_bound_routers():
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for wrapper in operation.models:
                    yield from walk(wrapper, f"{'/'.join(operation.methods)} {router.prefix}{path}")


def test_every_number_and_text_a_client_sends_is_bounded_by_a_shared_type():
    """Ids, amounts and counts stay inside their columns; text refuses NUL and control characters;
    days and moments stay inside 2000-2099 and reach the database in UTC."""
    text_checks = {core_schemas._single_line, core_schemas._multi_line}
    unbounded = []
    for where, name, leaf, metadata in _input_fields():
        if leaf is str:
            if not any(isinstance(item, AfterValidator) and item.func in text_checks for item in metadata):
                unbounded.append(f"{where} {name}: str without Text/MultilineText")
        elif leaf in (datetime.datetime, datetime.date, datetime.time):
            day_checks = {core_schemas._moment, core_schemas._day, core_schemas._clock_time, core_schemas._birthday}
            if not any(isinstance(item, AfterValidator) and item.func in day_checks for item in metadata):
                unbounded.append(f"{where} {name}: {leaf.__name__} without Moment/Day/ClockTime/Birthday")
        elif leaf in (int, Decimal):
            lower = any(isinstance(item, annotated_types.Ge | annotated_types.Gt) for item in metadata)
            upper = any(isinstance(item, annotated_types.Le | annotated_types.Lt) for item in metadata)
            if not (lower and upper):
                unbounded.append(f"{where} {name}: {leaf.__name__} without both bounds")
    assert unbounded == [], "\n".join(sorted(set(unbounded)))


@pytest.mark.postgres
def test_on_postgresql_the_values_it_cannot_hold_are_422s_before_they_reach_it():
    """PostgreSQL, unlike SQLite, refuses a NUL in text and an integer past its column: the API
    must answer 422 before the database is asked, not pass the database's error on as a 500."""
    from django.db import DataError, transaction

    from shequn.catalog.models import Product, Sku
    from shequn.testing.accounts import bearer
    from shequn.testing.catalog import make_product
    from shequn.testing.orders import make_shop, make_staff

    shop = make_shop()
    make_product(shop)
    # The engine really does refuse these, so the checks below are not vacuous.
    with pytest.raises(DataError, match="NUL"), transaction.atomic():
        Product.objects.filter(shop=shop).update(title="三文\x00鱼")
    with pytest.raises(DataError, match="out of range"), transaction.atomic():
        Sku.objects.filter(product__shop=shop).update(price_fen=2147483648)
    client = Client(headers=bearer(make_staff(shop)))
    url = "/api/v1/catalog/console/products"
    response = client.post(url, _console_product("三文\x00鱼", 3500), content_type="application/json")
    assert response.status_code == 422
    assert _error_fields(response) == ["title"]
    response = client.post(url, _console_product("三文鱼", 2147483648), content_type="application/json")
    assert response.status_code == 422
    assert _error_fields(response) == ["price_fen"]
    response = Client().get(f"/api/v1/catalog/shops/{shop.slug}/products?page={PAGE_OVERFLOW}")
    assert response.status_code == 422
    assert _error_fields(response) == ["page"]
    response = Client().get(f"/api/v1/catalog/shops/{shop.slug}/products/{BIGINT_OVERFLOW}")
    assert response.status_code == 422
    assert _error_fields(response) == ["product_id"]


def _event_body(community_id: int, starts_at: str, ends_at: str) -> dict:
    return {
        "community_id": community_id,
        "title": "农场品鉴日",
        "venue": "崇明有机农场",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": 10,
    }


def _moments_are_taken_in_utc_and_bounded_to_this_century() -> None:
    from shequn.events.models import Event
    from shequn.testing.accounts import bearer
    from shequn.testing.factories import CommunityFactory
    from shequn.testing.orders import make_shop, make_staff

    shop = make_shop()
    community = CommunityFactory(shop=shop)
    client = Client(headers=bearer(make_staff(shop)))
    url = "/api/v1/events/console/events"
    # Python allows UTC offsets up to ±23:59, PostgreSQL only to ±15:59: the moment is what counts.
    body = _event_body(community.pk, "2090-06-01T10:00:00+16:58", "2090-06-01T14:00:00+16:58")
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    event = Event.objects.get(pk=response.json()["id"])
    assert event.starts_at == datetime.datetime(2090, 5, 31, 17, 2, tzinfo=datetime.UTC)
    body = _event_body(community.pk, "0001-01-01T00:00:00+08:00", "0001-01-01T04:00:00+08:00")
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 422
    assert _error_fields(response) == ["starts_at", "ends_at"]


def test_moments_are_taken_in_utc_and_bounded_to_this_century():
    _moments_are_taken_in_utc_and_bounded_to_this_century()


@pytest.mark.postgres
def test_on_postgresql_moments_with_any_utc_offset_are_stored():
    _moments_are_taken_in_utc_and_bounded_to_this_century()
