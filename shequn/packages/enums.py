from django.db import models
from django.utils.translation import gettext_lazy


class RefundRule(models.TextChoices):
    PRO_RATA = "pro_rata", gettext_lazy("未用份数按比例退款")  # what was paid × unused ÷ portions
    NONE = "none", gettext_lazy("售出后不退")  # nothing back once bought (stated before buying)


class PackageStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("可兑换")  # the owner may redeem (while portions and validity last)
    GIFTING = "gifting", gettext_lazy("待领取")  # bought as a gift: waits for the recipient's claim
    REFUNDED = "refunded", gettext_lazy("已退款")  # the unused portions were refunded; nothing left


class EntryKind(models.TextChoices):
    BOUGHT = "bought", gettext_lazy("购买")  # +portions, +what was paid
    REDEEMED = "redeemed", gettext_lazy("兑换")  # -portions drawn by an order, -their share of the value
    REFUNDED = "refunded", gettext_lazy("退款")  # -every unused portion, -their value (refunded or kept per the rule)


class Channel(models.TextChoices):
    MEMBER = "member", gettext_lazy("会员自助")  # the member redeemed on their package page or the API
    COUNTER = "counter", gettext_lazy("门店柜台")  # staff redeemed for the member at the counter
