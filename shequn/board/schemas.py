"""API shapes for the members' board. Bodies are plain text; clients must escape them."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from shequn.core.schemas import Count, Id, MultilineText, PageQuery, SearchText, Text

from .models import BoardCategory, BoardSettings, Comment, Report, Thread


class BoardCategoryOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool

    @staticmethod
    def from_model(category: BoardCategory) -> "BoardCategoryOut":
        return BoardCategoryOut(
            id=category.pk, name=category.name, position=category.position, is_active=category.is_active
        )


class ThreadOut(Schema):
    id: int
    community_id: int
    category_id: int | None
    category_name: str | None
    title: str
    body: str
    author_id: int
    author_name: str
    is_promotional: bool
    is_pinned: bool
    is_featured: bool
    like_count: int
    comment_count: int
    created_at: datetime
    liked: bool | None = None  # whether the caller liked it (single-thread reads only)

    @staticmethod
    def from_model(thread: Thread, liked: bool | None = None) -> "ThreadOut":
        return ThreadOut(
            id=thread.pk,
            community_id=thread.community_id,
            category_id=thread.category_id,
            category_name=thread.category.name if thread.category else None,
            title=thread.title,
            body=thread.body,
            author_id=thread.author_id,
            author_name=thread.author.display_name,
            is_promotional=thread.is_promotional,
            is_pinned=thread.is_pinned,
            is_featured=thread.is_featured,
            like_count=thread.like_count,
            comment_count=thread.comment_count,
            created_at=thread.created_at,
            liked=liked,
        )


class ConsoleThreadOut(ThreadOut):
    is_hidden: bool

    @staticmethod
    def from_model(thread: Thread, liked: bool | None = None) -> "ConsoleThreadOut":
        return ConsoleThreadOut(**ThreadOut.from_model(thread).model_dump(), is_hidden=thread.is_hidden)


class CommentOut(Schema):
    id: int
    thread_id: int
    author_id: int
    author_name: str
    body: str
    created_at: datetime

    @staticmethod
    def from_model(comment: Comment) -> "CommentOut":
        return CommentOut(
            id=comment.pk,
            thread_id=comment.thread_id,
            author_id=comment.author_id,
            author_name=comment.author.display_name,
            body=comment.body,
            created_at=comment.created_at,
        )


class ConsoleCommentOut(CommentOut):
    is_hidden: bool

    @staticmethod
    def from_model(comment: Comment) -> "ConsoleCommentOut":
        return ConsoleCommentOut(**CommentOut.from_model(comment).model_dump(), is_hidden=comment.is_hidden)


class ReportOut(Schema):
    id: int
    thread_id: int
    comment_id: int | None
    reason: str
    status: str
    created_at: datetime

    @staticmethod
    def from_model(report: Report) -> "ReportOut":
        return ReportOut(
            id=report.pk,
            thread_id=report.thread_id,
            comment_id=report.comment_id,
            reason=report.reason,
            status=report.status,
            created_at=report.created_at,
        )


class ConsoleReportOut(ReportOut):
    community_id: int
    thread_title: str
    comment_body: str | None
    reporter_name: str
    resolved_at: datetime | None

    @staticmethod
    def from_model(report: Report) -> "ConsoleReportOut":
        return ConsoleReportOut(
            **ReportOut.from_model(report).model_dump(),
            community_id=report.community_id,
            thread_title=report.thread.title,
            comment_body=report.comment.body if report.comment else None,
            reporter_name=report.reporter.display_name,
            resolved_at=report.resolved_at,
        )


class BoardSettingsOut(Schema):
    community_id: int
    max_promotional_threads_per_day: int

    @staticmethod
    def from_model(row: BoardSettings) -> "BoardSettingsOut":
        return BoardSettingsOut(
            community_id=row.community_id, max_promotional_threads_per_day=row.max_promotional_threads_per_day
        )


class ThreadIn(Schema):
    category_id: Id | None = None
    title: Text = Field(..., max_length=60)
    body: MultilineText
    is_promotional: bool = False


class CommentIn(Schema):
    body: MultilineText


class ReportIn(Schema):
    reason: MultilineText = Field(..., max_length=200)
    comment_id: Id | None = None  # report a comment of the thread instead of the thread itself


class LikeOut(Schema):
    liked: bool
    like_count: int


class LikeIn(Schema):
    liked: bool


class ThreadQuery(PageQuery):
    q: SearchText = ""  # matches title or body
    category_id: Id | None = None
    featured: bool = False  # only 精华 threads


class ReportQuery(PageQuery):
    status: Text = Field("open", max_length=16)


class BoardCategoryIn(Schema):
    name: Text = Field(..., max_length=20)
    position: Count | None = None
    is_active: bool = True


class BoardSettingsIn(Schema):
    max_promotional_threads_per_day: Count


class FlagsIn(Schema):
    is_pinned: bool | None = None
    is_featured: bool | None = None


class HiddenIn(Schema):
    hidden: bool


class ModerateIn(Schema):
    action: Text = Field(..., max_length=16)  # "hide" or "dismiss"
