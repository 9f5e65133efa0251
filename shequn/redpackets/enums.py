from django.db import models
from django.utils.translation import gettext_lazy as _


class Split(models.TextChoices):
    """How a pool is cut into parts (all of them drawn when the pool is funded)."""

    RANDOM = "random", _("拼手气（随机金额）")  # the fair rule: each part 1 fen … twice the mean of what is left
    EQUAL = "equal", _("普通（平均金额）")  # equal parts; the fen that do not divide go one each to the first parts


class Audience(models.TextChoices):
    """Who may grab. Membership, attendance or a purchase only: no setting makes sharing or inviting
    a condition (RULES.md, promotions)."""

    COMMUNITY = "community", _("社群成员")  # current members of the community
    EVENT = "event", _("活动报名者")  # members with a confirmed registration for the event
    BUYERS = "buyers", _("指定商品购买者")  # paid for the product in a window (not refunded in full)


class PacketStatus(models.TextChoices):
    """funded → returned. Funded at creation (the money left the shop's account then); returned
    once, at expiry, when what nobody grabbed went back to the shop."""

    FUNDED = "funded", _("进行中")
    RETURNED = "returned", _("已结束")
