from django.db import models
from django.utils.translation import gettext_lazy


class ReportStatus(models.TextChoices):
    OPEN = "open", gettext_lazy("待处理")  # waiting in the moderation queue
    ACTIONED = "actioned", gettext_lazy("已隐藏内容")  # a moderator hid the reported thread or comment
    DISMISSED = "dismissed", gettext_lazy("已驳回")  # a moderator found nothing wrong


class ModerationAction(models.TextChoices):
    HIDE = "hide", gettext_lazy("隐藏")  # take the thread or comment off the board
    RESTORE = "restore", gettext_lazy("恢复")  # put a hidden thread or comment back
    DISMISS = "dismiss", gettext_lazy("驳回举报")  # close the report, content stays
