from django.db import models
from django.utils.translation import gettext_lazy


class PointsAccountKind(models.TextChoices):
    """The points ledger's accounts (in points, never money). A member has PENDING and AVAILABLE
    per shop; the shop has one of each shop kind. Every movement's entries sum to zero, so a
    shop's outstanding points (what members hold) is minus the sum of its shop accounts."""

    # The shop's side.
    ISSUED = "issued", gettext_lazy("积分发放")  # debited as points are earned, credited by reversals
    REDEEMED = "redeemed", gettext_lazy("积分抵扣")  # credited as members spend points, debited by returns
    EXPIRED = "expired", gettext_lazy("积分过期")  # credited as points expire under the published rule
    # A member's side.
    PENDING = "pending", gettext_lazy("待入账")  # earned on a paid order, waiting for the after-sales window
    AVAILABLE = "available", gettext_lazy("可用积分")  # settled: may be spent


MEMBER_KINDS = (PointsAccountKind.PENDING, PointsAccountKind.AVAILABLE)
SHOP_KINDS = (PointsAccountKind.ISSUED, PointsAccountKind.REDEEMED, PointsAccountKind.EXPIRED)


class EarningStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("待入账")  # the order was paid; its after-sales window still runs
    SETTLED = "settled", gettext_lazy("已入账")  # the window closed: points available, growth counted
