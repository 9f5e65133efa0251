"""Community content for the demo: articles with product cards, keyword auto-replies and the
members' board (互动区), all made through the content and board actions (sanitised bodies,
audit rows, counters moved by the actions themselves, inbox messages for comments).

Each part is skipped when it is already there, so a second seed changes nothing. The actions
stamp everything "now"; afterwards published articles and board threads are spread back over
the last days so the lists read like a lived-in community.
"""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from shequn.accounts.models import User
from shequn.board import actions as board
from shequn.board.models import BoardCategory, Comment, Thread, ThreadLike
from shequn.catalog.models import Product
from shequn.communities.models import Community, CommunityMembership
from shequn.communities.selectors import current_q
from shequn.content import actions as content
from shequn.content.enums import ArticleStatus
from shequn.content.models import Article, ContentSettings, KeywordRule
from shequn.notifications.models import Notification
from shequn.shops.models import Shop

from . import data

SHANGHAI = ZoneInfo("Asia/Shanghai")


def seed_content(
    shop: Shop, communities: list[Community], staff: dict[str, User], products: dict[str, Product], report: Any
) -> None:
    operator = staff["operator"]
    _articles(shop, communities, operator, products, report)
    _keyword_rules(shop, communities, operator, report)
    _board(shop, communities, operator, report)


def tomorrow_at_eight(now: datetime) -> datetime:
    """08:00 Asia/Shanghai on the day after ``now``'s local date there."""
    local_day = timezone.localtime(now, SHANGHAI).date()
    return datetime.combine(local_day + timedelta(days=1), time(8, 0), tzinfo=SHANGHAI)


def _articles(
    shop: Shop, communities: list[Community], operator: User, products: dict[str, Product], report: Any
) -> None:
    if Article.objects.filter(shop=shop).exists():
        return
    now = timezone.now()
    published: list[Article] = []
    cards = 0
    for community_index, title, body, card_titles, status, push, members_only in data.ARTICLES:
        article = content.do_create_article(
            shop,
            communities[community_index],
            content.ArticleInput(
                title=title,
                body=body,
                status=status,
                publish_at=tomorrow_at_eight(now) if status == ArticleStatus.SCHEDULED else None,
                push_enabled=push,
                members_only=members_only,
                product_ids=[products[card].pk for card in card_titles],
            ),
            actor=operator,
        )
        cards += len(card_titles)
        if article.status == ArticleStatus.PUBLISHED:
            published.append(article)
    # Published over the last days, the first of the list the oldest.
    for age, article in enumerate(reversed(published), start=1):
        published_at = now - timedelta(days=age, hours=2)
        Article.objects.filter(pk=article.pk).update(
            published_at=published_at, created_at=published_at - timedelta(hours=1)
        )
    statuses = [status for _, _, _, _, status, _, _ in data.ARTICLES]
    report.add(
        f"{len(data.ARTICLES)} articles with {cards} product cards "
        f"({statuses.count('published')} published, {statuses.count('scheduled')} scheduled with a push, "
        f"{statuses.count('draft')} draft)"
    )


def _keyword_rules(shop: Shop, communities: list[Community], operator: User, report: Any) -> None:
    if (
        KeywordRule.objects.filter(shop=shop).exists()
        or ContentSettings.objects.filter(community__in=communities).exists()
    ):
        return
    for community_index, keyword, match_type, reply_text, article_title in data.KEYWORD_RULES:
        community = communities[community_index]
        article = Article.objects.filter(shop=shop, community=community, title=article_title).first()
        content.do_create_keyword_rule(
            shop,
            community,
            content.KeywordRuleInput(
                keyword=keyword,
                match_type=match_type,
                reply_text=reply_text,
                reply_article_id=article.pk if article else None,
            ),
            actor=operator,
        )
    for community in communities:
        content.do_update_settings(
            shop, community, max_pushes_per_day=1, default_reply=data.DEFAULT_REPLY, actor=operator
        )
    report.add(f"{len(data.KEYWORD_RULES)} keyword replies, a default reply in {len(communities)} communities")


def _current_members(community: Community) -> list[User]:
    memberships = CommunityMembership.objects.filter(current_q(), community=community).select_related("user")
    return [membership.user for membership in memberships.order_by("id")]


def _board(shop: Shop, communities: list[Community], operator: User, report: Any) -> None:
    if BoardCategory.objects.filter(shop=shop).exists():
        return
    now = timezone.now()
    categories: dict[tuple[int, str], BoardCategory] = {}
    for community_index, community in enumerate(communities):
        for name in data.BOARD_CATEGORIES:
            categories[community_index, name] = board.do_create_category(shop, community, name, actor=operator)
    members = {index: _current_members(community) for index, community in enumerate(communities)}
    comment_count = like_count = 0
    for thread_index, spec in enumerate(data.BOARD_THREADS):
        community_index, category, title, body, author, promotional, comments, likes, pinned, featured = spec
        people = members[community_index]
        thread = board.do_create_thread(
            people[author],
            communities[community_index],
            category_id=categories[community_index, category].pk,
            title=title,
            body=body,
            is_promotional=promotional,
        )
        for commenter, text in comments:
            board.do_comment(people[commenter], thread, text)
        for offset in range(likes):
            board.do_set_like(people[(thread_index * 3 + offset + 1) % len(people)], thread, True)
        board.do_set_thread_flags(thread, is_pinned=pinned or None, is_featured=featured or None, actor=operator)
        comment_count += len(comments)
        like_count += likes
        # Spread back: the first thread of the list is the oldest, comments follow their thread.
        _backdate_thread(thread, now - timedelta(hours=20 * (len(data.BOARD_THREADS) - thread_index)))
    report.add(
        f"board: {len(categories)} categories, {len(data.BOARD_THREADS)} threads, "
        f"{comment_count} comments, {like_count} likes"
    )


def _backdate_thread(thread: Thread, created: datetime) -> None:
    Thread.objects.filter(pk=thread.pk).update(created_at=created)
    ThreadLike.objects.filter(thread=thread).update(created_at=created + timedelta(hours=3))
    comments = list(Comment.objects.filter(thread=thread).order_by("id"))
    for position, comment in enumerate(comments, start=1):
        comment.created_at = created + timedelta(minutes=25 * position)
    Comment.objects.bulk_update(comments, ["created_at"])
    # The thread author's inbox messages about those comments carry the comment's time.
    messages = list(
        Notification.objects.filter(
            user_id=thread.author_id, kind="board.comment", link=board.thread_path(thread)
        ).order_by("id")
    )
    others = [comment for comment in comments if comment.author_id != thread.author_id]
    for message, comment in zip(messages, others, strict=True):
        message.created_at = comment.created_at
    Notification.objects.bulk_update(messages, ["created_at"])
