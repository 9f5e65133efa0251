"""Pages of coupons: the member's claim centre (领券中心) and 我的优惠券, the claim button of the
centre and of post cards, and the console (list with figures, form, issue, post card). Thin:
parse, call one action, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.pages import int_or_none
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_CATALOG

from . import actions, selectors
from .forms import CouponTemplateForm, IssueForm, PostCardForm
from .models import CouponTemplate
from .rules import coupon_face, describe, members_only, rule_notes

MY_TAB_LABELS = [
    ("usable", gettext_lazy("可使用")),
    ("used", gettext_lazy("已使用")),
    ("expired", gettext_lazy("已过期")),
]


def _face(template: CouponTemplate) -> dict[str, object]:
    return {"template": template, "face": describe(template), "rules": rule_notes(template)}


# --- members -------------------------------------------------------------------------


@require_GET
def claim_centre(request: HttpRequest) -> HttpResponse:
    """领券中心: the coupons members may claim now (of one shop with ``?shop=``)."""
    templates = list(selectors.claim_centre(request.GET.get("shop") or None)[:50])
    held = selectors.held_counts(request.user, [t.pk for t in templates])
    audience = selectors.audience_of(request.user, templates)
    rows = [
        {**_face(t), "held": held.get(t.pk, 0), "refusal": None if t.pk in audience else members_only(t)}
        for t in templates
    ]
    return render(request, "coupons/centre.html", {"rows": rows})


@login_required
@require_POST
def claim(request: HttpRequest, template_id: int) -> HttpResponse:
    """领取 from the centre or a post's card (``post``); back to where the member was."""
    try:
        coupon = actions.claim(request.user, template_id, post_id=int_or_none(request.POST.get("post")))
        messages.success(request, _("领取成功：%(name)s") % {"name": coupon.template.name})
    except DomainError as error:
        messages.error(request, error.message)
    back = request.POST.get("next") or ""
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("coupons:centre")


@login_required
@require_GET
def my_coupons(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab") or "usable"
    if tab not in selectors.MY_TABS:
        tab = "usable"
    coupons = selectors.my_coupons(request.user, tab).prefetch_related("orders")[:100]
    rows = [{"coupon": coupon, **_face(coupon.template), "face": coupon_face(coupon)} for coupon in coupons]
    return render(request, "coupons/mine.html", {"rows": rows, "tab": tab, "tabs": MY_TAB_LABELS})


# --- console ---------------------------------------------------------------------------


@console_view(MANAGE_CATALOG)
@require_GET
def console_templates(request: HttpRequest) -> HttpResponse:
    templates = list(selectors.shop_templates(request.console_shop)[:100])  # type: ignore[attr-defined]
    figures = selectors.template_figures(templates)
    rows = [{**_face(t), "figures": figures[t.pk]} for t in templates]
    return render(request, "coupons/console/templates.html", {"rows": rows})


def _console_form(request: HttpRequest, template: CouponTemplate | None) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    if request.method == "POST":
        form = CouponTemplateForm(request.POST, shop=shop, template=template)
        if form.is_valid():
            try:
                if template is None:
                    template = actions.create_template(shop, request.user, form.to_input(), ip=client_ip(request))
                else:
                    actions.update_template(shop, request.user, template.pk, form.to_input(), ip=client_ip(request))
                messages.success(request, _("优惠券已保存"))
                return redirect("coupons:console_template", template.pk)
            except DomainError as error:
                form.show_error(error.message, (error.details or {}).get("field"))
    else:
        form = CouponTemplateForm(shop=shop, template=template)
    return render(request, "coupons/console/form.html", {"form": form, "template": template})


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_create(request: HttpRequest) -> HttpResponse:
    return _console_form(request, None)


@console_view(MANAGE_CATALOG)
@require_http_methods(["GET", "POST"])
def console_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = selectors.access_template(request.console_shop, template_id)  # type: ignore[attr-defined]
    if template.own_amounts:
        messages.error(request, actions.RED_PACKET_TEMPLATE_FROZEN)
        return redirect("coupons:console_template", template.pk)
    return _console_form(request, template)


def _detail(request: HttpRequest, template: CouponTemplate, **forms: object) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    context = {
        **_face(template),
        "figures": selectors.template_figures([template])[template.pk],
        "issued_amounts_fen": selectors.issued_amounts_fen(template) if template.own_amounts else None,
        "issue_form": forms.get("issue_form") or IssueForm(shop=shop),
        "post_form": forms.get("post_form") or PostCardForm(shop=shop),
        "cards": template.post_cards.select_related("post__community"),
    }
    return render(request, "coupons/console/template.html", context, status=200 if not forms else 422)


@console_view(MANAGE_CATALOG)
@require_GET
def console_template(request: HttpRequest, template_id: int) -> HttpResponse:
    return _detail(request, selectors.access_template(request.console_shop, template_id))  # type: ignore[attr-defined]


@console_view(MANAGE_CATALOG)
@require_POST
def console_issue(request: HttpRequest, template_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    template = selectors.access_template(shop, template_id)
    form = IssueForm(request.POST, shop=shop)
    if form.is_valid():
        try:
            tag = form.cleaned_data.get("tag")
            result = actions.issue_to_members(
                shop,
                request.user,
                template.pk,
                tag_id=tag.pk if tag else None,
                phones=form.phone_list(),
                ip=client_ip(request),
            )
            messages.success(
                request,
                _("已发放 %(issued)d 张，跳过 %(skipped)d 人（非社群成员、已达每人限领或券已发完）")
                % {"issued": result.issued, "skipped": result.skipped},
            )
            return redirect("coupons:console_template", template.pk)
        except DomainError as error:
            form.add_error(None, error.message)
    return _detail(request, template, issue_form=form)


@console_view(MANAGE_CATALOG)
@require_POST
def console_post_card(request: HttpRequest, template_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    template = selectors.access_template(shop, template_id)
    form = PostCardForm(request.POST, shop=shop)
    if form.is_valid():
        try:
            actions.put_on_post(shop, request.user, template.pk, form.cleaned_data["post"], ip=client_ip(request))
            messages.success(request, _("优惠券卡片已放进帖子"))
            return redirect("coupons:console_template", template.pk)
        except DomainError as error:
            form.add_error(None, error.message)
    return _detail(request, template, post_form=form)
