"""Lotteries (抽奖): a timed draw verified by commit–reveal, or an instant-win wheel (大转盘)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .enums import EntryCondition, LotteryMode, LotteryStatus, PrizeKind, WinStatus

# 反不正当竞争法 art. 10: the top prize of a prize-giving sale may not exceed ¥50,000.
MAX_PRIZE_VALUE_FEN = 5_000_000


class Lottery(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="lotteries")
    title = models.CharField(_("标题"), max_length=60)
    rules = models.TextField(_("活动规则"), max_length=5000)
    mode = models.CharField(_("玩法"), max_length=10, choices=LotteryMode.choices)
    entry_condition = models.CharField(_("参与条件"), max_length=10, choices=EntryCondition.choices)
    community = models.ForeignKey("communities.Community", null=True, blank=True, on_delete=models.PROTECT)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT)
    purchase_from = models.DateTimeField(null=True, blank=True)  # the purchase condition's window
    purchase_until = models.DateTimeField(null=True, blank=True)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    draw_at = models.DateTimeField(_("开奖时间"), null=True, blank=True)  # timed draws only
    spins_per_member = models.PositiveSmallIntegerField(_("每人可抽次数"), default=1)  # instant only
    claim_deadline = models.DateTimeField(_("领奖截止时间"))
    unclaimed_rule = models.TextField(_("逾期未领取的处理"), max_length=500)
    status = models.CharField(max_length=10, choices=LotteryStatus.choices, default=LotteryStatus.DRAFT)
    seed_hash = models.CharField(max_length=64, blank=True)  # SHA-256 of the seed, public from publication
    seed = models.CharField(max_length=64, blank=True)  # hex; secret until the draw reveals it
    entry_count = models.PositiveIntegerField(default=0)  # the last entry number given
    published_at = models.DateTimeField(null=True, blank=True)
    drawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "draw_at"])]

    def __str__(self) -> str:
        return self.title


class Prize(models.Model):
    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="prizes")
    position = models.PositiveSmallIntegerField()  # 1 = first prize; draw slots go in this order
    name = models.CharField(_("奖品名称"), max_length=60)
    kind = models.CharField(_("奖品类型"), max_length=12, choices=PrizeKind.choices)
    sku = models.ForeignKey("catalog.Sku", null=True, blank=True, on_delete=models.PROTECT)  # goods prizes
    coupon_template = models.ForeignKey(  # coupon prizes: the template issued to the winner
        "coupons.CouponTemplate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    value_fen = models.PositiveIntegerField(_("价值"))
    quantity = models.PositiveIntegerField(_("数量"))
    odds_ppm = models.PositiveIntegerField(_("中奖率"), default=0)  # instant only: parts per million
    left = models.PositiveIntegerField(default=0)  # instant only: stock not yet won
    # Coupon prizes: coupons of the template still set aside for this prize (its quantity from
    # publication, less those given; released at the claim deadline).
    reserved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["lottery", "position"], name="lottery_prize_position_unique"),
            models.CheckConstraint(condition=Q(value_fen__lte=MAX_PRIZE_VALUE_FEN), name="lottery_prize_value_cap"),
            models.CheckConstraint(condition=Q(left__lte=models.F("quantity")), name="lottery_prize_left_le_quantity"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def odds_percent(self) -> str:
        """The published odds as people read them: "12.5%"."""
        percent = (Decimal(self.odds_ppm) / 10_000).normalize()
        return f"{percent:f}%"


class Entry(models.Model):
    """One per member and timed draw; its number is what the public list and the draw use."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["lottery", "user"], name="lottery_entry_one_per_member"),
            models.UniqueConstraint(fields=["lottery", "number"], name="lottery_entry_number_unique"),
        ]


class Spin(models.Model):
    """One instant-win spin admitted by the gate, with the draw that decided it."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="spins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveSmallIntegerField()  # the member's 1st, 2nd … spin of this lottery
    claim_id = models.CharField(max_length=64, unique=True)  # the gate's claim: written once
    draw = models.PositiveIntegerField()  # uniform in [0, ODDS_SCALE)
    prize = models.ForeignKey(Prize, null=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lottery", "user", "sequence"], name="lottery_spin_sequence_unique"),
        ]


class Win(models.Model):
    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="wins")
    prize = models.ForeignKey(Prize, on_delete=models.PROTECT, related_name="wins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(Entry, null=True, on_delete=models.PROTECT)  # timed draws
    spin = models.OneToOneField(Spin, null=True, on_delete=models.PROTECT)  # instant wins
    status = models.CharField(max_length=10, choices=WinStatus.choices, default=WinStatus.WON)
    order = models.OneToOneField("orders.Order", null=True, on_delete=models.PROTECT, related_name="+")  # goods
    coupon = models.OneToOneField("coupons.MemberCoupon", null=True, on_delete=models.PROTECT, related_name="+")
    claimed_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prize__position", "pk"]
