from django.db import models


class ReportStatus(models.TextChoices):
    OPEN = "open", "待处理"  # waiting in the moderation queue
    ACTIONED = "actioned", "已隐藏内容"  # a moderator hid the reported thread or comment
    DISMISSED = "dismissed", "已驳回"  # a moderator found nothing wrong


class ModerationAction(models.TextChoices):
    HIDE = "hide", "隐藏"  # take the thread or comment off the board
    RESTORE = "restore", "恢复"  # put a hidden thread or comment back
    DISMISS = "dismiss", "驳回举报"  # close the report, content stays
