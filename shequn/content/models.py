"""Tables of community content: articles with product cards and audio, pushes, keyword replies."""

from django.conf import settings
from django.db import models

from .enums import DEFAULT_PUSHES_PER_DAY, DEFAULT_REPLY_TEXT, ArticleStatus, MatchType, PushStatus


class ContentSettings(models.Model):
    """Per-community content rules; a community without a row uses the defaults."""

    community = models.OneToOneField("communities.Community", on_delete=models.CASCADE, related_name="content_settings")
    # At most this many pushes per member of this community per local (Asia/Shanghai) day.
    max_pushes_per_day = models.PositiveSmallIntegerField(default=DEFAULT_PUSHES_PER_DAY)
    default_reply = models.CharField(max_length=500, default=DEFAULT_REPLY_TEXT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "content settings"


class Article(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)  # HTML, sanitised on every save (actions.sanitize_html)
    cover = models.ImageField(upload_to="articles/%Y/%m/", blank=True)
    audio = models.FileField(upload_to="articles/audio/%Y/%m/", blank=True)
    audio_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    publish_at = models.DateTimeField(null=True, blank=True)  # when a scheduled article goes out
    published_at = models.DateTimeField(null=True, blank=True)
    push_enabled = models.BooleanField(default=False)  # push to members' inboxes when published
    members_only = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    products = models.ManyToManyField("catalog.Product", through="ArticleProduct", related_name="articles")

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "publish_at"], name="article_status_publish_at"),
            models.Index(fields=["community", "status"], name="article_community_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audio_duration_display(self) -> str:
        """mm:ss (minutes may exceed 59)."""
        if self.audio_duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.audio_duration_seconds, 60)
        return f"{minutes:02d}:{seconds:02d}"


class ArticleProduct(models.Model):
    """A product card embedded in an article: an on-shelf product of the article's shop."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="cards")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["article", "product"], name="unique_article_product")]


class PushJob(models.Model):
    """One push of one article to its community's active members; counters show progress."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="push_jobs")
    # An article is pushed at most once.
    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="push_job")
    status = models.CharField(max_length=16, choices=PushStatus.choices, default=PushStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    skipped_by_cap = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Resume point: members up to this user id were handled (committed with their batch).
    last_user_id = models.BigIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # bumped per batch; stale = the run died

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"push of article {self.article_id}"

    @property
    def progress_percent(self) -> int:
        if not self.total:
            return 100 if self.status == PushStatus.DONE else 0
        return min(100, (self.sent + self.skipped_by_cap) * 100 // self.total)


class PushDelivery(models.Model):
    """One push slot used by one member in one community on one local day.

    The unique constraint is the frequency cap: slots run 1..max_pushes_per_day, so the
    database refuses the (cap+1)th push even when two pushes race.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    slot = models.PositiveSmallIntegerField(default=1)
    push_job = models.ForeignKey(PushJob, on_delete=models.CASCADE, related_name="deliveries")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community", "local_date", "user", "slot"], name="unique_push_delivery_slot"
            ),
            models.UniqueConstraint(fields=["push_job", "user"], name="unique_push_delivery_per_job"),
        ]


class KeywordRule(models.Model):
    """A keyword auto-reply in a community's service box: an article or a text."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="keyword_rules")
    keyword = models.CharField(max_length=50)
    match_type = models.CharField(max_length=16, choices=MatchType.choices, default=MatchType.EXACT)
    reply_article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reply_text = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "keyword", "match_type"], name="unique_keyword_rule")
        ]

    def __str__(self) -> str:
        return self.keyword
