"""Merchant onboarding and the platform's decisions (docs/adr/0014).

A signed-in person applies (``do_apply``); a platform admin approves (the shop is created and
the applicant becomes its owner) or rejects with a reason (``do_approve``, ``do_reject``); the
applicant hears of it in the inbox. The platform suspends, reinstates or closes a shop through
``shops.state.transition`` (``do_change_shop_status``), which writes the shop's audit trail.
"""

import os
import re
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.catalog.actions import check_image_upload, thumbnail_jpeg
from shequn.core import audit
from shequn.core.errors import Conflict, InvalidInput, InvalidTransition, NotAuthenticated, NotFound
from shequn.core.i18n import in_language_of
from shequn.notifications.actions import notify
from shequn.shops import state as shop_state
from shequn.shops.enums import ShopCategory, ShopStatus, StaffRole
from shequn.shops.models import Shop, StaffMember

from . import licence
from .enums import ApplicationStatus, BusinessSubject
from .models import MerchantApplication
from .selectors import access_application, check_platform_staff

MAX_NAME_LENGTH = 30
MIN_SLUG_LENGTH, MAX_SLUG_LENGTH = 3, 32
MAX_REASON_LENGTH = 200
# Lower-case letters, digits and single hyphens inside; starts with a letter: it is the shop's
# address (/s/<slug>/) and reads aloud.
_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# Words a shop may not take: the site's own paths and names that would pass for the platform.
RESERVED_SLUGS = frozenset(
    {
        "admin", "api", "app", "c", "cart", "checkout", "console", "flash", "groupbuy", "help", "inbox",
        "leader", "login", "logout", "me", "media", "merchant", "merchants", "official", "open-shop",
        "orders", "platform", "promoter", "root", "s", "sandbox-pay", "shequn", "shop", "shops",
        "static", "support", "system", "teambuy", "wallet", "wechat", "weixin", "www",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ApplicationInput:
    name: str
    slug: str
    category: str
    business_subject: str
    licence_number: str = ""


def _invalid(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, details={"fields": {field: message}})


def check_slug(raw: str) -> str:
    """The slug as stored (trimmed, lower case) if it is well formed, not reserved and free."""
    slug = (raw or "").strip().lower()
    if not MIN_SLUG_LENGTH <= len(slug) <= MAX_SLUG_LENGTH:
        raise _invalid(
            "slug",
            _("店铺地址须为 %(min)s–%(max)s 个字符") % {"min": MIN_SLUG_LENGTH, "max": MAX_SLUG_LENGTH},
            "slug_length",
        )
    if not _SLUG.match(slug):
        raise _invalid(
            "slug", _("店铺地址只能用小写字母、数字和短横线，以字母开头，短横线不能连用或结尾"), "slug_invalid"
        )
    if slug in RESERVED_SLUGS:
        raise _invalid("slug", _("「%(slug)s」是保留地址，请换一个") % {"slug": slug}, "slug_reserved")
    taken = (
        Shop.objects.filter(slug=slug).exists()
        or MerchantApplication.objects.filter(slug=slug, status=ApplicationStatus.PENDING).exists()
    )
    if taken:
        raise _invalid("slug", _("店铺地址「%(slug)s」已被占用，请换一个") % {"slug": slug}, "slug_taken")
    return slug


def check_licence(business_subject: str, raw: str) -> str:
    """The licence number as stored: none for 个人, a valid unified social credit code otherwise."""
    if business_subject not in BusinessSubject.values:
        raise _invalid("business_subject", _("请选择经营主体"), "business_subject_invalid")
    code = licence.normalise(raw)
    if business_subject == BusinessSubject.INDIVIDUAL:
        return ""  # a person selling on their own has no licence to give
    if not code:
        raise _invalid("licence_number", _("个体工商户和企业须填写统一社会信用代码"), "licence_required")
    problem = licence.licence_problem(code)
    if problem:
        raise _invalid("licence_number", problem, "licence_invalid")
    return code


def check_application(data: ApplicationInput) -> dict[str, str]:
    name = " ".join((data.name or "").split())
    if not name:
        raise _invalid("name", _("请填写店铺名称"), "name_required")
    if len(name) > MAX_NAME_LENGTH:
        raise _invalid("name", _("店铺名称最多 %(max)s 个字") % {"max": MAX_NAME_LENGTH}, "name_too_long")
    if data.category not in ShopCategory.values:
        raise _invalid("category", _("请选择经营类目"), "category_invalid")
    return {
        "name": name,
        "slug": check_slug(data.slug),
        "category": data.category,
        "business_subject": data.business_subject,
        "licence_number": check_licence(data.business_subject, data.licence_number),
    }


def do_apply(user: Any, data: ApplicationInput, *, logo: UploadedFile | None = None) -> MerchantApplication:
    """File an application to open a shop; it waits for a platform admin."""
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先用手机号登录"))
    if MerchantApplication.objects.filter(applicant=user, status=ApplicationStatus.PENDING).exists():
        raise Conflict(_("你已有一份待审核的开店申请，请等待平台审核"), code="application_pending")
    values = check_application(data)
    image = check_image_upload(logo) if logo is not None else None
    application = MerchantApplication(applicant=user, **values)
    if logo is not None and image is not None:
        stem = os.path.splitext(os.path.basename(logo.name or "logo"))[0][:40] or "logo"
        application.logo.save(f"{stem}-logo.jpg", thumbnail_jpeg(image), save=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        # Two submissions at once: the database keeps one waiting application per person and per slug.
        raise Conflict(_("店铺地址已被占用，或你已有待审核的申请"), code="application_conflict") from None
    return application


def _pending(application_id: int) -> MerchantApplication:
    application = access_application(application_id, lock=True)
    if application.status != ApplicationStatus.PENDING:
        raise InvalidTransition(
            _("该申请%(value)s，不能再处理") % {"value": application.get_status_display()}, code="application_decided"
        )
    return application


def do_approve(admin: Any, application_id: int, *, ip: str | None = None) -> MerchantApplication:
    """Open the shop: created active from the application, the applicant its owner."""
    check_platform_staff(admin)
    with transaction.atomic():
        application = _pending(application_id)
        if Shop.objects.filter(slug=application.slug).exists():
            raise Conflict(
                _("店铺地址「%(slug)s」已被占用，请驳回并请申请人换一个") % {"slug": application.slug},
                code="slug_taken",
            )
        shop = Shop.objects.create(
            name=application.name,
            slug=application.slug,
            category=application.category,
            logo=application.logo.name,
            status=ShopStatus.ACTIVE,
        )
        StaffMember.objects.create(shop=shop, user=application.applicant, role=StaffRole.OWNER)
        application.status, application.shop = ApplicationStatus.APPROVED, shop
        application.decided_by, application.decided_at = admin, timezone.now()
        application.save(update_fields=["status", "shop", "decided_by", "decided_at"])
        audit.record(actor=admin, shop=shop, action="merchant.approve", obj=application, ip=ip)
        with in_language_of(application.applicant):
            notify(
                application.applicant,
                shop=shop,
                kind="merchant.approved",
                title=_("开店申请已通过"),
                body=_("「%(name)s」已开通，进入商家控制台按开店指引添加社群、商品并完成支付设置。")
                % {"name": shop.name},
                link="/console/",
            )
    return application


def check_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise _invalid("reason", _("请填写原因"), "reason_required")
    if len(reason) > MAX_REASON_LENGTH:
        raise _invalid(
            "reason",
            _("原因最多 %(max)s 个字") % {"max": MAX_REASON_LENGTH},
            "reason_too_long",
        )
    return reason


def do_reject(admin: Any, application_id: int, *, reason: str, ip: str | None = None) -> MerchantApplication:
    """Refuse the application with a reason the applicant reads in the inbox; they may apply again."""
    check_platform_staff(admin)
    reason = check_reason(reason)
    with transaction.atomic():
        application = _pending(application_id)
        application.status, application.reason = ApplicationStatus.REJECTED, reason
        application.decided_by, application.decided_at = admin, timezone.now()
        application.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        audit.record(actor=admin, shop=None, action="merchant.reject", obj=application, ip=ip, reason=reason)
        with in_language_of(application.applicant):
            notify(
                application.applicant,
                shop=None,
                kind="merchant.rejected",
                title=_("开店申请未通过"),
                body=_("「%(name)s」未通过审核：%(reason)s。修改后可重新申请。")
                % {"name": application.name, "reason": reason},
                link="/open-shop/",
            )
    return application


# What each platform action moves the shop to, and what the owners read.
SHOP_MOVES = {
    "suspend": (ShopStatus.SUSPENDED, gettext_noop("店铺已被暂停营业")),
    "reinstate": (ShopStatus.ACTIVE, gettext_noop("店铺已恢复营业")),
    "close": (ShopStatus.CLOSED, gettext_noop("店铺已被关闭")),
}


def allowed_moves(shop: Shop) -> list[tuple[str, str]]:
    """The platform actions ``shop`` allows now, as (move, label), for the platform console."""
    labels = {"suspend": _("暂停营业"), "reinstate": _("恢复营业"), "close": _("关闭店铺")}
    allowed = shop_state.SHOP_TRANSITIONS.get(shop.status, frozenset())
    return [(move, labels[move]) for move, (to_status, _title) in SHOP_MOVES.items() if to_status in allowed]


def do_change_shop_status(admin: Any, shop_id: int, move: str, *, reason: str, ip: str | None = None) -> Shop:
    """Suspend, reinstate or close a shop, with a reason (kept in the audit trail); its owners
    are told in the inbox. The shop's data is never touched."""
    check_platform_staff(admin)
    if move not in SHOP_MOVES:
        raise _invalid("move", _("未知的操作"), "move_invalid")
    to_status, title = SHOP_MOVES[move]
    reason = check_reason(reason)
    with transaction.atomic():
        shop = Shop.objects.select_for_update().filter(pk=shop_id).first()
        if shop is None:
            raise NotFound(_("店铺不存在"), code="shop_not_found")
        shop_state.transition(shop, to_status, actor=admin, reason=reason, ip=ip)
        owners = StaffMember.objects.filter(shop=shop, role=StaffRole.OWNER, is_active=True).select_related("user")
        for owner in owners:
            with in_language_of(owner.user):
                notify(
                    owner.user,
                    shop=shop,
                    kind=f"shop.{move}",
                    title=_(title),
                    body=_("原因：%(reason)s") % {"reason": reason},
                    link="/console/",
                )
    return shop
