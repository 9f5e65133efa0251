"""Writes of community content: articles (sanitised), scheduled publishing, pushes to members'
inboxes under a per-member frequency cap, and keyword auto-replies.

Staff writes are audited in the same transaction. Publishing is a conditional UPDATE, so an
article is published (and pushed) exactly once whoever gets there first: the ETA task, the
sweeper or staff. Pushes are set-based: per chunk of members (a range of user ids), cap slots
and inbox rows are written by INSERT … SELECT from the membership table; no member comes to Python.
"""

import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import nh3
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shequn.catalog import selectors as catalog_selectors
from shequn.catalog.models import Product
from shequn.communities.enums import MemberStatus
from shequn.communities.models import Community, CommunityMembership
from shequn.core.audit import record
from shequn.core.events import on_commit
from shequn.core.i18n import readers_by_language
from shequn.core.sql import insert_from
from shequn.notifications.actions import notify_from
from shequn.shops.models import Shop

from . import selectors, tasks
from .enums import PUSH_BATCH_SIZE, ArticleStatus, MatchType, PushStatus
from .errors import InvalidArticle, InvalidKeywordRule
from .models import Article, ArticleProduct, ContentSettings, KeywordRule, PushDelivery, PushJob

MAX_ARTICLE_PRODUCTS = 9
MAX_PUSHES_PER_DAY = 10
MAX_AUDIO_BYTES = 50 * 1024 * 1024
MAX_AUDIO_SECONDS = 6 * 3600
# A push whose heartbeat is older than this died (a live run beats once per batch of 5,000).
PUSH_STALE_AFTER = timedelta(minutes=5)

ALLOWED_TAGS = {"p", "br", "strong", "em", "h2", "h3", "ul", "ol", "li", "blockquote", "img", "a"}
ALLOWED_ATTRIBUTES = {"img": {"src", "alt"}, "a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html: str) -> str:
    """Keep the allowed tags and attributes; drop scripts, event handlers and javascript: URLs.

    nh3 (ammonia) removes <script>/<style> with their content, every attribute not listed
    (onerror, onclick, style ...), and URLs whose scheme is not http(s)/mailto; links get
    rel="noopener".
    """
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener",
    )


def wav_duration_seconds(upload: Any) -> int | None:
    """Whole seconds (rounded) of a WAV file read with the stdlib ``wave`` module; None otherwise."""
    try:
        upload.seek(0)
        with wave.open(upload, "rb") as audio:
            frames, rate = audio.getnframes(), audio.getframerate()
    except (wave.Error, EOFError, OSError):
        return None
    finally:
        upload.seek(0)
    return round(frames / rate) if rate else None


@dataclass
class ArticleInput:
    title: str
    body: str = ""
    # draft, scheduled (needs publish_at in the future) or published (now).
    status: str = ArticleStatus.DRAFT
    publish_at: datetime | None = None
    push_enabled: bool = False
    members_only: bool = True
    product_ids: Sequence[int] = field(default_factory=list)
    cover: UploadedFile | None = None
    audio: UploadedFile | None = None
    # Entered by staff for audio that is not WAV; a WAV's own length wins.
    audio_duration_seconds: int | None = None


def check_article(shop: Shop, data: ArticleInput, *, now: datetime | None = None) -> list[Product]:
    """Validate an article's fields; returns the products of its cards, in the order given."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    data.title = (data.title or "").strip()
    if not data.title:
        errors["title"] = _("请填写标题")
    elif len(data.title) > 100:
        errors["title"] = _("标题最多 100 字")
    if data.status not in ArticleStatus.values:
        errors["status"] = _("状态无效")
    if data.status == ArticleStatus.SCHEDULED:
        if data.publish_at is None:
            errors["publish_at"] = _("定时发布需要填写发布时间")
        elif data.publish_at <= now:
            errors["publish_at"] = _("发布时间需晚于现在")
    ids = list(dict.fromkeys(data.product_ids))
    if len(ids) > MAX_ARTICLE_PRODUCTS:
        errors["product_ids"] = _("最多插入 %(max)s 个商品") % {"max": MAX_ARTICLE_PRODUCTS}
    products = {p.pk: p for p in catalog_selectors.card_products(shop).filter(pk__in=ids)}
    if len(products) != len(ids):
        errors["product_ids"] = _("只能插入本店在售的商品")
    if data.audio is not None:
        if data.audio.size and data.audio.size > MAX_AUDIO_BYTES:
            errors["audio"] = _("音频不能超过 50MB")
        else:
            measured = wav_duration_seconds(data.audio)
            if measured is not None:
                data.audio_duration_seconds = measured
    if data.audio_duration_seconds is not None and not 0 <= data.audio_duration_seconds <= MAX_AUDIO_SECONDS:
        errors["audio_duration_seconds"] = _("音频时长无效")
    if errors:
        raise InvalidArticle(_("文章内容有误"), details={"fields": errors})
    return [products[pk] for pk in ids]


def _set_cards(article: Article, products: Sequence[Product]) -> None:
    ArticleProduct.objects.filter(article=article).delete()
    ArticleProduct.objects.bulk_create(
        ArticleProduct(article=article, product=product, position=index) for index, product in enumerate(products)
    )


def _apply(article: Article, data: ArticleInput) -> None:
    article.title = data.title
    article.body = sanitize_html(data.body)
    article.push_enabled = data.push_enabled
    article.members_only = data.members_only
    if data.cover is not None:
        article.cover = data.cover
    if data.audio is not None:
        article.audio = data.audio
    if data.audio_duration_seconds is not None or data.audio is not None:
        article.audio_duration_seconds = data.audio_duration_seconds
    if article.status != ArticleStatus.PUBLISHED:
        if data.status == ArticleStatus.SCHEDULED:
            article.status = ArticleStatus.SCHEDULED
            article.publish_at = data.publish_at
        else:
            article.status = ArticleStatus.DRAFT
            article.publish_at = None


def _after_save(article: Article, data: ArticleInput) -> None:
    if article.status == ArticleStatus.SCHEDULED and article.publish_at is not None:
        on_commit(tasks.schedule_publish, article.pk, article.publish_at)
    if data.status == ArticleStatus.PUBLISHED and article.status != ArticleStatus.PUBLISHED:
        do_publish_article(article.pk)
        article.refresh_from_db()


def do_create_article(
    shop: Shop, community: Community, data: ArticleInput, *, actor: Any, ip: str | None = None
) -> Article:
    products = check_article(shop, data)
    with transaction.atomic():
        article = Article(shop=shop, community=community, created_by=actor if getattr(actor, "pk", None) else None)
        _apply(article, data)
        article.save()
        _set_cards(article, products)
        record(actor=actor, shop=shop, action="content.article_created", obj=article, ip=ip, status=data.status)
        _after_save(article, data)
    return article


def do_update_article(
    shop: Shop, article: Article, data: ArticleInput, *, actor: Any, ip: str | None = None
) -> Article:
    products = check_article(shop, data)
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk, shop=shop)
        _apply(article, data)
        article.save()
        _set_cards(article, products)
        record(actor=actor, shop=shop, action="content.article_updated", obj=article, ip=ip, status=data.status)
        _after_save(article, data)
    return article


def _check_cover(cover: Any) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        cover.seek(0)
        with Image.open(cover) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return _("封面需为图片（JPEG、PNG、WEBP 或 GIF）")
    finally:
        cover.seek(0)
    return None


def do_set_article_media(
    shop: Shop,
    article: Article,
    *,
    cover: UploadedFile | None = None,
    audio: UploadedFile | None = None,
    audio_duration_seconds: int | None = None,
    actor: Any,
    ip: str | None = None,
) -> Article:
    """Replace an article's cover and/or audio note (the API's multipart upload)."""
    errors: dict[str, str] = {}
    if cover is not None and (problem := _check_cover(cover)):
        errors["cover"] = problem
    if audio is not None:
        if audio.size and audio.size > MAX_AUDIO_BYTES:
            errors["audio"] = _("音频不能超过 50MB")
        else:
            audio_duration_seconds = wav_duration_seconds(audio) or audio_duration_seconds
    if audio_duration_seconds is not None and not 0 <= audio_duration_seconds <= MAX_AUDIO_SECONDS:
        errors["audio_duration_seconds"] = _("音频时长无效")
    if cover is None and audio is None and audio_duration_seconds is None:
        errors["cover"] = _("请上传封面或音频")
    if errors:
        raise InvalidArticle(_("文件有误"), details={"fields": errors})
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk, shop=shop)
        if cover is not None:
            article.cover = cover
        if audio is not None:
            article.audio = audio
        if audio_duration_seconds is not None:
            article.audio_duration_seconds = audio_duration_seconds
        article.save()
        record(
            actor=actor,
            shop=shop,
            action="content.article_media_updated",
            obj=article,
            ip=ip,
            cover=cover is not None,
            audio=audio is not None,
        )
    return article


def do_publish_article(article_id: int, *, now: datetime | None = None, due_only: bool = False) -> bool:
    """Publish a draft or scheduled article exactly once; True only for the call that published it.

    ``due_only`` (the ETA task and the sweeper) publishes only a scheduled article whose time
    has come. A push, when enabled, is created in the same transaction and run after commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rows = Article.objects.filter(pk=article_id)
        if due_only:
            rows = rows.filter(status=ArticleStatus.SCHEDULED, publish_at__lte=now)
        else:
            rows = rows.filter(status__in=[ArticleStatus.DRAFT, ArticleStatus.SCHEDULED])
        if not rows.update(status=ArticleStatus.PUBLISHED, published_at=now):
            return False
        article = Article.objects.get(pk=article_id)
        if article.push_enabled:
            job = PushJob.objects.create(shop_id=article.shop_id, community_id=article.community_id, article=article)
            on_commit(tasks.start_push, job.pk)
    return True


def publish_due_articles(*, now: datetime | None = None) -> int:
    """The sweeper: publish every scheduled article whose time has come. Returns how many."""
    now = now or timezone.now()
    due = Article.objects.filter(status=ArticleStatus.SCHEDULED, publish_at__lte=now).values_list("pk", flat=True)
    return sum(do_publish_article(article_id, now=now, due_only=True) for article_id in list(due))


def do_push_now(shop: Shop, article: Article, *, actor: Any, ip: str | None = None) -> PushJob:
    """Staff push an already published article that was not pushed yet (at most once per article)."""
    if article.status != ArticleStatus.PUBLISHED:
        raise InvalidArticle(_("文章发布后才能推送"), code="article_not_published")
    with transaction.atomic():
        job, created = PushJob.objects.get_or_create(
            article=article, defaults={"shop": shop, "community_id": article.community_id}
        )
        if created:
            record(actor=actor, shop=shop, action="content.article_pushed", obj=article, ip=ip)
            on_commit(tasks.start_push, job.pk)
    return job


def _push_title(article: Article) -> str:
    return (_("%(name)s：%(title)s") % {"name": article.community.name, "title": article.title})[:100]


def run_push_job(job_id: int, *, now: datetime | None = None, batch_size: int = PUSH_BATCH_SIZE) -> PushJob | None:
    """Write inbox entries for every active member, honouring the community's daily cap.

    Claims the job (pending, or running with a stale heartbeat: a run that died) so two live
    runs never both push. Then chunk by chunk of ``batch_size`` members (a range of user ids,
    found by one aggregate), in one transaction: INSERT … SELECT the cap slots from the
    membership table (the unique constraint decides who may still be pushed today, even under
    races), INSERT … SELECT the inbox rows of the members this job got, and bump the counters
    (the console's progress) and the resume point. A resumed run starts after the last
    committed chunk. The number of statements grows with chunks, never with members.
    """
    now = now or timezone.now()
    claimable = Q(status=PushStatus.PENDING) | Q(status=PushStatus.RUNNING, heartbeat_at__lt=now - PUSH_STALE_AFTER)
    if not PushJob.objects.filter(claimable, pk=job_id).update(
        status=PushStatus.RUNNING, started_at=Coalesce(F("started_at"), Value(now)), heartbeat_at=now
    ):
        return None
    job = PushJob.objects.select_related("article", "community").get(pk=job_id)
    article, community = job.article, job.community
    cap = selectors.content_settings(community).max_pushes_per_day
    # The local day of the push's start, so a resumed run counts against the same day.
    local_date = timezone.localdate(job.started_at or now)
    members = CommunityMembership.objects.filter(community=community, status=MemberStatus.ACTIVE)
    after = job.last_user_id or 0  # user ids start at 1
    PushJob.objects.filter(pk=job.pk).update(
        total=F("sent") + F("skipped_by_cap") + members.filter(user_id__gt=after).count()
    )
    link = reverse("content:article_detail", args=[community.pk, article.pk])
    texts = []  # (members reading it, title, note): one INSERT … SELECT per language and chunk
    for language, readers in readers_by_language("user__language"):
        with translation.override(language):
            texts.append((readers, _push_title(article), _("社群有新文章，点击阅读")))
    while True:
        last = members.filter(user_id__gt=after).order_by("user_id")[:batch_size].aggregate(last=Max("user_id"))["last"]
        if last is None:
            break
        in_chunk = members.filter(user_id__gt=after, user_id__lte=last)
        with transaction.atomic():
            _take_slots(job, in_chunk, local_date, cap)
            delivered = PushDelivery.objects.filter(push_job=job, user_id__gt=after, user_id__lte=last)
            sent = sum(
                notify_from(
                    delivered.filter(readers).values_list(
                        "user_id",
                        Value(job.shop_id),
                        Value("content.article"),
                        Value(title),
                        Value(note),
                        Value(link),
                        Value(timezone.now()),
                    )
                )
                for readers, title, note in texts
            )
            skipped = in_chunk.filter(~_has_slot(job)).count()
            PushJob.objects.filter(pk=job.pk).update(
                sent=F("sent") + sent,
                skipped_by_cap=F("skipped_by_cap") + skipped,
                last_user_id=last,
                heartbeat_at=timezone.now(),
            )
        after = last
    # The total counted at the start; members joining or leaving meanwhile make the end differ.
    PushJob.objects.filter(pk=job.pk).update(
        status=PushStatus.DONE, finished_at=timezone.now(), total=F("sent") + F("skipped_by_cap")
    )
    job.refresh_from_db()
    return job


def resume_stalled_pushes(*, now: datetime | None = None) -> int:
    """The sweeper: run push jobs whose after-commit task was lost or whose run died."""
    now = now or timezone.now()
    stalled = PushJob.objects.filter(
        Q(status=PushStatus.PENDING, created_at__lt=now - PUSH_STALE_AFTER)
        | Q(status=PushStatus.RUNNING, heartbeat_at__lt=now - PUSH_STALE_AFTER)
    ).values_list("pk", flat=True)
    return sum(run_push_job(job_id, now=now) is not None for job_id in list(stalled))


def _has_slot(job: PushJob) -> Exists:
    """The member (of a membership queryset) has a slot for this job."""
    return Exists(PushDelivery.objects.filter(push_job=job, user_id=OuterRef("user_id")))


def _take_slots(job: PushJob, members: QuerySet[CommunityMembership], local_date: Any, cap: int) -> None:
    """Give each of ``members`` one of today's ``cap`` slots for this job where one is free.
    One INSERT … SELECT per slot number, lowest first, for the members
    this job has no slot for yet; a slot another push holds is skipped by the unique constraint,
    in user id order (every push takes its locks in the same order)."""
    for slot in range(1, cap + 1):
        insert_from(
            PushDelivery,
            ["user_id", "community_id", "local_date", "slot", "push_job_id"],
            members.filter(~_has_slot(job))
            .order_by("user_id")
            .values_list("user_id", "community_id", Value(local_date), Value(slot), Value(job.pk)),
            ignore_conflicts=True,
        )


# --- settings and keyword replies ------------------------------------------------------


def do_update_settings(
    shop: Shop,
    community: Community,
    *,
    max_pushes_per_day: int,
    default_reply: str,
    actor: Any,
    ip: str | None = None,
) -> ContentSettings:
    errors: dict[str, str] = {}
    default_reply = (default_reply or "").strip()
    if not 0 <= max_pushes_per_day <= MAX_PUSHES_PER_DAY:
        errors["max_pushes_per_day"] = _("每日推送上限需在 0 到 %(max)s 之间") % {"max": MAX_PUSHES_PER_DAY}
    if not default_reply:
        errors["default_reply"] = _("请填写默认回复")
    elif len(default_reply) > 500:
        errors["default_reply"] = _("默认回复最多 500 字")
    if errors:
        raise InvalidKeywordRule(_("设置有误"), code="invalid_settings", details={"fields": errors})
    with transaction.atomic():
        found, _created = ContentSettings.objects.update_or_create(
            community=community, defaults={"max_pushes_per_day": max_pushes_per_day, "default_reply": default_reply}
        )
        record(
            actor=actor,
            shop=shop,
            action="content.settings_updated",
            obj=community,
            ip=ip,
            max_pushes_per_day=max_pushes_per_day,
        )
    return found


@dataclass
class KeywordRuleInput:
    keyword: str
    match_type: str = MatchType.EXACT
    reply_article_id: int | None = None
    reply_text: str = ""
    is_active: bool = True


def normalise_keyword(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def check_keyword_rule(
    shop: Shop, community: Community, data: KeywordRuleInput, *, rule_id: int | None = None
) -> Article | None:
    errors: dict[str, str] = {}
    data.keyword = normalise_keyword(data.keyword)
    data.reply_text = (data.reply_text or "").strip()
    if not data.keyword:
        errors["keyword"] = _("请填写关键词")
    elif len(data.keyword) > 50:
        errors["keyword"] = _("关键词最多 50 字")
    if data.match_type not in MatchType.values:
        errors["match_type"] = _("匹配方式无效")
    article = None
    if data.reply_article_id:
        article = Article.objects.filter(shop=shop, community=community, pk=data.reply_article_id).first()
        if article is None:
            errors["reply_article_id"] = _("只能回复本社群的文章")
    elif not data.reply_text:
        errors["reply_text"] = _("请填写回复内容或选择文章")
    if len(data.reply_text) > 500:
        errors["reply_text"] = _("回复最多 500 字")
    duplicate = KeywordRule.objects.filter(community=community, keyword=data.keyword, match_type=data.match_type)
    if rule_id:
        duplicate = duplicate.exclude(pk=rule_id)
    if data.keyword and duplicate.exists():
        errors["keyword"] = _("该关键词已存在")
    if errors:
        raise InvalidKeywordRule(_("关键词规则有误"), details={"fields": errors})
    return article


def do_create_keyword_rule(
    shop: Shop, community: Community, data: KeywordRuleInput, *, actor: Any, ip: str | None = None
) -> KeywordRule:
    article = check_keyword_rule(shop, community, data)
    with transaction.atomic():
        rule = KeywordRule.objects.create(
            shop=shop,
            community=community,
            keyword=data.keyword,
            match_type=data.match_type,
            reply_article=article,
            reply_text=data.reply_text,
            is_active=data.is_active,
        )
        record(actor=actor, shop=shop, action="content.keyword_rule_created", obj=rule, ip=ip, keyword=rule.keyword)
    return rule


def do_update_keyword_rule(
    shop: Shop, rule: KeywordRule, data: KeywordRuleInput, *, actor: Any, ip: str | None = None
) -> KeywordRule:
    article = check_keyword_rule(shop, rule.community, data, rule_id=rule.pk)
    with transaction.atomic():
        rule.keyword, rule.match_type = data.keyword, data.match_type
        rule.reply_article, rule.reply_text, rule.is_active = article, data.reply_text, data.is_active
        rule.save()
        record(actor=actor, shop=shop, action="content.keyword_rule_updated", obj=rule, ip=ip, keyword=rule.keyword)
    return rule


def do_delete_keyword_rule(shop: Shop, rule: KeywordRule, *, actor: Any, ip: str | None = None) -> None:
    with transaction.atomic():
        record(actor=actor, shop=shop, action="content.keyword_rule_deleted", obj=rule, ip=ip, keyword=rule.keyword)
        rule.delete()


@dataclass
class Reply:
    text: str
    article: Article | None = None
    rule: KeywordRule | None = None

    @property
    def matched(self) -> bool:
        return self.rule is not None


def choose_rule(rules: Sequence[KeywordRule], typed: str) -> KeywordRule | None:
    """Exact rules win over contains; among contains the longest keyword wins, then the oldest rule."""
    text = normalise_keyword(typed)
    if not text:
        return None
    exact = [rule for rule in rules if rule.match_type == MatchType.EXACT and rule.keyword == text]
    if exact:
        return min(exact, key=lambda rule: rule.pk)
    contains = [rule for rule in rules if rule.match_type == MatchType.CONTAINS and rule.keyword in text]
    if contains:
        return min(contains, key=lambda rule: (-len(rule.keyword), rule.pk))
    return None


def answer_keyword(community: Community, typed: str) -> Reply:
    """The service box's reply to what a member typed; unknown keywords get the default reply."""
    rule = choose_rule(selectors.keyword_rules(community), typed)
    if rule is None:
        return Reply(text=selectors.content_settings(community).default_reply)
    article = rule.reply_article
    if article is not None and article.status != ArticleStatus.PUBLISHED:
        article = None
    return Reply(text=rule.reply_text or (article.title if article else ""), article=article, rule=rule)
