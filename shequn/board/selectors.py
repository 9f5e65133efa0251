"""Reads for the members' board.

Member reads go through ``access_member_*``: only active members of an active community see
its board; everyone else gets 404 (members-only content is invisible, not forbidden).
Console reads go through ``access_*(shop, id)`` scoped to the caller's shop.
"""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.communities import selectors as community_selectors
from shequn.communities.enums import MemberRole, MemberStatus
from shequn.communities.models import Community, CommunityMembership
from shequn.core.errors import NotFound
from shequn.shops.models import Shop

from .enums import ReportStatus
from .errors import BoardNotFound, CategoryNotFound, CommentNotFound, ReportNotFound, ThreadNotFound
from .models import (
    DEFAULT_PROMOTIONAL_THREADS_PER_DAY,
    BoardCategory,
    BoardSettings,
    Comment,
    Report,
    Thread,
    ThreadLike,
)

BOARD_NOT_FOUND = gettext_noop("互动区不存在或仅对社群成员开放")


# --- members -----------------------------------------------------------------------


def access_member_board(user: Any, community_id: int) -> Community:
    """The community whose board ``user`` may read: an active community they actively belong to."""
    try:
        community = community_selectors.active_community(community_id)
    except NotFound:
        raise BoardNotFound(_(BOARD_NOT_FOUND)) from None
    if not community_selectors.is_community_member(user, community):
        raise BoardNotFound(_(BOARD_NOT_FOUND))
    return community


def is_muted(user: Any, community: Community) -> bool:
    return community_selectors.is_muted(user, community)


def is_board_moderator(user: Any, community: Community) -> bool:
    """The community's owner and admins may pin and feature threads from the member pages."""
    if not getattr(user, "is_authenticated", False):
        return False
    return CommunityMembership.objects.filter(
        user=user,
        community=community,
        status=MemberStatus.ACTIVE,
        role__in=[MemberRole.OWNER, MemberRole.ADMIN],
    ).exists()


def active_categories(community: Community) -> QuerySet[BoardCategory]:
    return BoardCategory.objects.filter(community=community, is_active=True).order_by("position", "id")


def _threads() -> QuerySet[Thread]:
    return Thread.objects.select_related("author", "category", "community")


def board_threads(
    community: Community, *, search: str = "", category_id: int | None = None, featured_only: bool = False
) -> QuerySet[Thread]:
    """Visible threads, pinned first, newest next; ``search`` matches title or body (icontains)."""
    threads = _threads().filter(community=community, is_hidden=False)
    search = (search or "").strip()
    if search:
        threads = threads.filter(Q(title__icontains=search) | Q(body__icontains=search))
    if category_id:
        threads = threads.filter(category_id=category_id)
    if featured_only:
        threads = threads.filter(is_featured=True)
    return threads.order_by("-is_pinned", "-created_at", "-id")


def access_member_thread(user: Any, community_id: int, thread_id: int) -> Thread:
    community = access_member_board(user, community_id)
    thread = _threads().filter(community=community, pk=thread_id, is_hidden=False).first()
    if thread is None:
        raise ThreadNotFound(_("帖子不存在或已被隐藏"))
    return thread


def thread_comments(thread: Thread) -> QuerySet[Comment]:
    return Comment.objects.select_related("author").filter(thread=thread, is_hidden=False).order_by("created_at", "id")


def access_member_comment(thread: Thread, comment_id: int) -> Comment:
    comment = Comment.objects.filter(thread=thread, pk=comment_id, is_hidden=False).first()
    if comment is None:
        raise CommentNotFound(_("评论不存在或已被隐藏"))
    return comment


def has_liked(user: Any, thread: Thread) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return thread.likes.filter(user=user).exists()


def liked_thread_ids(user: Any, thread_ids: list[int]) -> set[int]:
    if not getattr(user, "is_authenticated", False) or not thread_ids:
        return set()
    return set(ThreadLike.objects.filter(user=user, thread_id__in=thread_ids).values_list("thread_id", flat=True))


def promotional_limit(community: Community) -> int:
    settings_row = BoardSettings.objects.filter(community=community).first()
    return settings_row.max_promotional_threads_per_day if settings_row else DEFAULT_PROMOTIONAL_THREADS_PER_DAY


def promotional_threads_today(user: Any, community: Community) -> int:
    """Promotional threads ``user`` posted in ``community`` today (local date), hidden ones included."""
    return Thread.objects.filter(
        community=community, author=user, is_promotional=True, created_at__date=timezone.localdate()
    ).count()


# --- console (staff of one shop) ---------------------------------------------------


def access_community(shop: Shop, community_id: int) -> Community:
    return community_selectors.access_community(shop, community_id)


def shop_communities(shop: Shop) -> QuerySet[Community]:
    return Community.objects.filter(shop=shop).order_by("-is_active", "id")


def community_categories(community: Community) -> QuerySet[BoardCategory]:
    """Every category, retired ones too (the console's view)."""
    return BoardCategory.objects.filter(community=community).order_by("position", "id")


def access_category(shop: Shop, category_id: int) -> BoardCategory:
    category = BoardCategory.objects.select_related("community").filter(shop=shop, pk=category_id).first()
    if category is None:
        raise CategoryNotFound(_("分类不存在"))
    return category


def board_settings(community: Community) -> BoardSettings:
    """The community's settings row, unsaved with defaults when it has none yet."""
    return BoardSettings.objects.filter(community=community).first() or BoardSettings(community=community)


def community_threads(community: Community, *, search: str = "") -> QuerySet[Thread]:
    """Every thread, hidden ones too (the console's view)."""
    threads = _threads().filter(community=community)
    if search.strip():
        threads = threads.filter(Q(title__icontains=search.strip()) | Q(body__icontains=search.strip()))
    return threads.order_by("-is_pinned", "-created_at", "-id")


def access_thread(shop: Shop, thread_id: int) -> Thread:
    thread = _threads().filter(shop=shop, pk=thread_id).first()
    if thread is None:
        raise ThreadNotFound(_("帖子不存在"))
    return thread


def access_comment(shop: Shop, comment_id: int) -> Comment:
    comment = Comment.objects.select_related("thread", "author").filter(thread__shop=shop, pk=comment_id).first()
    if comment is None:
        raise CommentNotFound(_("评论不存在"))
    return comment


def moderation_queue(shop: Shop, status: str = ReportStatus.OPEN) -> QuerySet[Report]:
    """Reports of this shop's boards, oldest first (the queue is worked from the front)."""
    reports = Report.objects.select_related("thread", "comment", "reporter", "community", "resolved_by").filter(
        shop=shop
    )
    if status:
        reports = reports.filter(status=status)
    return reports.order_by("created_at", "id") if status == ReportStatus.OPEN else reports.order_by("-created_at")


def access_report(shop: Shop, report_id: int) -> Report:
    report = Report.objects.select_related("thread", "comment").filter(shop=shop, pk=report_id).first()
    if report is None:
        raise ReportNotFound(_("举报不存在"))
    return report
