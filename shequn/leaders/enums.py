from django.db import models
from django.utils.translation import gettext_lazy as _


class LeaderStatus(models.TextChoices):
    APPLIED = "applied", _("待审核")  # a member asked to lead; the operator decides
    ACTIVE = "active", _("在职")  # approved: runs a pickup point and takes part in campaigns
    SUSPENDED = "suspended", _("已暂停")  # no new campaigns; open ones finish
    REJECTED = "rejected", _("未通过")  # the application was turned down (may apply again)
