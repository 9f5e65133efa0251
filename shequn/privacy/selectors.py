"""Reads of the privacy app: a member's whole data as tables, what stops a deletion, the request log.

The export reads each kind of row with one statement (``values()`` with the joins it needs), so
its statement count is the number of tables, however many orders the member has (rule 12).
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from shequn.accounts.models import Address, ApiToken, User
from shequn.board.models import Comment, Thread
from shequn.communities.models import CommunityMembership
from shequn.core.money import format_fen
from shequn.coupons.models import MemberCoupon
from shequn.courses.models import Enrolment
from shequn.distribution.models import Commission
from shequn.events.models import Registration
from shequn.groupbuy.models import SignUp
from shequn.leaders.enums import LeaderStatus
from shequn.leaders.models import Leader
from shequn.lotteries.models import Entry as LotteryEntry
from shequn.lotteries.models import Spin, Win
from shequn.notifications.models import Notification, SubscribeConsent, SubscribeMessage
from shequn.orders.enums import OrderStatus, RefundStatus
from shequn.orders.models import Order, OrderLine, RefundRequest
from shequn.payments.models import Payment
from shequn.redpackets.models import RedPacketGrab
from shequn.shops.models import Shop, StaffMember
from shequn.teambuy.models import TeamMember
from shequn.wallets.enums import FORFEITED_KINDS, AccountKind
from shequn.wallets.models import Account, Entry, Withdrawal
from shequn.wechat.models import WechatBinding

from .models import DataRequest

UNPAID_STATUSES = (OrderStatus.PENDING_PAYMENT,)
# Paid but not yet in the member's hands: the shop still needs their name, phone and address.
UNDELIVERED_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.READY_FOR_PICKUP)
# Money still on its way back to the member (a failed refund waits for staff to retry it).
OPEN_REFUND_STATUSES = (RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.FAILED)
# Money still owed to the member: everything but what was already paid out.
UNWITHDRAWN_KINDS = (AccountKind.FROZEN, AccountKind.AVAILABLE, AccountKind.IN_TRANSIT)
# Stored value the member paid in and may ask back (ADR 0021): never forfeited by a deletion.
STORED_PRINCIPAL_KINDS = (AccountKind.STORED_PRINCIPAL, AccountKind.STORED_REFUNDING)
LIVE_LEADER_STATUSES = (LeaderStatus.APPLIED, LeaderStatus.ACTIVE, LeaderStatus.SUSPENDED)


# --- export -------------------------------------------------------------------------------------


# Each table: (name, the member's rows, the columns). Columns use the field names of the tables
# they come from; amounts are integer fen (``*_fen``), as everywhere in shequn.
def _tables(user: Any) -> list[tuple[str, QuerySet[Any], tuple[str, ...]]]:
    return [
        (
            "addresses",
            Address.objects.filter(user=user).order_by("id"),
            ("recipient", "phone", "province", "city", "district", "detail", "is_default", "created_at"),
        ),
        (
            "orders",
            Order.objects.filter(user=user).order_by("created_at", "id"),
            (
                "number",
                "shop__name",
                "status",
                "kind",
                "fulfilment",
                "payment_method",
                "recipient",
                "recipient_phone",
                "province",
                "city",
                "district",
                "address_detail",
                "pickup_point__name",
                "buyer_note",
                "items_total_fen",
                "shipping_fee_fen",
                "total_fen",
                "refunded_fen",
                "tracking_company",
                "tracking_number",
                "created_at",
                "paid_at",
                "shipped_at",
                "delivered_at",
                "completed_at",
                "closed_at",
            ),
        ),
        (
            "order_lines",
            OrderLine.objects.filter(order__user=user).order_by("order_id", "id"),
            ("order__number", "title", "spec", "unit_price_fen", "quantity", "total_fen", "refunded_fen"),
        ),
        (
            "payments",
            Payment.objects.filter(order__user=user).order_by("created_at", "id"),
            (
                "order__number",
                "gateway",
                "out_trade_no",
                "transaction_id",
                "amount_fen",
                "refunded_fen",
                "status",
                "created_at",
                "succeeded_at",
            ),
        ),
        (
            "refunds",
            RefundRequest.objects.filter(order__user=user).order_by("created_at", "id"),
            (
                "number",
                "order__number",
                "line__title",
                "status",
                "amount_fen",
                "reason",
                "reject_reason",
                "created_at",
                "decided_at",
                "refunded_at",
            ),
        ),
        (
            "community_memberships",
            CommunityMembership.objects.filter(user=user).order_by("joined_at", "id"),
            (
                "community__shop__name",
                "community__name",
                "role",
                "status",
                "sub_group__name",
                "joined_at",
                "expires_at",
            ),
        ),
        (
            "group_buy_sign_ups",
            SignUp.objects.filter(user=user).order_by("created_at", "id"),
            ("campaign__title", "order__number", "status", "sequence", "units", "tier_refunded_fen", "created_at"),
        ),
        (
            "team_buys",
            TeamMember.objects.filter(user=user).order_by("id"),
            ("team__offer__title", "order__number", "status", "joined_at"),
        ),
        (
            "event_registrations",
            Registration.objects.filter(user=user).order_by("created_at", "id"),
            ("event__title", "event__starts_at", "status", "created_at", "checked_in_at", "cancelled_at"),
        ),
        (
            "course_enrolments",
            Enrolment.objects.filter(user=user).order_by("enrolled_at", "id"),
            ("course__title", "source", "status", "enrolled_at", "refunded_at"),
        ),
        (
            "wallet_accounts",
            Account.objects.filter(holder=user).order_by("shop_id", "kind"),
            ("shop__name", "kind", "balance_fen"),
        ),
        (
            "wallet_entries",
            Entry.objects.filter(account__holder=user).order_by("id"),
            ("account__shop__name", "account__kind", "amount_fen", "transaction__memo", "transaction__created_at"),
        ),
        (
            "withdrawals",
            Withdrawal.objects.filter(holder=user).order_by("created_at", "id"),
            ("shop__name", "amount_fen", "status", "created_at", "finished_at", "reject_reason", "failure_reason"),
        ),
        (
            "commissions",
            Commission.objects.filter(promoter__user=user).order_by("created_at", "id"),
            ("shop__name", "tier", "base_fen", "amount_fen", "reversed_fen", "status", "created_at", "settled_at"),
        ),
        (
            "coupons",
            MemberCoupon.objects.filter(user=user).order_by("claimed_at", "id"),
            (
                "shop__name",
                "template__name",
                "template__kind",
                "status",
                "source",
                "valid_from",
                "valid_until",
                "claimed_at",
                "used_at",
            ),
        ),
        (
            "red_packet_grabs",
            RedPacketGrab.objects.filter(member=user).order_by("created_at", "id"),
            ("packet__shop__name", "packet__title", "position", "amount_fen", "created_at"),
        ),
        (
            "lottery_entries",
            LotteryEntry.objects.filter(user=user).order_by("created_at", "id"),
            ("lottery__shop__name", "lottery__title", "number", "created_at"),
        ),
        (
            "lottery_spins",
            Spin.objects.filter(user=user).order_by("created_at", "id"),
            ("lottery__shop__name", "lottery__title", "sequence", "prize__name", "created_at"),
        ),
        (
            "lottery_wins",
            Win.objects.filter(user=user).order_by("created_at", "id"),
            (
                "lottery__shop__name",
                "lottery__title",
                "prize__name",
                "prize__kind",
                "prize__value_fen",
                "status",
                "order__number",
                "claimed_at",
                "created_at",
            ),
        ),
        (
            "messages",
            Notification.objects.filter(user=user).order_by("created_at", "id"),
            ("shop__name", "kind", "title", "body", "link", "created_at", "read_at"),
        ),
        (
            "wechat_bindings",
            WechatBinding.objects.filter(user=user).order_by("id"),
            ("app_id", "openid", "unionid", "nickname", "created_at", "last_sign_in_at"),
        ),
        (
            "subscribe_consents",
            SubscribeConsent.objects.filter(user=user).order_by("id"),
            ("template", "accepted_at", "withdrawn_at", "withdrawn_reason"),
        ),
        (
            "subscribe_messages",
            SubscribeMessage.objects.filter(user=user).order_by("created_at", "id"),
            ("template", "title", "body", "page", "status", "created_at", "sent_at"),
        ),
        (
            "board_threads",
            Thread.objects.filter(author=user).order_by("created_at", "id"),
            ("community__name", "title", "body", "is_promotional", "created_at"),
        ),
        (
            "board_comments",
            Comment.objects.filter(author=user).order_by("created_at", "id"),
            ("thread__title", "body", "created_at"),
        ),
        (
            "api_tokens",
            ApiToken.objects.filter(user=user).order_by("created_at", "id"),
            ("name", "created_at", "last_used_at", "revoked_at"),
        ),
        (
            "data_requests",
            DataRequest.objects.filter(user=user).order_by("created_at", "id"),
            ("kind", "outcome", "export_format", "created_at"),
        ),
    ]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def member_data(user: User) -> dict[str, Table]:
    """Everything shequn holds about ``user``, as named tables of rows (the profile first).

    Only rows of the member: other members appear in none of them (the tables are filtered
    on the member, never joined out to other people's names or phones).
    """
    profile = {
        "id": user.pk,
        "nickname": user.nickname,
        "phone": user.phone or "",
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }
    data = {"profile": Table(tuple(profile), [profile])}
    for name, rows, columns in _tables(user):
        data[name] = Table(columns, list(rows.values(*columns)))
    return data


def shops_concerned(user: Any) -> list[int]:
    """The shops holding the member's data: where they ordered, belong to a community, hold money or
    coupons, or entered a lottery."""
    return list(
        Shop.objects.filter(
            Exists(Order.objects.filter(shop=OuterRef("pk"), user=user))
            | Exists(CommunityMembership.objects.filter(community__shop=OuterRef("pk"), user=user))
            | Exists(Account.objects.filter(shop=OuterRef("pk"), holder=user))
            | Exists(MemberCoupon.objects.filter(shop=OuterRef("pk"), user=user))
            | Exists(LotteryEntry.objects.filter(lottery__shop=OuterRef("pk"), user=user))
            | Exists(Spin.objects.filter(lottery__shop=OuterRef("pk"), user=user))
        )
        .order_by("id")
        .values_list("pk", flat=True)
    )


# --- deletion -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """Something in flight that still needs the member, and what to do about it."""

    code: str
    message: str


def deletion_blockers(user: User) -> list[Blocker]:
    """Why the account cannot be deleted now (empty: it can). A fixed handful of statements."""
    blockers: list[Blocker] = []
    if user.is_staff or user.is_superuser or StaffMember.objects.filter(user=user, is_active=True).exists():
        blockers.append(Blocker("is_staff", _("这是店铺员工或平台账号，请先由店主停用你的员工身份，或联系平台处理")))
    if not user.phone:
        blockers.append(Blocker("no_phone", _("账号未绑定手机号，无法通过短信验证注销，请联系平台客服")))
    orders = Order.objects.filter(user=user).aggregate(
        unpaid=Count("pk", filter=Q(status__in=UNPAID_STATUSES)),
        undelivered=Count("pk", filter=Q(status__in=UNDELIVERED_STATUSES)),
    )
    if orders["unpaid"]:
        blockers.append(
            Blocker("unpaid_orders", _("你有 %(value)s 笔待付款订单，请先付款或取消订单") % {"value": orders["unpaid"]})
        )
    if orders["undelivered"]:
        blockers.append(
            Blocker(
                "undelivered_orders",
                _("你有 %(value)s 笔订单尚未送达或自提，请收货后再注销（或申请退款）")
                % {"value": orders["undelivered"]},
            )
        )
    refunds = RefundRequest.objects.filter(order__user=user, status__in=OPEN_REFUND_STATUSES).count()
    if refunds:
        blockers.append(
            Blocker(
                "open_refunds", _("你有 %(refunds)s 个售后申请尚未完成，请等待退款到账后再注销") % {"refunds": refunds}
            )
        )
    held = Account.objects.filter(holder=user, balance_fen__gt=0).aggregate(
        commission=Sum("balance_fen", filter=Q(kind__in=UNWITHDRAWN_KINDS)),
        principal=Sum("balance_fen", filter=Q(kind__in=STORED_PRINCIPAL_KINDS)),
    )
    balance = held["commission"] or 0
    if held["principal"]:
        blockers.append(
            Blocker(
                "stored_value",
                _("你还有储值本金 %(amount)s（含退还中），请先在「我的余额」申请退还，到账后再注销")
                % {"amount": format_fen(held["principal"])},
            )
        )
    if balance:
        blockers.append(
            Blocker(
                "wallet_balance",
                _("你的佣金账户还有 %(amount)s 未提现（含冻结中和提现中），请先在推广中心提现，到账后再注销")
                % {"amount": format_fen(balance)},
            )
        )
    if Leader.objects.filter(user=user, status__in=LIVE_LEADER_STATUSES).exists():
        blockers.append(Blocker("leader", _("你是团长（或正在申请），请先联系店铺解除团长身份")))
    return blockers


def forfeited_on_deletion_fen(user: User) -> int:
    """What deleting the account gives up: non-withdrawable balances (red packets a shop said may
    not be withdrawn, a stored-value bonus; see ``wallets.actions.forfeit_spendable``)."""
    return sum(
        Account.objects.filter(holder=user, kind__in=FORFEITED_KINDS, balance_fen__gt=0).values_list(
            "balance_fen", flat=True
        )
    )


# --- the request log -------------------------------------------------------------------------------


def shop_requests(shop: Shop) -> QuerySet[DataRequest]:
    """Requests of members whose data the shop held, for its console (the member shown masked)."""
    return DataRequest.objects.filter(shops=shop).order_by("-created_at", "-id")
