"""Pages of WeChat sign-in: start the authorisation, take WeChat's callback, unbind. Thin views."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shequn.core.errors import DomainError
from shequn.core.i18n import keep_choice_at_sign_in

from . import actions, client

# Where a member goes when WeChat sign-in cannot finish: the phone sign-in page, which does not
# send them back to WeChat while ``wechat`` is in its query.
PHONE_SIGN_IN = "accounts:login"


def _phone_sign_in(next_url: str) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse(PHONE_SIGN_IN)}?{urlencode({'next': next_url, 'wechat': 'phone'})}")


@require_GET
def oauth_start(request: HttpRequest) -> HttpResponse:
    if not client.enabled():
        raise Http404
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    state = actions.issue_state(request.session, next_url)
    redirect_uri = f"{settings.SITE_URL}{reverse('wechat:oauth_callback')}"
    return HttpResponseRedirect(
        client.authorize_url(redirect_uri=redirect_uri, scope=settings.WECHAT_OAUTH_SCOPE, state=state)
    )


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """WeChat sends the member back here with ``code`` (absent if they declined) and our ``state``."""
    if not client.enabled():
        raise Http404
    try:
        next_url = actions.consume_state(request.session, request.GET.get("state", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("accounts:me") if request.user.is_authenticated else _phone_sign_in("/")
    try:
        identity = actions.do_exchange_code(request.GET.get("code", ""))
        if request.user.is_authenticated:
            actions.do_bind(request.user, identity)
            messages.success(request, _("已绑定微信"))
            return redirect(next_url)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(next_url) if request.user.is_authenticated else _phone_sign_in(next_url)
    user = actions.do_sign_in(identity)
    if user is not None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        keep_choice_at_sign_in(request, user)
        return redirect(next_url)
    actions.hold_pending(request.session, identity)
    messages.info(request, _("首次使用微信登录，请验证手机号，完成后微信将绑定到该账号"))
    return _phone_sign_in(next_url)


@login_required
@require_POST
def unbind(request: HttpRequest) -> HttpResponse:
    actions.do_unbind(request.user)
    messages.success(request, _("已解绑微信，在微信中需用手机号重新登录"))
    return redirect("accounts:me")
