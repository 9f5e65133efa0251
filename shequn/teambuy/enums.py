from django.db import models


class TeamStatus(models.TextChoices):
    FORMING = "forming", "拼团中"  # open for joining until full and paid, or expired
    SUCCEEDED = "succeeded", "拼团成功"  # N members paid: the orders may be fulfilled
    FAILED = "failed", "拼团失败"  # expired before N members paid: paid members refunded


class MemberStatus(models.TextChoices):
    PENDING = "pending", "待支付"  # holds a seat, order not yet paid
    PAID = "paid", "已支付"  # paid; counts towards the team
    LEFT = "left", "已退出"  # unpaid order closed or cancelled: the seat was freed
    REFUNDED = "refunded", "已退款"  # paid, then refunded because the team failed
