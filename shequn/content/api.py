"""Content API: members read articles and ask the service box under /communities/{id}/...;
operators manage articles, pushes, keyword rules and settings under /console/."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from shequn.core.audit import client_ip
from shequn.core.schemas import Count, Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .schemas import (
    ArticleIn,
    ArticleOut,
    ArticleSummaryOut,
    AskIn,
    CalendarQuery,
    ContentSettingsIn,
    ContentSettingsOut,
    KeywordRuleIn,
    KeywordRuleOut,
    PushJobOut,
    ReplyOut,
)

router = Router(tags=["content"])

READ_ERRORS = error_responses(401, 404, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)


def _summary(article: Any) -> ArticleSummaryOut:
    return ArticleSummaryOut.model_validate(article, from_attributes=True)


def _article_input(payload: ArticleIn) -> actions.ArticleInput:
    return actions.ArticleInput(
        title=payload.title,
        body=payload.body,
        status=payload.status,
        publish_at=payload.publish_at,
        push_enabled=payload.push_enabled,
        members_only=payload.members_only,
        product_ids=payload.product_ids,
        audio_duration_seconds=payload.audio_duration_seconds,
    )


def _rule_input(payload: KeywordRuleIn) -> actions.KeywordRuleInput:
    return actions.KeywordRuleInput(
        keyword=payload.keyword,
        match_type=payload.match_type,
        reply_article_id=payload.reply_article_id,
        reply_text=payload.reply_text,
        is_active=payload.is_active,
    )


# --- members -----------------------------------------------------------------------


@router.get("/communities/{int:community_id}/articles", response={200: Page[ArticleSummaryOut], **READ_ERRORS})
def articles(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    community = selectors.access_member_content(request.user, community_id)
    page = paginate(selectors.member_articles(community), query.page, query.page_size)
    page["items"] = [_summary(article) for article in page["items"]]
    return page


@router.get("/communities/{int:community_id}/articles/{int:article_id}", response={200: ArticleOut, **READ_ERRORS})
def article(request: HttpRequest, community_id: Id, article_id: Id) -> ArticleOut:
    return ArticleOut.from_model(selectors.access_member_article(request.user, community_id, article_id))


@router.post("/communities/{int:community_id}/ask", response={200: ReplyOut, **READ_ERRORS})
def ask(request: HttpRequest, community_id: Id, payload: AskIn) -> ReplyOut:
    """The service box: the matching keyword reply, or the community's default reply."""
    community = selectors.access_member_content(request.user, community_id)
    reply = actions.answer_keyword(community, payload.text)
    return ReplyOut(
        matched=reply.matched,
        text=reply.text,
        article=_summary(reply.article) if reply.article else None,
        article_url=reverse("content:article_detail", args=[community.pk, reply.article.pk]) if reply.article else None,
    )


# --- console -----------------------------------------------------------------------


@router.get(
    "/console/communities/{int:community_id}/articles", response={200: Page[ArticleSummaryOut], **CONSOLE_ERRORS}
)
def console_articles(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_articles(community), query.page, query.page_size)
    page["items"] = [_summary(article) for article in page["items"]]
    return page


@router.post("/console/communities/{int:community_id}/articles", response={201: ArticleOut, **CONSOLE_ERRORS})
def console_article_create(request: HttpRequest, community_id: Id, payload: ArticleIn) -> Status[ArticleOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    created = actions.do_create_article(
        shop, community, _article_input(payload), actor=request.user, ip=client_ip(request)
    )
    return Status(201, ArticleOut.from_model(selectors.access_article(shop, created.pk)))


@router.get("/console/articles/{int:article_id}", response={200: ArticleOut, **CONSOLE_ERRORS})
def console_article(request: HttpRequest, article_id: Id) -> ArticleOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ArticleOut.from_model(selectors.access_article(shop, article_id))


@router.put("/console/articles/{int:article_id}", response={200: ArticleOut, **CONSOLE_ERRORS})
def console_article_update(request: HttpRequest, article_id: Id, payload: ArticleIn) -> ArticleOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_article(shop, article_id)
    actions.do_update_article(shop, found, _article_input(payload), actor=request.user, ip=client_ip(request))
    return ArticleOut.from_model(selectors.access_article(shop, article_id))


@router.post("/console/articles/{int:article_id}/media", response={200: ArticleOut, **CONSOLE_ERRORS})
def console_article_media(
    request: HttpRequest,
    article_id: Id,
    cover: File[UploadedFile | None] = None,
    audio: File[UploadedFile | None] = None,
    audio_duration_seconds: Form[Count | None] = None,
) -> ArticleOut:
    """Multipart: a cover image and/or an audio note; a WAV's duration is measured, others take
    ``audio_duration_seconds``."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_article(shop, article_id)
    actions.do_set_article_media(
        shop,
        found,
        cover=cover,
        audio=audio,
        audio_duration_seconds=audio_duration_seconds,
        actor=request.user,
        ip=client_ip(request),
    )
    return ArticleOut.from_model(selectors.access_article(shop, article_id))


@router.post("/console/articles/{int:article_id}/push", response={200: PushJobOut, **CONSOLE_ERRORS})
def console_article_push(request: HttpRequest, article_id: Id) -> PushJobOut:
    """Push a published article now (once per article; the daily cap applies)."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_article(shop, article_id)
    job = actions.do_push_now(shop, found, actor=request.user, ip=client_ip(request))
    return PushJobOut.model_validate(selectors.access_push_job(shop, job.pk), from_attributes=True)


@router.get("/console/calendar", response={200: list[ArticleSummaryOut], **CONSOLE_ERRORS})
def console_calendar(request: HttpRequest, query: Query[CalendarQuery]) -> list[ArticleSummaryOut]:
    """Articles published or scheduled in one local month, by date."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return [_summary(article) for article in selectors.calendar_articles(shop, query.year, query.month)]


@router.get("/console/push-jobs", response={200: Page[PushJobOut], **CONSOLE_ERRORS})
def console_push_jobs(request: HttpRequest, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    page = paginate(selectors.shop_push_jobs(shop), query.page, query.page_size)
    page["items"] = [PushJobOut.model_validate(job, from_attributes=True) for job in page["items"]]
    return page


@router.get("/console/push-jobs/{int:job_id}", response={200: PushJobOut, **CONSOLE_ERRORS})
def console_push_job(request: HttpRequest, job_id: Id) -> PushJobOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return PushJobOut.model_validate(selectors.access_push_job(shop, job_id), from_attributes=True)


@router.get(
    "/console/communities/{int:community_id}/keyword-rules",
    response={200: Page[KeywordRuleOut], **CONSOLE_ERRORS},
)
def console_keyword_rules(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_keyword_rules(community), query.page, query.page_size)
    page["items"] = [KeywordRuleOut.model_validate(rule, from_attributes=True) for rule in page["items"]]
    return page


@router.post("/console/communities/{int:community_id}/keyword-rules", response={201: KeywordRuleOut, **CONSOLE_ERRORS})
def console_keyword_rule_create(
    request: HttpRequest, community_id: Id, payload: KeywordRuleIn
) -> Status[KeywordRuleOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    rule = actions.do_create_keyword_rule(
        shop, community, _rule_input(payload), actor=request.user, ip=client_ip(request)
    )
    return Status(201, KeywordRuleOut.model_validate(rule, from_attributes=True))


@router.put("/console/keyword-rules/{int:rule_id}", response={200: KeywordRuleOut, **CONSOLE_ERRORS})
def console_keyword_rule_update(request: HttpRequest, rule_id: Id, payload: KeywordRuleIn) -> KeywordRuleOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    rule = selectors.access_keyword_rule(shop, rule_id)
    rule = actions.do_update_keyword_rule(shop, rule, _rule_input(payload), actor=request.user, ip=client_ip(request))
    return KeywordRuleOut.model_validate(rule, from_attributes=True)


@router.delete("/console/keyword-rules/{int:rule_id}", response={204: None, **CONSOLE_ERRORS})
def console_keyword_rule_delete(request: HttpRequest, rule_id: Id) -> Status[None]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    rule = selectors.access_keyword_rule(shop, rule_id)
    actions.do_delete_keyword_rule(shop, rule, actor=request.user, ip=client_ip(request))
    return Status(204, None)


@router.get("/console/communities/{int:community_id}/settings", response={200: ContentSettingsOut, **CONSOLE_ERRORS})
def console_settings(request: HttpRequest, community_id: Id) -> ContentSettingsOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.content_settings(selectors.access_community(shop, community_id))
    return ContentSettingsOut(
        community_id=community_id, max_pushes_per_day=found.max_pushes_per_day, default_reply=found.default_reply
    )


@router.put("/console/communities/{int:community_id}/settings", response={200: ContentSettingsOut, **CONSOLE_ERRORS})
def console_settings_update(request: HttpRequest, community_id: Id, payload: ContentSettingsIn) -> ContentSettingsOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    found = actions.do_update_settings(
        shop,
        community,
        max_pushes_per_day=payload.max_pushes_per_day,
        default_reply=payload.default_reply,
        actor=request.user,
        ip=client_ip(request),
    )
    return ContentSettingsOut(
        community_id=community_id, max_pushes_per_day=found.max_pushes_per_day, default_reply=found.default_reply
    )
