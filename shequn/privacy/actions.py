"""Every write of the privacy app: a member exports their data or deletes their account (PIPL).

Deletion anonymises, it does not delete: order, payment and refund rows stay for the three years
the law asks (docs RULES.md), tied to a user row that no longer says who the person was, so the
shop's totals, stock and commission books read the same before and after.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequn.accounts.actions import OtpSent, do_send_otp, do_verify_otp
from shequn.accounts.models import Address, ApiToken, OtpCode, User
from shequn.communities.models import JoinRequest
from shequn.core.errors import Conflict, InvalidInput
from shequn.core.events import on_commit
from shequn.core.models import AuditLog, IdempotencyKey
from shequn.core.phone import mask_phone
from shequn.leaders.models import Leader
from shequn.notifications.models import Notification, SubscribeConsent, SubscribeMessage
from shequn.orders.models import CartItem, Order
from shequn.wallets import actions as wallet_actions
from shequn.wechat.models import WechatBinding

from . import selectors
from .enums import ExportFormat, RequestKind, RequestOutcome
from .exports import ExportFile, render
from .models import DataRequest

# What a deleted member is called wherever their name used to show (board posts, order lists).
DELETED_NAME = "已注销用户"
# What the member is told before deleting: what goes, what is kept and why.
KEPT_AFTER_DELETION = gettext_lazy(
    "注销后，你的昵称、手机号、收货地址、站内消息和登录令牌会被删除或匿名化，无法再登录；"
    "订单、支付和退款记录依法保留至少 3 年（电子商务法），但不再显示你的姓名、电话和地址；"
    "你在互动区发的帖子和评论保留，作者显示为「已注销用户」。同一手机号之后可以重新注册为新账号。"
)


def _record(
    user: User,
    kind: str,
    outcome: str,
    *,
    masked_phone: str,
    shop_ids: list[int],
    export_format: str = "",
    note: str = "",
) -> DataRequest:
    row = DataRequest.objects.create(
        user=user, kind=kind, outcome=outcome, export_format=export_format, member_masked=masked_phone, note=note
    )
    DataRequest.shops.through.objects.bulk_create(
        [DataRequest.shops.through(datarequest_id=row.pk, shop_id=shop_id) for shop_id in shop_ids]
    )
    return row


# --- export -----------------------------------------------------------------------------------------


def check_export_format(value: str) -> str:
    if value not in ExportFormat.values:
        raise InvalidInput(_("导出格式只能是 json 或 csv"), code="export_format_invalid")
    return value


def do_export(user: User, export_format: str, *, now: datetime | None = None) -> ExportFile:
    """The member's data as a file, logged for staff. A fixed number of statements (see selectors)."""
    export_format = check_export_format(export_format)
    file = render(selectors.member_data(user), export_format, now=now or timezone.now())
    _record(
        user,
        RequestKind.EXPORT,
        RequestOutcome.DONE,
        masked_phone=mask_phone(user.phone or ""),
        shop_ids=selectors.shops_concerned(user),
        export_format=export_format,
    )
    return file


# --- deletion ---------------------------------------------------------------------------------------


class DeletionBlocked(Conflict):
    code = "deletion_blocked"


def check_can_delete_account(user: User) -> None:
    """Refuse while something in flight still needs the member; the message says what to do."""
    blockers = selectors.deletion_blockers(user)
    if blockers:
        raise DeletionBlocked(
            _("暂时无法注销账号：") + _("；").join(blocker.message for blocker in blockers),
            details={"blockers": [{"code": blocker.code, "message": blocker.message} for blocker in blockers]},
        )


def do_send_deletion_code(user: User, *, ip: str | None) -> OtpSent:
    """Text the member a code that confirms the deletion (the sign-in code, with its limits)."""
    check_can_delete_account(user)
    assert user.phone  # a member without a phone is a blocker
    return do_send_otp(user.phone, ip=ip)


def do_delete_account(user: User, code: str, *, ip: str | None) -> DataRequest:
    """Check, confirm by the texted code, anonymise everywhere and log it; a refusal is logged too."""
    shop_ids = selectors.shops_concerned(user)
    masked = mask_phone(user.phone or "")
    try:
        check_can_delete_account(user)
        assert user.phone
        if do_verify_otp(user.phone, code, ip=ip).pk != user.pk:  # the phone is unique: never in practice
            raise InvalidInput(_("验证码无效或已过期，请重新获取"), code="otp_invalid")
        with transaction.atomic():
            # The account row first, as every order's transaction takes it (orders.actions._lock_buyers):
            # an order being placed commits first and is then a blocker below; one placed after waits
            # and is refused, the account inactive. No order ever gets an anonymised buyer.
            User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
            check_can_delete_account(user)
            wallet_actions.forfeit_spendable(user)
            _anonymise(user)
            return _record(user, RequestKind.DELETION, RequestOutcome.DONE, masked_phone=masked, shop_ids=shop_ids)
    except DeletionBlocked as error:
        codes = ",".join(blocker["code"] for blocker in error.details["blockers"])
        _record(user, RequestKind.DELETION, RequestOutcome.REFUSED, masked_phone=masked, shop_ids=shop_ids, note=codes)
        raise


def _anonymise(user: User) -> None:
    """Remove the member's personal data from every table that holds it, one statement per table."""
    now = timezone.now()
    phone = user.phone or ""
    Address.objects.filter(user=user).delete()
    # The orders stay (records kept 3 years); who received them and where does not. Province and
    # city stay for the shop's regional figures: they do not identify anyone.
    Order.objects.filter(user=user).update(
        recipient="", recipient_phone="", district="", address_detail="", buyer_note=""
    )
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    OtpCode.objects.filter(phone=phone).delete()
    Notification.objects.filter(user=user).delete()
    # WeChat subscribe messages copy a notification's title and text; consents name the member's choices.
    SubscribeMessage.objects.filter(user=user).delete()
    SubscribeConsent.objects.filter(user=user).delete()
    CartItem.objects.filter(user=user).delete()
    # The openid would let WeChat's browser sign in to the anonymised account, and names the person.
    WechatBinding.objects.filter(user=user).delete()
    # Stored API responses (an order's, with its address) serve only retries of the member's calls.
    IdempotencyKey.objects.filter(user=user).delete()
    JoinRequest.objects.filter(user=user).update(message="")
    # Past leader applications (live ones block the deletion) proposed a pickup point at home.
    Leader.objects.filter(user=user).update(
        point_address="", contact_phone="", application_note="", latitude=None, longitude=None
    )
    # The audit log keeps what staff did, not the member's name in its object labels.
    leader_ids = Leader.objects.filter(user=user).annotate(text_id=Cast("pk", CharField())).values("text_id")
    AuditLog.objects.filter(object_type="accounts.user", object_id=str(user.pk)).update(object_repr=DELETED_NAME)
    AuditLog.objects.filter(object_type="leaders.leader", object_id__in=leader_ids).update(object_repr=DELETED_NAME)
    avatar = user.avatar.name
    if avatar:
        on_commit(user.avatar.storage.delete, avatar)
    # A new password hash ends every session (Django checks it on each request); inactive users
    # cannot sign in; the freed phone and the phone-derived username let the number sign up anew.
    user.username = f"deleted-{user.pk}"
    user.nickname = DELETED_NAME
    user.phone = None
    user.avatar = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["username", "nickname", "phone", "avatar", "is_active", "password"])
