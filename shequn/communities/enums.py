"""Status and role constants for communities, each with a one-line meaning."""

from django.db import models
from django.utils.translation import gettext_lazy


class MemberRole(models.TextChoices):
    OWNER = "owner", gettext_lazy("群主")  # exactly one per community; may transfer ownership
    ADMIN = "admin", gettext_lazy("管理员")  # moderates the community (mute, remove, ban, tags)
    LEADER = "leader", gettext_lazy("团长")  # a member who leads group buys (used by group buying later)
    MEMBER = "member", gettext_lazy("成员")  # an ordinary member


class MemberStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("正常")  # in the community, sees members-only content
    REMOVED = "removed", gettext_lazy("已移出")  # removed by a moderator; may rejoin by invite
    BANNED = "banned", gettext_lazy("已封禁")  # removed and barred: joining again is refused
    FORMER = "former", gettext_lazy("已过期")  # membership ended (expiry or refund); kept for the record


class ChannelKind(models.TextChoices):
    POSTER = "poster", gettext_lazy("海报")  # a printed or shared poster
    EVENT = "event", gettext_lazy("活动")  # an offline or online event
    PARTNER = "partner", gettext_lazy("合作方")  # a partner shop, KOL or organisation
    OTHER = "other", gettext_lazy("其他")  # anything else


class SubGroupKind(models.TextChoices):
    CITY = "city", gettext_lazy("城市群")  # members of one city
    NEIGHBOURHOOD = "neighbourhood", gettext_lazy("小区群")  # members of one neighbourhood
    INTEREST = "interest", gettext_lazy("兴趣群")  # members sharing an interest
    CHAPTER = "chapter", gettext_lazy("城市分会")  # a city chapter running its own events under the brand


class JoinPolicy(models.TextChoices):
    OPEN = "open", gettext_lazy("公开加入")  # anyone with the community link may join (or pay to join)
    APPROVAL = "approval", gettext_lazy("审核加入")  # members apply; staff approve before they join (or pay)
    INVITE_ONLY = "invite_only", gettext_lazy("仅限邀请")  # only a member's personal link or a channel link admits


class TermKind(models.TextChoices):
    JOIN = "join", gettext_lazy("入会")  # the first paid period (or the first after a membership ended)
    RENEWAL = "renewal", gettext_lazy("续费")  # a period bought by an active or former member


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("待审核")  # waiting for staff (approval policy)
    APPROVED = (
        "approved",
        gettext_lazy("已通过"),
    )  # may join now (free) or pay the fee (paid); open/invite intents start here
    REJECTED = "rejected", gettext_lazy("未通过")  # staff said no; the member may apply again
    JOINED = "joined", gettext_lazy("已加入")  # the membership exists (joined for free or the fee was paid)


class ExpiryFilter(models.TextChoices):
    EXPIRING = "expiring", gettext_lazy("即将到期")  # active, expiry within N days
    EXPIRED = "expired", gettext_lazy("已到期")  # expiry in the past (swept to former or not yet)
