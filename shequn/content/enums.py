"""Status constants for community content, each with a one-line meaning."""

from django.db import models


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "草稿"  # only staff see it
    SCHEDULED = "scheduled", "定时发布"  # published automatically at publish_at
    PUBLISHED = "published", "已发布"  # members see it; published exactly once


class PushStatus(models.TextChoices):
    PENDING = "pending", "等待中"  # created, not yet picked up
    RUNNING = "running", "推送中"  # inbox entries are being written
    DONE = "done", "已完成"  # every member was pushed or skipped by the cap


class MatchType(models.TextChoices):
    EXACT = "exact", "完全匹配"  # the typed text equals the keyword
    CONTAINS = "contains", "包含"  # the typed text contains the keyword


# Inbox entries are written in batches of this many rows.
PUSH_BATCH_SIZE = 5000
DEFAULT_PUSHES_PER_DAY = 1
DEFAULT_REPLY_TEXT = "暂时没有找到相关内容，试试其他关键词，或联系群主。"
