"""Status constants for community content, each with a one-line meaning."""

from django.db import models
from django.utils.translation import gettext_lazy, gettext_noop


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("草稿")  # only staff see it
    SCHEDULED = "scheduled", gettext_lazy("定时发布")  # published automatically at publish_at
    PUBLISHED = "published", gettext_lazy("已发布")  # members see it; published exactly once


class PushStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("等待中")  # created, not yet picked up
    RUNNING = "running", gettext_lazy("推送中")  # inbox entries are being written
    DONE = "done", gettext_lazy("已完成")  # every member was pushed or skipped by the cap


class MatchType(models.TextChoices):
    EXACT = "exact", gettext_lazy("完全匹配")  # the typed text equals the keyword
    CONTAINS = "contains", gettext_lazy("包含")  # the typed text contains the keyword


# Inbox entries are written in batches of this many rows.
PUSH_BATCH_SIZE = 5000
DEFAULT_PUSHES_PER_DAY = 1
DEFAULT_REPLY_TEXT = gettext_noop("暂时没有找到相关内容，试试其他关键词，或联系群主。")
