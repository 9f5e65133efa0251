"""Board API: members read and write their community's board under /communities/{id}/...;
operators work categories, settings, threads and the moderation queue under /console/."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.schemas import Id, Page, PageQuery, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .enums import ReportStatus
from .schemas import (
    BoardCategoryIn,
    BoardCategoryOut,
    BoardSettingsIn,
    BoardSettingsOut,
    CommentIn,
    CommentOut,
    ConsoleCommentOut,
    ConsoleReportOut,
    ConsoleThreadOut,
    FlagsIn,
    HiddenIn,
    LikeIn,
    LikeOut,
    ModerateIn,
    ReportIn,
    ReportOut,
    ReportQuery,
    ThreadIn,
    ThreadOut,
    ThreadQuery,
)

router = Router(tags=["board"])
console = Router(tags=["board console"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)


@router.get("/communities/{int:community_id}/categories", response={200: Page[BoardCategoryOut], **READ_ERRORS})
def categories(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    community = selectors.access_member_board(request.user, community_id)
    page = paginate(selectors.active_categories(community), query.page, query.page_size)
    page["items"] = [BoardCategoryOut.from_model(c) for c in page["items"]]
    return page


@router.get("/communities/{int:community_id}/threads", response={200: Page[ThreadOut], **READ_ERRORS})
def threads(request: HttpRequest, community_id: Id, query: Query[ThreadQuery]) -> dict:
    """Visible threads, pinned first; ``q`` searches title and body, ``category_id`` filters."""
    community = selectors.access_member_board(request.user, community_id)
    found = selectors.board_threads(
        community, search=query.q, category_id=query.category_id, featured_only=query.featured
    )
    page = paginate(found, query.page, query.page_size)
    page["items"] = [ThreadOut.from_model(t) for t in page["items"]]
    return page


@router.post(
    "/communities/{int:community_id}/threads",
    response={201: ThreadOut, **WRITE_ERRORS, **error_responses(429)},
)
def create_thread(request: HttpRequest, community_id: Id, body: ThreadIn) -> Status[ThreadOut]:
    """429 ``promotion_limit_reached`` once the member used today's promotional threads; 403 ``member_muted``."""
    community = selectors.access_member_board(request.user, community_id)
    thread = actions.do_create_thread(
        request.user,
        community,
        category_id=body.category_id,
        title=body.title,
        body=body.body,
        is_promotional=body.is_promotional,
    )
    return Status(201, ThreadOut.from_model(selectors.access_member_thread(request.user, community_id, thread.pk)))


@router.get("/communities/{int:community_id}/threads/{int:thread_id}", response={200: ThreadOut, **READ_ERRORS})
def thread(request: HttpRequest, community_id: Id, thread_id: Id) -> ThreadOut:
    found = selectors.access_member_thread(request.user, community_id, thread_id)
    return ThreadOut.from_model(found, liked=selectors.has_liked(request.user, found))


@router.get(
    "/communities/{int:community_id}/threads/{int:thread_id}/comments",
    response={200: Page[CommentOut], **READ_ERRORS},
)
def comments(request: HttpRequest, community_id: Id, thread_id: Id, query: Query[PageQuery]) -> dict:
    found = selectors.access_member_thread(request.user, community_id, thread_id)
    page = paginate(selectors.thread_comments(found), query.page, query.page_size)
    page["items"] = [CommentOut.from_model(c) for c in page["items"]]
    return page


@router.post(
    "/communities/{int:community_id}/threads/{int:thread_id}/comments",
    response={201: CommentOut, **WRITE_ERRORS, **error_responses(429)},
)
def create_comment(request: HttpRequest, community_id: Id, thread_id: Id, body: CommentIn) -> Status[CommentOut]:
    found = selectors.access_member_thread(request.user, community_id, thread_id)
    return Status(201, CommentOut.from_model(actions.do_comment(request.user, found, body.body)))


@router.post(
    "/communities/{int:community_id}/threads/{int:thread_id}/like/toggle",
    response={200: LikeOut, **WRITE_ERRORS},
)
def toggle_like(request: HttpRequest, community_id: Id, thread_id: Id) -> LikeOut:
    found = selectors.access_member_thread(request.user, community_id, thread_id)
    liked, count = actions.do_toggle_like(request.user, found)
    return LikeOut(liked=liked, like_count=count)


@router.put(
    "/communities/{int:community_id}/threads/{int:thread_id}/like",
    response={200: LikeOut, **WRITE_ERRORS},
)
def set_like(request: HttpRequest, community_id: Id, thread_id: Id, body: LikeIn) -> LikeOut:
    """Idempotent like/unlike, for clients that retry."""
    found = selectors.access_member_thread(request.user, community_id, thread_id)
    liked, count = actions.do_set_like(request.user, found, body.liked)
    return LikeOut(liked=liked, like_count=count)


@router.post(
    "/communities/{int:community_id}/threads/{int:thread_id}/reports",
    response={201: ReportOut, **WRITE_ERRORS},
)
def report(request: HttpRequest, community_id: Id, thread_id: Id, body: ReportIn) -> Status[ReportOut]:
    found = selectors.access_member_thread(request.user, community_id, thread_id)
    comment = selectors.access_member_comment(found, body.comment_id) if body.comment_id else None
    return Status(201, ReportOut.from_model(actions.do_report(request.user, found, body.reason, comment=comment)))


@router.put(
    "/communities/{int:community_id}/threads/{int:thread_id}/flags",
    response={200: ThreadOut, **WRITE_ERRORS},
)
def set_flags(request: HttpRequest, community_id: Id, thread_id: Id, body: FlagsIn) -> ThreadOut:
    """Pin or feature (精华): the community's owner and admins."""
    found = selectors.access_member_thread(request.user, community_id, thread_id)
    actions.check_board_moderator(request.user, found.community)
    actions.do_set_thread_flags(
        found, is_pinned=body.is_pinned, is_featured=body.is_featured, actor=request.user, ip=client_ip(request)
    )
    return ThreadOut.from_model(found)


# --- operator console ----------------------------------------------------------------


@console.get("/communities/{int:community_id}/categories", response={200: Page[BoardCategoryOut], **CONSOLE_ERRORS})
def console_categories(request: HttpRequest, community_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_categories(community), query.page, query.page_size)
    page["items"] = [BoardCategoryOut.from_model(c) for c in page["items"]]
    return page


@console.post("/communities/{int:community_id}/categories", response={201: BoardCategoryOut, **CONSOLE_ERRORS})
def console_create_category(request: HttpRequest, community_id: Id, body: BoardCategoryIn) -> Status[BoardCategoryOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    category = actions.do_create_category(
        shop, community, body.name, body.position, actor=request.user, ip=client_ip(request)
    )
    return Status(201, BoardCategoryOut.from_model(category))


@console.put("/categories/{int:category_id}", response={200: BoardCategoryOut, **CONSOLE_ERRORS})
def console_update_category(request: HttpRequest, category_id: Id, body: BoardCategoryIn) -> BoardCategoryOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    category = selectors.access_category(shop, category_id)
    actions.do_update_category(
        shop,
        category,
        name=body.name,
        position=body.position if body.position is not None else category.position,
        is_active=body.is_active,
        actor=request.user,
        ip=client_ip(request),
    )
    return BoardCategoryOut.from_model(category)


@console.get("/communities/{int:community_id}/settings", response={200: BoardSettingsOut, **CONSOLE_ERRORS})
def console_settings(request: HttpRequest, community_id: Id) -> BoardSettingsOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return BoardSettingsOut.from_model(selectors.board_settings(selectors.access_community(shop, community_id)))


@console.put("/communities/{int:community_id}/settings", response={200: BoardSettingsOut, **CONSOLE_ERRORS})
def console_update_settings(request: HttpRequest, community_id: Id, body: BoardSettingsIn) -> BoardSettingsOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    row = actions.do_update_board_settings(
        shop,
        community,
        max_promotional_threads_per_day=body.max_promotional_threads_per_day,
        actor=request.user,
        ip=client_ip(request),
    )
    return BoardSettingsOut.from_model(row)


@console.get("/communities/{int:community_id}/threads", response={200: Page[ConsoleThreadOut], **CONSOLE_ERRORS})
def console_threads(request: HttpRequest, community_id: Id, query: Query[ThreadQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_threads(community, search=query.q), query.page, query.page_size)
    page["items"] = [ConsoleThreadOut.from_model(t) for t in page["items"]]
    return page


@console.get("/threads/{int:thread_id}", response={200: ConsoleThreadOut, **CONSOLE_ERRORS})
def console_thread(request: HttpRequest, thread_id: Id) -> ConsoleThreadOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ConsoleThreadOut.from_model(selectors.access_thread(shop, thread_id))


@console.get("/threads/{int:thread_id}/comments", response={200: Page[ConsoleCommentOut], **CONSOLE_ERRORS})
def console_comments(request: HttpRequest, thread_id: Id, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_thread(shop, thread_id)
    page = paginate(found.comments.select_related("author").order_by("created_at", "id"), query.page, query.page_size)
    page["items"] = [ConsoleCommentOut.from_model(c) for c in page["items"]]
    return page


@console.put("/threads/{int:thread_id}/flags", response={200: ConsoleThreadOut, **CONSOLE_ERRORS})
def console_thread_flags(request: HttpRequest, thread_id: Id, body: FlagsIn) -> ConsoleThreadOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_thread(shop, thread_id)
    actions.do_set_thread_flags(
        found, is_pinned=body.is_pinned, is_featured=body.is_featured, actor=request.user, ip=client_ip(request)
    )
    return ConsoleThreadOut.from_model(found)


@console.put("/threads/{int:thread_id}/hidden", response={200: ConsoleThreadOut, **CONSOLE_ERRORS})
def console_thread_hidden(request: HttpRequest, thread_id: Id, body: HiddenIn) -> ConsoleThreadOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_thread(shop, thread_id)
    actions.do_set_thread_hidden(shop, found, body.hidden, actor=request.user, ip=client_ip(request))
    return ConsoleThreadOut.from_model(found)


@console.put("/comments/{int:comment_id}/hidden", response={200: ConsoleCommentOut, **CONSOLE_ERRORS})
def console_comment_hidden(request: HttpRequest, comment_id: Id, body: HiddenIn) -> ConsoleCommentOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    comment = selectors.access_comment(shop, comment_id)
    actions.do_set_comment_hidden(shop, comment, body.hidden, actor=request.user, ip=client_ip(request))
    return ConsoleCommentOut.from_model(comment)


@console.get("/reports", response={200: Page[ConsoleReportOut], **CONSOLE_ERRORS})
def console_reports(request: HttpRequest, query: Query[ReportQuery]) -> dict:
    """The moderation queue (``status=open``, oldest first); ``actioned`` and ``dismissed`` for history."""
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    status = query.status if query.status in ReportStatus.values else ReportStatus.OPEN
    page = paginate(selectors.moderation_queue(shop, status), query.page, query.page_size)
    page["items"] = [ConsoleReportOut.from_model(r) for r in page["items"]]
    return page


@console.post("/reports/{int:report_id}/moderate", response={200: ConsoleReportOut, **CONSOLE_ERRORS})
def console_moderate(request: HttpRequest, report_id: Id, body: ModerateIn) -> ConsoleReportOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    found = selectors.access_report(shop, report_id)
    moderated = actions.do_moderate_report(shop, found, body.action, actor=request.user, ip=client_ip(request))
    return ConsoleReportOut.from_model(selectors.access_report(shop, moderated.pk))


router.add_router("/console", console)
