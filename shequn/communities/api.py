"""Communities API: join by invite code, my communities, members-only feeds, and the
operator endpoints under /console/ scoped to the caller's shop."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from shequn.core.audit import client_ip
from shequn.core.schemas import Page, error_responses, paginate
from shequn.shops.console import api_console_shop
from shequn.shops.permissions import MANAGE_COMMUNITIES

from . import actions, selectors
from .schemas import (
    CommunityIn,
    CommunityOut,
    ConsoleCommunityOut,
    ConsolePostOut,
    JoinIn,
    JoinOut,
    MemberOut,
    PageQuery,
    PostIn,
    PostOut,
    PublishIn,
)

router = Router(tags=["communities"])
console = Router(tags=["communities console"])

MEMBER_ERRORS = error_responses(401, 403, 404, 422)
CONSOLE_ERRORS = error_responses(401, 403, 404, 422)


@router.get("/invites/{invite_code}", response={200: CommunityOut, **error_responses(404, 422)}, auth=None)
def invite_preview(request: HttpRequest, invite_code: str) -> CommunityOut:
    """What an invite link shows before joining: name, shop, member count."""
    return CommunityOut.from_model(selectors.community_by_invite_code(invite_code))


@router.post("/join", response={200: JoinOut, 201: JoinOut, **MEMBER_ERRORS})
def join(request: HttpRequest, body: JoinIn) -> Status[JoinOut]:
    community = selectors.community_by_invite_code(body.invite_code)
    _, created = actions.do_join(community, request.user, inviter_id=body.from_user_id)
    community = selectors.active_community(community.pk)
    return Status(201 if created else 200, JoinOut(community=CommunityOut.from_model(community), joined=created))


@router.get("/mine", response={200: Page[CommunityOut], **error_responses(401, 422)})
def mine(request: HttpRequest, query: Query[PageQuery]) -> dict:
    page = paginate(selectors.my_communities(request.user), query.page, query.page_size)
    page["items"] = [CommunityOut.from_model(c) for c in page["items"]]
    return page


@router.get("/{int:community_id}/posts", response={200: Page[PostOut], **MEMBER_ERRORS})
def feed(request: HttpRequest, community_id: int, query: Query[PageQuery]) -> dict:
    community = selectors.access_member_community(request.user, community_id)
    page = paginate(selectors.community_feed(community), query.page, query.page_size)
    page["items"] = [PostOut.from_model(p) for p in page["items"]]
    return page


@router.get("/{int:community_id}/posts/{int:post_id}", response={200: PostOut, **MEMBER_ERRORS})
def post(request: HttpRequest, community_id: int, post_id: int) -> PostOut:
    return PostOut.from_model(selectors.access_member_post(request.user, community_id, post_id))


# --- operator console ----------------------------------------------------------------


@console.get("/communities", response={200: Page[ConsoleCommunityOut], **CONSOLE_ERRORS})
def console_communities(request: HttpRequest, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    page = paginate(selectors.shop_communities(shop).select_related("shop"), query.page, query.page_size)
    page["items"] = [ConsoleCommunityOut.from_model(c) for c in page["items"]]
    return page


@console.post("/communities", response={201: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_create_community(request: HttpRequest, body: CommunityIn) -> Status[ConsoleCommunityOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = actions.do_create_community(
        shop, body.name, body.description, actor=request.user, ip=client_ip(request)
    )
    return Status(201, ConsoleCommunityOut.from_model(community))


@console.get("/communities/{community_id}", response={200: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_community(request: HttpRequest, community_id: int) -> ConsoleCommunityOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ConsoleCommunityOut.from_model(selectors.access_community(shop, community_id))


@console.put("/communities/{community_id}", response={200: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_update_community(request: HttpRequest, community_id: int, body: CommunityIn) -> ConsoleCommunityOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    actions.do_update_community(
        shop, community, body.name, body.description, body.is_active, actor=request.user, ip=client_ip(request)
    )
    return ConsoleCommunityOut.from_model(community)


@console.post("/communities/{community_id}/rotate-invite", response={200: ConsoleCommunityOut, **CONSOLE_ERRORS})
def console_rotate_invite(request: HttpRequest, community_id: int) -> ConsoleCommunityOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    actions.do_rotate_invite_code(shop, community, actor=request.user, ip=client_ip(request))
    return ConsoleCommunityOut.from_model(community)


@console.get("/communities/{community_id}/members", response={200: Page[MemberOut], **CONSOLE_ERRORS})
def console_members(request: HttpRequest, community_id: int, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_members(community), query.page, query.page_size)
    page["items"] = [MemberOut.from_model(m) for m in page["items"]]
    return page


@console.get("/communities/{community_id}/posts", response={200: Page[ConsolePostOut], **CONSOLE_ERRORS})
def console_posts(request: HttpRequest, community_id: int, query: Query[PageQuery]) -> dict:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    page = paginate(selectors.community_posts(community), query.page, query.page_size)
    page["items"] = [ConsolePostOut.from_model(p) for p in page["items"]]
    return page


@console.post("/communities/{community_id}/posts", response={201: ConsolePostOut, **CONSOLE_ERRORS})
def console_create_post(request: HttpRequest, community_id: int, body: PostIn) -> Status[ConsolePostOut]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    community = selectors.access_community(shop, community_id)
    created = actions.do_create_post(
        shop,
        community,
        body.body,
        body.product_ids,
        is_pinned=body.is_pinned,
        actor=request.user,
        ip=client_ip(request),
    )
    return Status(201, ConsolePostOut.from_model(selectors.access_post(shop, created.pk)))


@console.get("/posts/{post_id}", response={200: ConsolePostOut, **CONSOLE_ERRORS})
def console_post(request: HttpRequest, post_id: int) -> ConsolePostOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    return ConsolePostOut.from_model(selectors.access_post(shop, post_id))


@console.put("/posts/{post_id}", response={200: ConsolePostOut, **CONSOLE_ERRORS})
def console_update_post(request: HttpRequest, post_id: int, body: PostIn) -> ConsolePostOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    existing = selectors.access_post(shop, post_id)
    actions.do_update_post(
        shop,
        existing,
        body.body,
        body.product_ids,
        is_pinned=body.is_pinned,
        actor=request.user,
        ip=client_ip(request),
    )
    return ConsolePostOut.from_model(selectors.access_post(shop, post_id))


@console.post("/posts/{post_id}/publish", response={200: ConsolePostOut, **CONSOLE_ERRORS})
def console_publish_post(request: HttpRequest, post_id: int, body: PublishIn) -> ConsolePostOut:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    existing = selectors.access_post(shop, post_id)
    actions.do_set_post_published(shop, existing, body.published, actor=request.user, ip=client_ip(request))
    return ConsolePostOut.from_model(selectors.access_post(shop, post_id))


@console.delete("/posts/{post_id}", response={204: None, **CONSOLE_ERRORS})
def console_delete_post(request: HttpRequest, post_id: int) -> Status[None]:
    shop = api_console_shop(request, MANAGE_COMMUNITIES)
    actions.do_delete_post(shop, selectors.access_post(shop, post_id), actor=request.user, ip=client_ip(request))
    return Status(204, None)


router.add_router("/console", console)
