from django.db import models
from django.utils.translation import gettext_lazy as _


class SaleStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")  # being prepared; members do not see it, the gate knows nothing
    SCHEDULED = "scheduled", _("已排期")  # published: reservations open, pools configured at the gate
    # The first session has started (set by the first attempt or the reminder).
    RUNNING = "running", _("进行中")
    PAUSED = "paused", _("已暂停")  # the operator paused it: the gate admits nobody until resumed
    ENDED = "ended", _("已结束")  # past its last session, or ended early: the gate admits nobody


class ClaimStatus(models.TextChoices):
    ADMITTED = "admitted", _("排队中")  # the gate admitted it; the consumer has not written its order yet
    ORDERED = "ordered", _("已下单")  # its order exists (unpaid or paid)
    # No order could be made, or the unpaid order closed: units back at the gate.
    RELEASED = "released", _("已释放")


class SaleEventKind(models.TextChoices):
    SALE = "sale", _("活动")  # a move of the sale's status
    CLAIM = "claim", _("抢购")  # a move of a claim's status
