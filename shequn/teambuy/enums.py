from django.db import models
from django.utils.translation import gettext_lazy as _


class TeamStatus(models.TextChoices):
    FORMING = "forming", _("拼团中")  # open for joining until full and paid, or expired
    SUCCEEDED = "succeeded", _("拼团成功")  # N members paid: the orders may be fulfilled
    FAILED = "failed", _("拼团失败")  # expired before N members paid: paid members refunded


class MemberStatus(models.TextChoices):
    PENDING = "pending", _("待支付")  # holds a seat, order not yet paid
    PAID = "paid", _("已支付")  # paid; counts towards the team
    LEFT = "left", _("已退出")  # unpaid order closed or cancelled: the seat was freed
    REFUNDED = "refunded", _("已退款")  # paid, then refunded because the team failed
