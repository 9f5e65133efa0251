"""A crawl of every member, console and platform page of the demo in both languages (issue 15, item 4).

The page list comes from the URL patterns, so a new page is crawled without touching this file;
ids in a pattern are filled from the seeded demo (the member's own order, the demo shop's
community …). In English no Chinese may remain outside user content; in Chinese no English UI
word may remain outside user content and a short list of technical words. User content is every
CharField/TextField value in the database (shop, product and community names, posts, notes …)
and the official region names: it is shown as typed, in whatever language its author wrote.

Each case's id names the owning app, so one app's pages run alone: ``-k orders``. A route that
answers GET with 405 (a POST-only action) or with something other than HTML (JSON, CSV, images,
a redirect to WeChat) is not a page and has no text to check.
"""

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from shequn.accounts.regions import region_tree
from shequn.core.phone import mask_name
from shequn.demo import data
from shequn.demo.seed import seed

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*[A-Za-z0-9]")
# English a Chinese page may show: product and protocol names, file formats, units, and the
# examples that teach an input (pinyin search, a collection slug). Each is the same in both
# languages, as on any Chinese site.
ALLOWED_IN_CHINESE = {
    "API", "APIv3", "AppID", "ID", "QR", "SKU", "CSV", "JSON", "zip", "PDF", "OTP", "JPG", "PNG",
    "WebP", "GIF", "MB", "PEM", "openid", "unionid", "kg", "IP", "json", "csv",
    "sanwenyu", "swy", "new-arrivals", "new",  # placeholders: a pinyin search, a slug
    "xianguo",  # the shop slug example of the open-a-shop form (a slug is Latin letters by rule)
    "WAV", "Excel", "HTML",  # file formats (an audio file, an export's spreadsheet, an article body)
    "GMV",  # the trade's abbreviation, shown beside its Chinese name (成交额（GMV）)
    "N-1",  # a formula's variable (第 1+(N-1)×间隔 天)
    "SHA-256", "HMAC-SHA256", "hmac-sha256-rank", "v1",  # a lottery's published draw algorithm and its id
}  # fmt: skip
# Codes, not words: PEM armour, file names and SNAKE_CASE prefixes an operator pastes as shown,
# document numbers (WD0000000001), machine timestamps (2026-12-08T06:00:00+08:00), and HTML tags
# written as text (<h2>, </li>: an editor's hint naming the tags it accepts, an article's HTML in
# its editor). Links are codes too (absolute, or a site path such as /c/join/demo-binjiang/?ch=poster).
TECHNICAL = re.compile(
    r"-----(BEGIN|END) [A-Z ]+-----|\b\w+\.(pem|csv|json|zip|txt)\b|\b[A-Za-z0-9]*_[A-Za-z0-9_]*"
    r"|\b[A-Z]{1,4}\d{4,}\b|\d{4}-\d\d-\d\dT[\d:.+-]+"
    r"|</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>"
)
LINK = re.compile(r"https?://\S+|(?<![\w/])/[A-Za-z0-9][\w./-]*/(?:\?[\w=&%.-]*)?")
RICH_TEXT_BREAKS = re.compile(r"<[^>]+>|[*_#>`\[\]]+|\(\S+\)|\n")
# Attributes a person reads (or hears, with a screen reader).
READ_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
SKIPPED_ELEMENTS = {"script", "style", "template"}


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_ELEMENTS:
            self._skipping.append(tag)
        shown_value = tag == "input" and dict(attrs).get("type") in {"submit", "button"}
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (name == "value" and shown_value)):
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, text: str) -> None:
        if not self._skipping and text.strip():
            self.texts.append(text.strip())


@dataclass(frozen=True)
class Route:
    app: str
    name: str  # namespace:name
    pattern: str
    keywords: tuple[str, ...]

    @property
    def role(self) -> str:
        if self.pattern.startswith("platform/"):
            return "platform"
        if self.pattern.startswith("console/"):
            return "staff"
        return "member"


def _routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                text = prefix + str(pattern.pattern)
                if text.startswith(("admin/", "api/")):
                    continue
                keywords = tuple(re.findall(r"<(?:\w+:)?(\w+)>", text))
                app = (namespace or pattern.callback.__module__.split(".")[1]).split(":")[0]
                found.append(Route(app, f"{namespace}:{pattern.name}" if namespace else pattern.name, text, keywords))

    walk(get_resolver().url_patterns, "", None)
    return found


ROUTES = _routes()


@dataclass
class Demo:
    member: Any
    clients: dict[str, Client]
    shop: Any


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[Demo]:
    """The demo, seeded once for every page of this module (the database is emptied after)."""
    from shequn.accounts.models import User
    from shequn.communities.models import Community
    from shequn.demo.seed import demo_shop
    from shequn.orders.models import Order

    with django_db_blocker.unblock():
        seed(with_images=False, order_count=60)
        shop = demo_shop()
        # The member of the first community (where the demo's articles, courses and events live)
        # with the most orders: their pages show the most.
        first_community = Community.objects.filter(shop=shop).order_by("pk")[0]
        member_id = (
            Order.objects.filter(shop=shop, user__community_memberships__community=first_community)
            .values("user_id")
            .annotate(n=models.Count("pk"))
            .order_by("-n")[0]["user_id"]
        )
        clients = {}
        for role, user in [
            ("member", User.objects.get(pk=member_id)),
            ("staff", User.objects.get(username="owner")),
            ("platform", User.objects.get(username=data.PLATFORM_USERNAME)),
        ]:
            client = Client()
            client.force_login(user)
            clients[role] = client
        yield Demo(User.objects.get(pk=member_id), clients, shop)
        call_command("flush", interactive=False, verbosity=0)


@cache
def _user_content() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """Every text value stored in the database, as two patterns: those with Chinese, those with
    Latin letters (longest first, so a name is removed whole before a shorter name inside it)."""
    values = set(_stored_values())

    def pattern(keep: re.Pattern[str], around: str = "{}") -> re.Pattern[str] | None:
        kept = sorted((value for value in values if keep.search(value)), key=len, reverse=True)
        return re.compile(around.format("|".join(map(re.escape, kept)))) if kept else None

    # Latin content is removed as whole words only (a stored "on" must not eat into "json").
    return pattern(CJK), pattern(ENGLISH_WORD, r"(?<![A-Za-z0-9])(?:{})(?![A-Za-z0-9])")


@cache
def _stored_values() -> frozenset[str]:
    """The stored texts a page may show: each whole and in the pieces rich text is shown in."""
    values: set[str] = set()
    for model in apps.get_models():
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField) and not field.choices
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                for text in _texts_in(value):
                    # Rich text (articles in Markdown or HTML) is shown in pieces: split it where a
                    # page's markup would, so each piece counts as the author's words.
                    values.update(part.strip() for part in RICH_TEXT_BREAKS.split(text) if len(part.strip()) > 1)
    # Names are shown masked to others (王**): the masked form is the same user content.
    values.update({mask_name(value) for value in values if CJK.search(value)})

    # The official Chinese names of provinces, cities and districts (the address picker's data).
    values.update(region.name for region in region_tree().by_code.values())
    return frozenset(values)


@cache
def _stored_texts_sorted() -> tuple[str, ...]:
    """Every stored text whole (a post's body with its line breaks) and in pieces, sorted, so the
    texts starting with a given prefix are found by bisection."""
    whole = set()
    for model in apps.get_models():
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField) and not field.choices
        ]
        if fields:
            for row in model._default_manager.values_list(*fields):
                whole.update(value.strip() for value in row if value and len(value.strip()) >= SHORTEST_TRUNCATED)
    return tuple(sorted(whole | _stored_values()))


# A page shows a long stored text cut short (``truncatechars``: its first characters then "…"). The
# cut piece is the author's words as much as the whole; it is recognised when a stored text starts
# with it. Pieces shorter than this are not taken for content, so a short UI word before "…"
# (加载中…) is still checked.
SHORTEST_TRUNCATED = 6


def _starts_a_stored_text(prefix: str) -> bool:
    stored = _stored_texts_sorted()
    index = bisect_left(stored, prefix)
    return index < len(stored) and stored[index].startswith(prefix)


def _without_truncated_content(text: str) -> str:
    """``text`` without a stored text's cut-short rendering at its end: the piece before a closing
    "…", from the start of the text, of one of its lines (a post's first lines, whole), or after the
    " · " that separates fields in a list row or a choice's label (community · post)."""
    if not text.endswith("…"):
        return text
    shown = text[:-1]
    for start in [0, *(match.end() for match in re.finditer("\n| · ", shown))]:
        prefix = shown[start:].strip()
        if len(prefix) >= SHORTEST_TRUNCATED and _starts_a_stored_text(prefix):
            return shown[:start]
    return text


def _texts_in(value: Any) -> Iterator[str]:
    """The texts of a stored value: a string, or stored JSON (audit details) as a page prints it:
    whole, and each key and value."""
    if isinstance(value, dict | list):
        yield str(value)
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts_in(item)
    elif value is not None:
        yield str(value)


def _value_for(keyword: str, route: Route, demo: Demo) -> Any:
    """An id (or code) from the demo for one keyword of a pattern, as the page's user may open it."""
    from shequn.communities.models import Community
    from shequn.events.models import Registration
    from shequn.flashsales.models import FlashClaim
    from shequn.fulfilment.models import PickupTicket
    from shequn.gifts.models import Gift
    from shequn.orders.models import Order
    from shequn.payments.models import SandboxTransaction

    def first_value(rows: Any, field: str) -> str:
        row = rows.order_by("pk").values_list(field, flat=True).first()
        return "unknown" if row is None else row

    member = demo.member
    mine = route.role == "member"
    special: dict[str, Any] = {
        "shop_slug": lambda: demo.shop.slug,
        "slug": lambda: demo.shop.slug,
        "shop_id": lambda: demo.shop.pk,
        "number": lambda: (
            Order.objects.filter(**({"user": member} if mine else {"shop": demo.shop})).latest("pk").number
        ),
        "code": lambda: "330000",
        "invite_code": lambda: "demo-binjiang",
        "user_id": lambda: member.pk,
        "community_id": lambda: Community.objects.filter(shop=demo.shop).order_by("pk")[0].pk,
        "rest": lambda: "v3/pay/transactions/jsapi",
        # Pages opened from a QR code or a queue ticket: the token of the demo's first one.
        "token": lambda: (
            first_value(Registration.objects, "checkin_token")
            if route.app == "events"
            else first_value(Gift.objects, "token")
            if route.app == "gifts"
            else first_value(PickupTicket.objects, "token")
        ),
        "ticket": lambda: first_value(FlashClaim.objects.filter(user=member), "claim_id"),
        "claim_id": lambda: first_value(FlashClaim.objects.filter(user=member), "claim_id"),
        # Words of POST-only actions (approve, remove, suspend …): a GET answers 405 whatever they are.
        "action": lambda: "remove",
        "decision": lambda: "approve",
        "move": lambda: "suspend",
        "prepay_id": lambda: SandboxTransaction.objects.latest("pk").prepay_id,
    }
    if keyword in special:
        return special[keyword]()
    if not keyword.endswith("_id"):
        raise LookupError(keyword)
    model = _model_named(keyword.removesuffix("_id"), route.app)
    rows = model._default_manager.order_by("pk")
    field_names = {field.name for field in model._meta.fields}
    if mine:
        for owner in ("user", "member", "holder", "owner"):
            if owner in field_names and rows.filter(**{owner: member}).exists():
                rows = rows.filter(**{owner: member})
                break
    if "shop" in field_names:
        rows = rows.filter(shop=demo.shop)
    first = rows.first()
    # None in the demo: an id that matches nothing. A POST-only route still answers 405 (checked
    # before the view runs); a page fails with 404 below, asking for demo data.
    return MISSING if first is None else first.pk


MISSING = 2_000_000_000
# Keyword → model where the keyword does not name its model.
MODEL_OF = {
    "refund": "orders.RefundRequest",
    "line": "orders.OrderLine",
    "staff": "shops.StaffMember",
    "slot": "shops.DeliverySlot",
    "pickup_point": "shops.PickupPoint",
    "image": "catalog.ProductImage",
    "sign_up": "groupbuy.SignUp",
    "application": "merchants.MerchantApplication",
    "request": "privacy.DataRequest",
    "offer": "teambuy.TeamOffer",
    "level": "distribution.PromoterLevel",
    "window": "communities.RecruitmentWindow",
    "team": "teambuy.Team",
    "sale": "flashsales.FlashSale",
    "rule": "distribution.CommissionRule",
    "key": "payments.PlatformKey",
    "item": "orders.CartItem",
    "packet": "redpackets.RedPacket",
    "template": "coupons.CouponTemplate",
    "plan": "packages.PackagePlan",
    "package": "packages.MemberPackage",
}
# The same keyword naming another model in one app's routes.
MODEL_IN_APP = {("storedvalue", "plan"): "storedvalue.TopUpPlan"}


def _model_named(name: str, app: str) -> type[models.Model]:
    if (app, name) in MODEL_IN_APP:
        return apps.get_model(MODEL_IN_APP[app, name])
    if name in MODEL_OF:
        return apps.get_model(MODEL_OF[name])
    wanted = name.replace("_", "")
    matches = [model for model in apps.get_models() if model.__name__.lower() == wanted]
    if len(matches) != 1:
        raise LookupError(f"no single model named {name}: {matches}")
    return matches[0]


def _page(route: Route, demo: Demo) -> tuple[str, str | None]:
    """The route's page HTML (following local redirects), or None when it is not a page."""
    kwargs = {keyword: _value_for(keyword, route, demo) for keyword in route.keywords}
    url = reverse(route.name, kwargs=kwargs)
    client = demo.clients[route.role]
    for _hop in range(5):
        response = client.get(url)
        if response.status_code in {301, 302, 303}:
            target = urlsplit(response["Location"])
            if target.netloc and target.netloc != "testserver":
                return url, None  # leaves the site (WeChat's sign-in, the gateway)
            url = target.path + (f"?{target.query}" if target.query else "")
            assert "/login/" not in target.path, f"{route.name} sent the {route.role} to sign in: {url}"
            continue
        if response.status_code == 405 or "text/html" not in response.get("Content-Type", ""):
            return url, None
        assert response.status_code != 404 or MISSING not in kwargs.values(), f"{url}: the demo has no data for it"
        assert response.status_code in {200, 403, 404, 409, 422}, f"{url}: {response.status_code}"
        return url, response.content.decode()
    raise AssertionError(f"{route.name}: too many redirects")


def _visible(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def _leftovers(texts: list[str], user_content: re.Pattern[str] | None, word: re.Pattern[str]) -> list[str]:
    language_names = {name for _code, name in settings.LANGUAGES}  # the switch names each language in itself
    found = []
    for text in texts:
        if text in language_names:
            continue
        text = _without_truncated_content(text)
        if word.search(_outside_content(text, user_content)):
            found.append(text)
    return found


def _outside_content(text: str, user_content: re.Pattern[str] | None) -> str:
    """``text`` without codes and user content. Links go first: a link holding a stored value (an
    invite code before ?ch=…) stays one code instead of being cut in two by the value's removal;
    other codes go last, since stored texts hold some (提现 WD0000000001)."""
    rest = LINK.sub(" ", text)
    return TECHNICAL.sub(" ", user_content.sub(" ", rest) if user_content is not None else rest)


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.app}/{route.name.split(':')[-1]}")
def test_english_pages_have_no_chinese_outside_user_content(route: Route, demo: Demo) -> None:
    for client in demo.clients.values():
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url, html = _page(route, demo)
    if html is None:
        return
    chinese_content, _latin = _user_content()
    leftovers = _leftovers(_visible(html), chinese_content, CJK)
    assert not leftovers, f"{url} shows Chinese UI text in English: {leftovers}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.app}/{route.name.split(':')[-1]}")
def test_chinese_pages_have_no_english_ui_words(route: Route, demo: Demo) -> None:
    for client in demo.clients.values():
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    url, html = _page(route, demo)
    if html is None:
        return
    _chinese, latin_content = _user_content()
    words = [
        word
        for text in _leftovers(_visible(html), latin_content, ENGLISH_WORD)
        for word in ENGLISH_WORD.findall(_outside_content(text, latin_content))
        if word not in ALLOWED_IN_CHINESE
    ]
    assert not words, f"{url} shows English UI words in Chinese: {sorted(set(words))}"
