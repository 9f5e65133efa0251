"""Tables of the members' board (互动区): categories, threads, comments, likes, reports."""

from django.conf import settings
from django.db import models

from .enums import ReportStatus

DEFAULT_PROMOTIONAL_THREADS_PER_DAY = 1


class BoardSettings(models.Model):
    """Per-community board rules; a community without a row uses the defaults."""

    community = models.OneToOneField("communities.Community", on_delete=models.CASCADE, related_name="board_settings")
    # At most this many promotional (推广) threads per member per day (Asia/Shanghai date).
    max_promotional_threads_per_day = models.PositiveSmallIntegerField(default=DEFAULT_PROMOTIONAL_THREADS_PER_DAY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "board settings"


class BoardCategory(models.Model):
    """A category the community owner defines (求职, 招聘, 知识分享, 问答 ...), shown in ``position`` order."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="board_categories")
    name = models.CharField(max_length=20)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)  # retired categories keep their threads but take no new ones
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="unique_board_category_name")]
        verbose_name_plural = "board categories"

    def __str__(self) -> str:
        return self.name


class Thread(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="board_threads")
    category = models.ForeignKey(BoardCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="threads")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_threads")
    title = models.CharField(max_length=60)
    body = models.TextField()  # plain text; templates escape it
    is_promotional = models.BooleanField(default=False)  # marked 推广 by its author; counted by the daily limit
    is_pinned = models.BooleanField(default=False)
    is_featured = models.BooleanField(default=False)  # 精华
    is_hidden = models.BooleanField(default=False)  # hidden by a moderator: invisible to members
    # Counters change only through single-statement F() updates in actions.
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_pinned", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["community", "is_hidden", "-is_pinned", "-created_at"]),
            models.Index(fields=["community", "author", "is_promotional", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_comments")
    body = models.TextField()  # plain text; templates escape it
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]


class ThreadLike(models.Model):
    """One like per member per thread; the database refuses a second."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="unique_thread_like")]


class Report(models.Model):
    """A member's report of a thread (``comment`` empty) or of one of its comments; the moderation queue."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reports")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["shop", "status", "created_at"])]

    def __str__(self) -> str:
        return self.reason[:40]
