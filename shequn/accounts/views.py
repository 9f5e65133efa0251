"""Pages of the accounts app: member sign-in, profile, addresses; staff sign-in. Thin views."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as set_language_cookie

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError, InvalidInput
from shequn.core.i18n import keep_choice_at_sign_in
from shequn.core.pages import field_errors
from shequn.core.phone import mask_phone
from shequn.wechat import actions as wechat_actions
from shequn.wechat import client as wechat_client
from shequn.wechat import selectors as wechat_selectors

from . import actions, selectors
from .models import Address, User
from .regions import children_of, provinces

CONSOLE_HOME = "/console/"


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch: Django's cookie for this browser, and the account's stored choice."""
    response = set_language_cookie(request)
    if isinstance(request.user, User):
        actions.do_set_language(request.user, request.POST.get("language", ""))
    return response


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _console_home() -> str:
    try:
        return reverse("orders:console_dashboard")
    except Exception:  # the shops URLs are always installed; this only guards odd test URLconfs
        return CONSOLE_HOME


def _member(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- member sign-in ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def member_login(request: HttpRequest) -> HttpResponse:
    """Phone + one-time code. One plain form with two buttons, so it works without JavaScript.

    Inside WeChat's browser the member is first sent through WeChat's web authorisation (unless
    they came back from it: ``wechat`` in the query, or a WeChat identity waiting to be bound).
    A waiting identity is bound to the account the phone signs in to.
    """
    next_url = _safe_next(request, "/")
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    pending = wechat_actions.pending_identity(request.session)
    if (
        request.method == "GET"
        and wechat_client.enabled()
        and pending is None
        and "wechat" not in request.GET
        and wechat_selectors.is_wechat_browser(request.headers.get("User-Agent", ""))
    ):
        return redirect(f"{reverse('wechat:oauth_start')}?{urlencode({'next': next_url})}")
    context: dict[str, Any] = {
        "next": next_url,
        "phone": "",
        "code_sent": False,
        "error": None,
        "binding_wechat": pending is not None,
    }
    status = 200
    if request.method == "POST":
        phone = request.POST.get("phone", "").strip()
        context["phone"] = phone
        try:
            if request.POST.get("action") == "send":
                sent = actions.do_send_otp(phone, ip=client_ip(request))
                context.update(code_sent=True, phone=sent.phone, resend_after=sent.resend_after)
                messages.success(
                    request, _("验证码已发送至 %(phone)s，10 分钟内有效") % {"phone": mask_phone(sent.phone)}
                )
            else:
                user = actions.do_verify_otp(phone, request.POST.get("code", ""), ip=client_ip(request))
                identity = wechat_actions.take_pending(request.session)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                keep_choice_at_sign_in(request, user)
                if identity is not None:
                    _bind_wechat(request, user, identity)
                return HttpResponseRedirect(next_url)
        except DomainError as error:
            context.update(error=error, code_sent=request.POST.get("action") != "send")
            status = error.status
    return render(request, "accounts/login.html", context, status=status)


def _bind_wechat(request: HttpRequest, user: User, identity: wechat_client.WechatIdentity) -> None:
    try:
        wechat_actions.do_bind(user, identity)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已绑定微信，下次在微信中打开将自动登录"))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    was_console = request.POST.get("next", "").startswith("/console") or "/console" in request.headers.get(
        "Referer", ""
    )
    logout(request)
    if was_console:
        return redirect("accounts:console_login")
    return redirect(_safe_next(request, reverse("accounts:login")))


# --- staff sign-in -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def console_login(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, _console_home())
    context: dict[str, Any] = {"next": next_url, "username": "", "error": None}
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        context["username"] = username
        try:
            user = actions.check_staff_credentials(username, request.POST.get("password", ""), ip=client_ip(request))
        except DomainError as error:
            context["error"] = error
            status = error.status
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            keep_choice_at_sign_in(request, user)
            return HttpResponseRedirect(next_url)
    return render(request, "accounts/console_login.html", context, status=status)


# --- profile ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    errors: dict[str, str] = {}
    status = 200
    nickname = user.nickname
    if request.method == "POST":
        nickname = request.POST.get("nickname", "")
        try:
            actions.do_update_profile(user, nickname=nickname)
        except InvalidInput as error:
            errors = field_errors(error) or {"nickname": error.message}
            status = error.status
        else:
            messages.success(request, _("昵称已保存"))
            return redirect("accounts:me")
    context = {
        "profile": user,
        "nickname": nickname,
        "errors": errors,
        "default_address": selectors.default_address(user),
        "wechat_enabled": wechat_client.enabled(),
        "wechat_binding": wechat_selectors.binding_for(user),
        "in_wechat": wechat_selectors.is_wechat_browser(request.headers.get("User-Agent", "")),
    }
    return render(request, "accounts/me.html", context, status=status)


# --- addresses -------------------------------------------------------------------------------------


@login_required
@require_GET
def address_list(request: HttpRequest) -> HttpResponse:
    addresses = selectors.my_addresses(_member(request))
    return render(request, "accounts/addresses.html", {"addresses": addresses, "next": _safe_next(request, "")})


def _address_input(request: HttpRequest) -> actions.AddressInput:
    post = request.POST
    return actions.AddressInput(
        recipient=post.get("recipient", ""),
        phone=post.get("phone", ""),
        province_code=post.get("province_code", ""),
        city_code=post.get("city_code", ""),
        district_code=post.get("district_code", ""),
        detail=post.get("detail", ""),
        is_default=post.get("is_default") in {"1", "on", "true"},
    )


def _render_address_form(
    request: HttpRequest,
    *,
    values: dict[str, Any],
    address: Address | None,
    errors: dict[str, str],
    status: int = 200,
) -> HttpResponse:
    province_code = values.get("province_code", "")
    city_code = values.get("city_code", "")
    context = {
        "address": address,
        "values": values,
        "errors": errors,
        "provinces": provinces(),
        "cities": children_of(province_code) if province_code else [],
        "districts": children_of(city_code) if city_code else [],
        "next": _safe_next(request, ""),
    }
    return render(request, "accounts/address_form.html", context, status=status)


def _after_address_saved(request: HttpRequest) -> HttpResponse:
    return redirect(_safe_next(request, reverse("accounts:addresses")))


@login_required
@require_http_methods(["GET", "POST"])
def address_new(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    if request.method == "POST":
        data = _address_input(request)
        try:
            actions.do_create_address(user, data)
        except InvalidInput as error:
            return _render_address_form(
                request, values=vars(data), address=None, errors=field_errors(error), status=error.status
            )
        messages.success(request, _("地址已保存"))
        return _after_address_saved(request)
    first = not selectors.my_addresses(user).exists()
    values = {"recipient": "", "phone": user.phone or "", "is_default": first}
    return _render_address_form(request, values=values, address=None, errors={})


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, address_id: int) -> HttpResponse:
    user = _member(request)
    address = selectors.access_address(user, address_id)
    if request.method == "POST":
        data = _address_input(request)
        try:
            actions.do_update_address(user, address.pk, data)
        except InvalidInput as error:
            return _render_address_form(
                request, values=vars(data), address=address, errors=field_errors(error), status=error.status
            )
        messages.success(request, _("地址已保存"))
        return _after_address_saved(request)
    values = {
        name: getattr(address, name)
        for name in ("recipient", "phone", "province_code", "city_code", "district_code", "detail", "is_default")
    }
    return _render_address_form(request, values=values, address=address, errors={})


@login_required
@require_POST
def address_set_default(request: HttpRequest, address_id: int) -> HttpResponse:
    actions.do_set_default_address(_member(request), address_id)
    messages.success(request, _("已设为默认地址"))
    return _after_address_saved(request)


@login_required
@require_POST
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    actions.do_delete_address(_member(request), address_id)
    messages.success(request, _("地址已删除"))
    return _after_address_saved(request)


@require_GET
def regions(request: HttpRequest, code: str) -> JsonResponse:
    """Children of a region for the cascading picker ("0" for provinces)."""
    items = [
        {"code": region.code, "name": region.name, "level": region.level, "has_children": region.has_children}
        for region in children_of(code)
    ]
    response = JsonResponse({"code": code, "items": items})
    response["Cache-Control"] = "public, max-age=86400"
    return response
