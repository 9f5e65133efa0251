from django.db import models


class LeaderStatus(models.TextChoices):
    APPLIED = "applied", "待审核"  # a member asked to lead; the operator decides
    ACTIVE = "active", "在职"  # approved: runs a pickup point and takes part in campaigns
    SUSPENDED = "suspended", "已暂停"  # no new campaigns; open ones finish
    REJECTED = "rejected", "未通过"  # the application was turned down (may apply again)
