"""The API as a whole keeps its promises: every route declares its errors, and errors are JSON with codes."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _operations():
    schema = Client().get("/api/v1/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method.upper(), operation


def _can_fail_validation(operation) -> bool:
    if "requestBody" in operation:
        return True
    return any(parameter["schema"].get("type") != "string" for parameter in operation.get("parameters", []))


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
        response = Client().generic(method, path, "{}", content_type="application/json")
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
