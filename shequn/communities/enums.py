"""Status and role constants for communities, each with a one-line meaning."""

from django.db import models


class MemberRole(models.TextChoices):
    OWNER = "owner", "群主"  # exactly one per community; may transfer ownership
    ADMIN = "admin", "管理员"  # moderates the community (mute, remove, ban, tags)
    LEADER = "leader", "团长"  # a member who leads group buys (used by group buying later)
    MEMBER = "member", "成员"  # an ordinary member


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "正常"  # in the community, sees members-only content
    REMOVED = "removed", "已移出"  # removed by a moderator; may rejoin by invite
    BANNED = "banned", "已封禁"  # removed and barred: joining again is refused
    FORMER = "former", "已过期"  # membership ended (expiry or refund); kept for the record


class ChannelKind(models.TextChoices):
    POSTER = "poster", "海报"  # a printed or shared poster
    EVENT = "event", "活动"  # an offline or online event
    PARTNER = "partner", "合作方"  # a partner shop, KOL or organisation
    OTHER = "other", "其他"  # anything else


class SubGroupKind(models.TextChoices):
    CITY = "city", "城市群"  # members of one city
    NEIGHBOURHOOD = "neighbourhood", "小区群"  # members of one neighbourhood
    INTEREST = "interest", "兴趣群"  # members sharing an interest
    CHAPTER = "chapter", "城市分会"  # a city chapter running its own events under the brand


class JoinPolicy(models.TextChoices):
    OPEN = "open", "公开加入"  # anyone with the community link may join (or pay to join)
    APPROVAL = "approval", "审核加入"  # members apply; staff approve before they join (or pay)
    INVITE_ONLY = "invite_only", "仅限邀请"  # only a member's personal link or a channel link admits


class TermKind(models.TextChoices):
    JOIN = "join", "入会"  # the first paid period (or the first after a membership ended)
    RENEWAL = "renewal", "续费"  # a period bought by an active or former member


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", "待审核"  # waiting for staff (approval policy)
    APPROVED = "approved", "已通过"  # may join now (free) or pay the fee (paid); open/invite intents start here
    REJECTED = "rejected", "未通过"  # staff said no; the member may apply again
    JOINED = "joined", "已加入"  # the membership exists (joined for free or the fee was paid)


class ExpiryFilter(models.TextChoices):
    EXPIRING = "expiring", "即将到期"  # active, expiry within N days
    EXPIRED = "expired", "已到期"  # expiry in the past (swept to former or not yet)
