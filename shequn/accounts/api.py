"""Member and token endpoints under /api/v1/accounts/. Thin: parse, call one action, return."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.errors import NotAuthenticated, NotFound
from shequn.core.schemas import Id, Page, PageQuery, Text, error_responses, paginate

from . import actions, selectors
from .models import User
from .regions import children_of, get_region
from .schemas import (
    AddressIn,
    AddressOut,
    MeOut,
    OtpSendIn,
    OtpSentOut,
    OtpVerifyIn,
    PasswordTokenIn,
    ProfileIn,
    RegionOut,
    TokenInfoOut,
    TokenOut,
)

router = Router(tags=["accounts"])


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated(_("请先登录"))
    return user


def _address_input(payload: AddressIn) -> actions.AddressInput:
    return actions.AddressInput(**payload.dict())


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@router.post("/otp/send", auth=None, response={200: OtpSentOut, **error_responses(422, 429, 502)})
def send_otp(request: HttpRequest, payload: OtpSendIn) -> Any:
    """Text a 6-digit sign-in code to a mainland mobile number."""
    sent = actions.do_send_otp(payload.phone, ip=client_ip(request))
    return {"sent": True, "expires_in": sent.expires_in, "resend_after": sent.resend_after}


@router.post("/otp/verify", auth=None, response={200: TokenOut, **error_responses(422, 429)})
def verify_otp(request: HttpRequest, payload: OtpVerifyIn) -> Any:
    """Exchange phone + code for a bearer token; the member is created on first sign-in."""
    user = actions.do_verify_otp(payload.phone, payload.code, ip=client_ip(request))
    issued = actions.do_issue_token(user, name=payload.token_name or "otp")
    return {"token": issued.token, "token_id": issued.row.pk, "user": user}


@router.post("/tokens", auth=None, response={200: TokenOut, **error_responses(401, 422, 429)})
def issue_staff_token(request: HttpRequest, payload: PasswordTokenIn) -> Any:
    """Staff: exchange username + password for a bearer token (rate-limited like the console login)."""
    user = actions.check_staff_credentials(payload.username, payload.password, ip=client_ip(request))
    issued = actions.do_issue_token(user, name=payload.token_name or "staff")
    return {"token": issued.token, "token_id": issued.row.pk, "user": user}


@router.get("/tokens", response={200: Page[TokenInfoOut], **error_responses(401, 422)})
def list_tokens(request: HttpRequest, query: Query[PageQuery]) -> Any:
    return paginate(selectors.my_tokens(_user(request)), query.page, query.page_size)


@router.delete("/tokens/current", response={204: None, **error_responses(401)})
def revoke_current_token(request: HttpRequest) -> Any:
    """Sign out this API client: the bearer token used for this call stops working."""
    _user(request)
    token = _bearer(request)
    if token:
        actions.do_revoke_token_value(token)
    return Status(204, None)


@router.delete("/tokens/{token_id}", response={200: TokenInfoOut, **error_responses(401, 404, 422)})
def revoke_token(request: HttpRequest, token_id: Id) -> Any:
    return actions.do_revoke_token(_user(request), token_id)


@router.get("/me", response={200: MeOut, **error_responses(401)})
def me(request: HttpRequest) -> Any:
    return _user(request)


@router.patch("/me", response={200: MeOut, **error_responses(401, 422)})
def update_me(request: HttpRequest, payload: ProfileIn) -> Any:
    return actions.do_update_profile(_user(request), nickname=payload.nickname)


@router.get("/addresses", response={200: Page[AddressOut], **error_responses(401, 422)})
def list_addresses(request: HttpRequest, query: Query[PageQuery]) -> Any:
    return paginate(selectors.my_addresses(_user(request)), query.page, query.page_size)


@router.post("/addresses", response={201: AddressOut, **error_responses(401, 422)})
def create_address(request: HttpRequest, payload: AddressIn) -> Any:
    return Status(201, actions.do_create_address(_user(request), _address_input(payload)))


@router.get("/addresses/{address_id}", response={200: AddressOut, **error_responses(401, 404, 422)})
def get_address(request: HttpRequest, address_id: Id) -> Any:
    return selectors.access_address(_user(request), address_id)


@router.put("/addresses/{address_id}", response={200: AddressOut, **error_responses(401, 404, 422)})
def update_address(request: HttpRequest, address_id: Id, payload: AddressIn) -> Any:
    return actions.do_update_address(_user(request), address_id, _address_input(payload))


@router.post("/addresses/{address_id}/default", response={200: AddressOut, **error_responses(401, 404, 422)})
def set_default_address(request: HttpRequest, address_id: Id) -> Any:
    return actions.do_set_default_address(_user(request), address_id)


@router.delete("/addresses/{address_id}", response={204: None, **error_responses(401, 404, 422)})
def delete_address(request: HttpRequest, address_id: Id) -> Any:
    actions.do_delete_address(_user(request), address_id)
    return Status(204, None)


@router.get("/regions", auth=None, response={200: list[RegionOut]})
def list_provinces(request: HttpRequest) -> Any:
    """GB/T 2260 provinces (省级行政区)."""
    return children_of(None)


@router.get("/regions/{code}", auth=None, response={200: list[RegionOut], **error_responses(404, 422)})
def list_region_children(request: HttpRequest, code: Text) -> Any:
    """Children of a region (GB/T 2260 code) for a cascading picker; a district has none."""
    if get_region(code) is None:
        raise NotFound(_("没有这个行政区划代码"), code="region_not_found")
    return children_of(code)
