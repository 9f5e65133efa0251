"""Every board write. ``check_*`` validates and authorises, ``do_*`` changes data.

Members post, comment, like and report; moderators (shop staff with MANAGE_COMMUNITIES,
and for pin/feature also the community's owner and admins) act on the board, and every
moderation step is audited in the same transaction. Counters move only through
single-statement ``F()`` updates.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.communities import selectors as community_selectors
from shequn.communities.models import Community, CommunityMembership
from shequn.core import audit, ratelimit
from shequn.core.errors import InvalidInput, NotAuthenticated, PermissionDenied
from shequn.core.i18n import in_language_of
from shequn.notifications.actions import notify
from shequn.shops.models import Shop

from . import selectors
from .enums import ModerationAction, ReportStatus
from .errors import (
    BoardNotFound,
    CategoryNotFound,
    CommentNotFound,
    InvalidThread,
    MemberMuted,
    PromotionLimitReached,
    ReportNotFound,
    ThreadNotFound,
)
from .models import BoardCategory, BoardSettings, Comment, Report, Thread, ThreadLike

TITLE_MAX = 60
BODY_MAX = 5000
COMMENT_MAX = 1000
REASON_MAX = 200
CATEGORY_NAME_MAX = 20
PROMOTIONAL_LIMIT_MAX = 50
# Flood guard on top of the promotional limit (approximate, in the cache): per member and community.
THREADS_PER_WINDOW = 10
COMMENTS_PER_WINDOW = 30
FLOOD_WINDOW_SECONDS = 600


# --- members -----------------------------------------------------------------------


def check_member(user: Any, community: Community) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    if not community.is_active or not community_selectors.is_community_member(user, community):
        raise BoardNotFound(_(selectors.BOARD_NOT_FOUND))


def check_can_post(user: Any, community: Community) -> None:
    """Members may post and comment unless a moderator muted them."""
    check_member(user, community)
    if selectors.is_muted(user, community):
        raise MemberMuted(_("你已被禁言，暂时不能发帖或评论"), code="member_muted")


def check_thread(
    community: Community, category_id: int | None, title: str, body: str
) -> tuple[BoardCategory | None, str, str]:
    """Clean a new thread's fields; every problem at once in ``details["fields"]`` for the form."""
    title, body = (title or "").strip(), (body or "").strip()
    fields: dict[str, str] = {}
    categories = selectors.active_categories(community)
    category = categories.filter(pk=category_id).first() if category_id else None
    if category is None and categories.exists():
        fields["category"] = _("请选择分类")
    if not title:
        fields["title"] = _("请填写标题")
    elif len(title) > TITLE_MAX:
        fields["title"] = _("标题不能超过 %(max)s 个字") % {"max": TITLE_MAX}
    if not body:
        fields["body"] = _("请填写内容")
    elif len(body) > BODY_MAX:
        fields["body"] = _("内容不能超过 %(max)s 个字") % {"max": BODY_MAX}
    if fields:
        raise InvalidThread(next(iter(fields.values())), details={"fields": fields})
    return category, title, body


def check_promotional_quota(user: Any, community: Community) -> None:
    """At most N promotional threads per member per community per day, counted in the database."""
    limit = selectors.promotional_limit(community)
    if selectors.promotional_threads_today(user, community) >= limit:
        message = (
            _("每位成员每天最多发 %(limit)s 条推广帖，你今天的推广名额已用完，请明天再发") % {"limit": limit}
            if limit
            else _("本社群互动区不允许发推广帖")
        )
        raise PromotionLimitReached(message, details={"limit": limit, "fields": {"is_promotional": message}})


def do_create_thread(
    user: Any,
    community: Community,
    *,
    category_id: int | None,
    title: str,
    body: str,
    is_promotional: bool = False,
) -> Thread:
    check_can_post(user, community)
    category, title, body = check_thread(community, category_id, title, body)
    with transaction.atomic():
        if is_promotional:
            # One member's posts queue on their membership row, so the daily count stays exact
            # under concurrent taps (SQLite already serialises writers with IMMEDIATE).
            list(CommunityMembership.objects.select_for_update().filter(community=community, user=user))
            check_promotional_quota(user, community)
        ratelimit.hit(f"board:thread:{community.pk}:{user.pk}", THREADS_PER_WINDOW, FLOOD_WINDOW_SECONDS)
        return Thread.objects.create(
            shop_id=community.shop_id,
            community=community,
            category=category,
            author=user,
            title=title,
            body=body,
            is_promotional=is_promotional,
        )


def thread_path(thread: Thread) -> str:
    return reverse("board:thread_detail", args=[thread.community_id, thread.pk])


def do_comment(user: Any, thread: Thread, body: str) -> Comment:
    community = thread.community
    check_can_post(user, community)
    body = (body or "").strip()
    if not body:
        raise InvalidInput(
            _("请填写评论内容"), code="comment_required", details={"fields": {"body": _("请填写评论内容")}}
        )
    if len(body) > COMMENT_MAX:
        message = _("评论不能超过 %(max)s 个字") % {"max": COMMENT_MAX}
        raise InvalidInput(message, code="comment_too_long", details={"fields": {"body": message}})
    ratelimit.hit(f"board:comment:{community.pk}:{user.pk}", COMMENTS_PER_WINDOW, FLOOD_WINDOW_SECONDS)
    with transaction.atomic():
        comment = Comment.objects.create(thread=thread, author=user, body=body)
        Thread.objects.filter(pk=thread.pk).update(comment_count=F("comment_count") + 1)
        if thread.author_id != user.pk:
            with in_language_of(thread.author):
                notify(
                    thread.author,
                    shop=community.shop,
                    kind="board.comment",
                    title=_("%(display_name)s 评论了你的帖子") % {"display_name": user.display_name},
                    body=_("「%(title)s」：%(body)s") % {"title": thread.title, "body": body[:80]},
                    link=thread_path(thread),
                )
    return comment


def do_set_like(user: Any, thread: Thread, liked: bool) -> tuple[bool, int]:
    """Like or unlike (idempotent); returns (liked, like_count). The count moves only when a row does."""
    check_member(user, thread.community)
    with transaction.atomic():
        if liked:
            try:
                with transaction.atomic():
                    ThreadLike.objects.create(thread=thread, user=user)
            except IntegrityError:  # already liked (a double tap)
                pass
            else:
                Thread.objects.filter(pk=thread.pk).update(like_count=F("like_count") + 1)
        else:
            deleted, _ = ThreadLike.objects.filter(thread=thread, user=user).delete()
            if deleted:
                Thread.objects.filter(pk=thread.pk).update(like_count=F("like_count") - 1)
    thread.like_count = Thread.objects.values_list("like_count", flat=True).get(pk=thread.pk)
    return liked, thread.like_count


def do_toggle_like(user: Any, thread: Thread) -> tuple[bool, int]:
    return do_set_like(user, thread, not selectors.has_liked(user, thread))


def do_report(user: Any, thread: Thread, reason: str, comment: Comment | None = None) -> Report:
    """A member reports a thread or a comment; a second open report of the same thing by them is the first."""
    check_member(user, thread.community)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("请填写举报理由"), code="reason_required", details={"fields": {"reason": _("请填写举报理由")}}
        )
    if len(reason) > REASON_MAX:
        message = _("举报理由不能超过 %(max)s 个字") % {"max": REASON_MAX}
        raise InvalidInput(message, code="reason_too_long", details={"fields": {"reason": message}})
    if comment is not None and comment.thread_id != thread.pk:
        raise InvalidInput(_("评论不属于该帖子"), code="comment_not_in_thread")
    existing = Report.objects.filter(thread=thread, comment=comment, reporter=user, status=ReportStatus.OPEN).first()
    if existing is not None:
        return existing
    return Report.objects.create(
        shop_id=thread.shop_id,
        community_id=thread.community_id,
        thread=thread,
        comment=comment,
        reporter=user,
        reason=reason,
    )


# --- moderation (staff; pin and feature also the community's owner and admins) ----------


def check_board_moderator(user: Any, community: Community) -> None:
    check_member(user, community)
    if not selectors.is_board_moderator(user, community):
        raise PermissionDenied(_("只有群主和管理员可以置顶或加精"), code="not_board_moderator")


def do_set_thread_flags(
    thread: Thread,
    *,
    is_pinned: bool | None = None,
    is_featured: bool | None = None,
    actor: Any,
    ip: str | None = None,
) -> Thread:
    changes: dict[str, bool] = {}
    if is_pinned is not None:
        changes["is_pinned"] = is_pinned
    if is_featured is not None:
        changes["is_featured"] = is_featured
    if not changes:
        return thread
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(**changes)
        for name, value in changes.items():
            setattr(thread, name, value)
        audit.record(actor=actor, shop=thread.shop, action="board.thread_flags", obj=thread, ip=ip, **changes)
    return thread


def _resolve_open_reports(reports: Any, status: str, actor: Any) -> int:
    return int(
        reports.filter(status=ReportStatus.OPEN).update(status=status, resolved_by=actor, resolved_at=timezone.now())
    )


def do_set_thread_hidden(shop: Shop, thread: Thread, hidden: bool, *, actor: Any, ip: str | None = None) -> Thread:
    """Hide a thread from the board (its open reports count as handled) or restore it."""
    if thread.shop_id != shop.pk:
        raise ThreadNotFound(_("帖子不存在"))
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(is_hidden=hidden)
        thread.is_hidden = hidden
        resolved = (
            _resolve_open_reports(thread.reports.filter(comment__isnull=True), ReportStatus.ACTIONED, actor)
            if hidden
            else 0
        )
        audit.record(
            actor=actor,
            shop=shop,
            action="board.thread_hide" if hidden else "board.thread_restore",
            obj=thread,
            ip=ip,
            reports_resolved=resolved,
        )
    return thread


def do_set_comment_hidden(shop: Shop, comment: Comment, hidden: bool, *, actor: Any, ip: str | None = None) -> Comment:
    """Hide or restore a comment; the thread's visible comment count follows, once per real change."""
    thread = comment.thread
    if thread.shop_id != shop.pk:
        raise CommentNotFound(_("评论不存在"))
    with transaction.atomic():
        changed = Comment.objects.filter(pk=comment.pk, is_hidden=not hidden).update(is_hidden=hidden)
        if changed:
            step = -1 if hidden else 1
            Thread.objects.filter(pk=thread.pk).update(comment_count=F("comment_count") + step)
        comment.is_hidden = hidden
        resolved = _resolve_open_reports(comment.reports.all(), ReportStatus.ACTIONED, actor) if hidden else 0
        audit.record(
            actor=actor,
            shop=shop,
            action="board.comment_hide" if hidden else "board.comment_restore",
            obj=comment,
            ip=ip,
            thread_id=thread.pk,
            reports_resolved=resolved,
        )
    return comment


def do_moderate_report(shop: Shop, report: Report, action: str, *, actor: Any, ip: str | None = None) -> Report:
    """Work one report of the queue: hide what it points at, or dismiss it."""
    if report.shop_id != shop.pk:
        raise ReportNotFound(_("举报不存在"))
    if action == ModerationAction.HIDE:
        if report.comment is not None:
            do_set_comment_hidden(shop, report.comment, True, actor=actor, ip=ip)
        else:
            do_set_thread_hidden(shop, report.thread, True, actor=actor, ip=ip)
    elif action == ModerationAction.DISMISS:
        with transaction.atomic():
            _resolve_open_reports(Report.objects.filter(pk=report.pk), ReportStatus.DISMISSED, actor)
            audit.record(actor=actor, shop=shop, action="board.report_dismiss", obj=report, ip=ip)
    else:
        raise InvalidInput(_("未知的处理方式"), code="invalid_moderation_action")
    report.refresh_from_db()
    return report


# --- categories and settings (staff) -----------------------------------------------


def check_category_fields(community: Community, name: str, *, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(
            _("请填写分类名称"), code="category_name_required", details={"fields": {"name": _("请填写分类名称")}}
        )
    if len(name) > CATEGORY_NAME_MAX:
        message = _("分类名称不能超过 %(max)s 个字") % {"max": CATEGORY_NAME_MAX}
        raise InvalidInput(message, code="category_name_too_long", details={"fields": {"name": message}})
    duplicates = BoardCategory.objects.filter(community=community, name=name)
    if exclude_id:
        duplicates = duplicates.exclude(pk=exclude_id)
    if duplicates.exists():
        message = _("已有名为「%(name)s」的分类") % {"name": name}
        raise InvalidInput(message, code="category_name_taken", details={"fields": {"name": message}})
    return name


def do_create_category(
    shop: Shop, community: Community, name: str, position: int | None = None, *, actor: Any, ip: str | None = None
) -> BoardCategory:
    if community.shop_id != shop.pk:
        raise BoardNotFound(_(selectors.BOARD_NOT_FOUND))
    name = check_category_fields(community, name)
    if position is None:
        last = BoardCategory.objects.filter(community=community).order_by("-position").first()
        position = last.position + 1 if last else 0
    with transaction.atomic():
        category = BoardCategory.objects.create(shop=shop, community=community, name=name, position=max(0, position))
        audit.record(actor=actor, shop=shop, action="board.category_create", obj=category, ip=ip)
    return category


def do_update_category(
    shop: Shop,
    category: BoardCategory,
    *,
    name: str,
    position: int,
    is_active: bool,
    actor: Any,
    ip: str | None = None,
) -> BoardCategory:
    if category.shop_id != shop.pk:
        raise CategoryNotFound(_("分类不存在"))
    name = check_category_fields(category.community, name, exclude_id=category.pk)
    with transaction.atomic():
        category.name, category.position, category.is_active = name, max(0, position), is_active
        category.save(update_fields=["name", "position", "is_active"])
        audit.record(actor=actor, shop=shop, action="board.category_update", obj=category, ip=ip, is_active=is_active)
    return category


def do_update_board_settings(
    shop: Shop, community: Community, *, max_promotional_threads_per_day: int, actor: Any, ip: str | None = None
) -> BoardSettings:
    if community.shop_id != shop.pk:
        raise BoardNotFound(_(selectors.BOARD_NOT_FOUND))
    if not 0 <= max_promotional_threads_per_day <= PROMOTIONAL_LIMIT_MAX:
        message = _("每日推广帖上限需在 0 到 %(max)s 之间") % {"max": PROMOTIONAL_LIMIT_MAX}
        raise InvalidInput(
            message, code="invalid_promotional_limit", details={"fields": {"max_promotional_threads_per_day": message}}
        )
    with transaction.atomic():
        row, _created = BoardSettings.objects.update_or_create(
            community=community, defaults={"max_promotional_threads_per_day": max_promotional_threads_per_day}
        )
        audit.record(
            actor=actor,
            shop=shop,
            action="board.settings_update",
            obj=community,
            ip=ip,
            max_promotional_threads_per_day=max_promotional_threads_per_day,
        )
    return row
