"""Choices of the lotteries app, each value with a one-line meaning."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LotteryMode(models.TextChoices):
    DRAW = "draw", _("定时开奖")  # entries collected, winners drawn at draw_at (commit–reveal)
    INSTANT = "instant", _("大转盘")  # each spin decided at once by published odds and stock


class LotteryStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")  # editable, invisible to members
    PUBLISHED = "published", _("已发布")  # rules and prizes public, seed committed; frozen once started
    DRAWN = "drawn", _("已开奖")  # draw mode: seed revealed, winners written


class EntryCondition(models.TextChoices):
    """Who may take part. Sharing, posting to Moments or inviting friends is not and never will be
    one (WeChat platform rules; RULES.md): there is no value for it, and asking for one is refused."""

    COMMUNITY = "community", _("社群成员")  # an active member of the lottery's community
    PURCHASE = "purchase", _("购买指定商品")  # paid for the product within the purchase window


class PrizeKind(models.TextChoices):
    GOODS = "goods", _("实物")  # a SKU, handed over by a zero-price order (pickup or delivery)
    COUPON = "coupon", _("优惠券")  # a coupon of the prize's template, issued when the winner claims it
    RED_PACKET = "red_packet", _("红包")  # the prize's value credited from the shop's promotion account


class WinStatus(models.TextChoices):
    WON = "won", _("待领取")  # the winner has until the claim deadline
    CLAIMED = "claimed", _("已领取")  # the prize's order exists, its coupon was issued or its money credited
    FORFEITED = "forfeited", _("已过期")  # not claimed by the deadline: handled by the published rule
