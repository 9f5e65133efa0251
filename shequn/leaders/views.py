"""Member pages (apply, the leader console shell on mobile, a leader's pickup-point card) and
the operator's leader management pages. Thin: parse, call one action, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequn.core.audit import client_ip
from shequn.core.errors import DomainError
from shequn.core.pages import field_errors, int_or_none
from shequn.core.phone import mask_phone
from shequn.shops.console import console_view
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import LeaderStatus

PAGE_SIZE = 20
APPLY_FIELDS = (
    "community",
    "sub_group",
    "point_name",
    "point_address",
    "opening_hours",
    "contact_phone",
    "latitude",
    "longitude",
    "capacity_per_day",
    "note",
)


# --- members -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, shop_slug: str) -> HttpResponse:
    """Apply to lead; ``?community=<id>`` preselects a community (a link others can share)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    shop = selectors.shop_by_slug(shop_slug)
    communities = selectors.require_applicable_communities(request.user, shop)
    existing = selectors.my_application(request.user, shop)
    values: dict[str, Any] = {"community": int_or_none(request.GET.get("community"))}
    if values["community"] is None and len(communities) == 1:
        values["community"] = communities[0].pk
    errors: dict[str, str] = {}
    error_message = ""
    if request.method == "POST":
        values = {name: (request.POST.get(name) or "").strip() for name in APPLY_FIELDS}
        try:
            actions.do_apply(
                request.user,
                shop,
                community_id=values["community"],
                sub_group_id=values["sub_group"],
                note=values["note"],
                point_name=values["point_name"],
                point_address=values["point_address"],
                opening_hours=values["opening_hours"],
                contact_phone=values["contact_phone"],
                latitude=values["latitude"],
                longitude=values["longitude"],
                capacity_per_day=values["capacity_per_day"],
            )
        except DomainError as error:
            errors, error_message = field_errors(error), error.message
            values["community"] = int_or_none(values["community"])
            values["sub_group"] = int_or_none(values["sub_group"])
        else:
            messages.success(request, _("申请已提交，店铺审核后会通知你"))
            return redirect("leaders:home")
    elif existing is not None and existing.status == LeaderStatus.REJECTED:
        values.update(
            community=existing.community_id,
            sub_group=existing.sub_group_id,
            point_name=existing.point_name,
            point_address=existing.point_address,
            opening_hours=existing.opening_hours,
            contact_phone=existing.contact_phone,
            latitude=existing.latitude if existing.latitude is not None else "",
            longitude=existing.longitude if existing.longitude is not None else "",
            capacity_per_day=existing.capacity_per_day or "",
            note=existing.application_note,
        )
    return render(
        request,
        "leaders/apply.html",
        {
            "shop": shop,
            "communities": communities,
            "sub_groups": selectors.sub_groups_of(communities),
            "existing": existing,
            "can_apply": existing is None or existing.status == LeaderStatus.REJECTED,
            "values": values,
            "errors": errors,
            "error_message": error_message,
        },
        status=422 if errors or error_message else 200,
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The leader console shell: each role's status, pickup point and commission, with links
    to the campaign, pick-list, receiving, pickup and commission pages of the other apps."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "leaders/home.html",
        {
            "roles": list(selectors.my_leader_roles(request.user)),
            "shops_to_apply": selectors.shops_to_apply(request.user),
        },
    )


@require_GET
def point(request: HttpRequest, leader_id: int) -> HttpResponse:
    """A leader's pickup point as a member of their community sees it (contact phone masked)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    leader = selectors.member_leader(request.user, leader_id)
    is_self = leader.user_id == request.user.pk
    return render(
        request,
        "leaders/point.html",
        {"leader": leader, "contact": leader.contact_phone if is_self else mask_phone(leader.contact_phone)},
    )


# --- console -----------------------------------------------------------------------


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_leaders(request: HttpRequest) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    status = request.GET.get("status", LeaderStatus.APPLIED)
    if status not in LeaderStatus.values:
        status = ""
    leaders = selectors.shop_leaders(shop, status or None)
    return render(
        request,
        "leaders/console/leaders.html",
        {
            "page_obj": Paginator(leaders, PAGE_SIZE).get_page(request.GET.get("page")),
            "status": status,
            "statuses": LeaderStatus.choices,
            "pending": selectors.pending_count(shop),
        },
    )


@console_view(MANAGE_COMMUNITIES)
@require_GET
def console_leader(request: HttpRequest, leader_id: int) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    leader = selectors.access_leader(shop, leader_id)
    return render(
        request,
        "leaders/console/leader.html",
        {"leader": leader},
    )


def _console_write(request: HttpRequest, leader_id: int, step: str) -> HttpResponse:
    shop = request.console_shop  # type: ignore[attr-defined]
    leader = selectors.access_leader(shop, leader_id)
    actor, ip = request.user, client_ip(request)
    try:
        if step == "approve":
            rate = actions.commission_percent_to_bp(request.POST.get("commission_percent") or "0")
            actions.do_approve(shop, leader, commission_rate_bp=rate, actor=actor, ip=ip)
            done = _("已通过，自提点「%(point_name)s」已开通") % {"point_name": leader.point_name}
        elif step == "reject":
            actions.do_reject(shop, leader, reason=request.POST.get("reason"), actor=actor, ip=ip)
            done = _("已拒绝申请，并通知了申请人")
        elif step == "suspend":
            actions.do_suspend(shop, leader, reason=request.POST.get("reason"), actor=actor, ip=ip)
            done = _("已暂停该团长")
        elif step == "resume":
            actions.do_resume(shop, leader, actor=actor, ip=ip)
            done = _("已恢复该团长")
        else:
            changes: dict[str, Any] = {
                name: request.POST.get(name, "")
                for name in (*actions.POINT_FIELDS, "capacity_per_day")
                if name in request.POST
            }
            if "commission_percent" in request.POST:
                changes["commission_rate_bp"] = actions.commission_percent_to_bp(request.POST["commission_percent"])
            actions.do_update(shop, leader, changes, actor=actor, ip=ip)
            done = _("团长信息已保存")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("leaders:console_leader", leader_id=leader.pk)


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_approve(request: HttpRequest, leader_id: int) -> HttpResponse:
    return _console_write(request, leader_id, "approve")


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_reject(request: HttpRequest, leader_id: int) -> HttpResponse:
    return _console_write(request, leader_id, "reject")


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_suspend(request: HttpRequest, leader_id: int) -> HttpResponse:
    return _console_write(request, leader_id, "suspend")


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_resume(request: HttpRequest, leader_id: int) -> HttpResponse:
    return _console_write(request, leader_id, "resume")


@console_view(MANAGE_COMMUNITIES)
@require_POST
def console_update(request: HttpRequest, leader_id: int) -> HttpResponse:
    return _console_write(request, leader_id, "update")
