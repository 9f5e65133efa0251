"""Pages of the privacy app: the member's 数据与账号 page; the console's log of data requests. Thin views."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shequn.accounts.models import User
from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.phone import mask_phone
from shequn.shops import permissions
from shequn.shops.console import console_view
from shequn.shops.forms import add_domain_error

from . import actions, selectors
from .exports import as_download
from .forms import DeletionCodeForm

LOG_PAGE_SIZE = 50


def _member(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _render_my_data(
    request: HttpRequest, *, form: DeletionCodeForm | None = None, code_sent: bool = False, status: int = 200
) -> HttpResponse:
    user = _member(request)
    context: dict[str, Any] = {
        "blockers": selectors.deletion_blockers(user),
        "kept": actions.KEPT_AFTER_DELETION,
        "forfeited_fen": selectors.forfeited_on_deletion_fen(user),
        "masked_phone": mask_phone(user.phone or ""),
        "form": form or DeletionCodeForm(),
        "code_sent": code_sent,
    }
    return render(request, "privacy/my_data.html", context, status=status)


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return _render_my_data(request)


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    return as_download(actions.do_export(_member(request), request.GET.get("format", "")))


@login_required
@require_POST
def send_deletion_code(request: HttpRequest) -> HttpResponse:
    form = DeletionCodeForm()
    try:
        sent = actions.do_send_deletion_code(_member(request), ip=client_ip(request))
    except DomainError as error:
        add_domain_error(form, error)
        return _render_my_data(request, form=form, status=error.status)
    messages.success(request, _("验证码已发送至 %(phone)s，10 分钟内有效") % {"phone": mask_phone(sent.phone)})
    return _render_my_data(request, code_sent=True)


@login_required
@require_POST
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeletionCodeForm(request.POST)
    if not form.is_valid():
        return _render_my_data(request, form=form, code_sent=True, status=422)
    try:
        actions.do_delete_account(_member(request), form.cleaned_data["code"], ip=client_ip(request))
    except DomainError as error:
        add_domain_error(form, error)
        return _render_my_data(request, form=form, code_sent=True, status=error.status)
    logout(request)
    messages.success(request, _("账号已注销，你的个人信息已删除"))
    return redirect("accounts:login")


@console_view(permissions.VIEW_AUDIT)
@require_GET
def console_requests(request: HttpRequest) -> HttpResponse:
    """Data requests of the shop's members (export, deletion), the member shown masked."""
    rows = selectors.shop_requests(request.console_shop)  # type: ignore[attr-defined]
    page = Paginator(rows, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "privacy/console/requests.html", {"page": page})
