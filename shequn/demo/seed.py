"""Builds the demo shop (see data.py). Each step checks whether its part is there, so running
the seed again changes nothing, and a step added later (orders) fills in on the next run.

Shops, catalog, communities and accounts rows go in with bulk_create (it runs inside
`make run`, so it must be quick); orders go through ``shequn.orders.actions`` so every state
is one the state machine really reaches, with its events; community content (articles,
keyword replies, the board) goes through the content and board actions (seed_content).
"""

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from shequn.accounts.actions import member_username
from shequn.accounts.models import Address, User
from shequn.catalog.actions import ProductInput, SkuInput, do_create_product
from shequn.catalog.models import Category, Collection, CollectionProduct, Product, ProductImage, Sku
from shequn.catalog.pinyin import pinyin_keys
from shequn.communities import actions as community_actions
from shequn.communities.enums import SubGroupKind
from shequn.communities.models import Channel, Community, CommunityMembership, Post, PostProduct
from shequn.courses.models import Course
from shequn.events.models import Event
from shequn.groupbuy.models import Campaign
from shequn.leaders.models import Leader
from shequn.merchants.actions import ApplicationInput, do_apply
from shequn.merchants.enums import BusinessSubject
from shequn.merchants.models import MerchantApplication
from shequn.shops.actions import default_cutoff
from shequn.shops.enums import ShopCategory
from shequn.shops.models import DeliverySlot, PickupPoint, Shop, StaffMember
from shequn.teambuy.models import TeamOffer

from . import data
from .seed_content import seed_content
from .seed_courses import seed_courses
from .seed_distribution import is_seeded as distribution_seeded
from .seed_distribution import seed_distribution
from .seed_events import seed_events
from .seed_flashsales import seed_flashsale
from .seed_fulfilment import seed_fulfilment
from .seed_groupbuy import seed_groupbuy
from .seed_leaders import seed_leaders
from .seed_loyalty import seed_loyalty
from .seed_membership import LEADERS_INVITE_CODE, seed_membership
from .seed_promotions import seed_coupon, seed_lottery, seed_red_packet, seed_settlement
from .seed_storedvalue import seed_stored_value
from .seed_teambuy import seed_teambuy


@dataclass
class SeedReport:
    steps: list[str] = field(default_factory=list)
    echo: Callable[[str], Any] | None = None  # progress lines while a long step runs

    def add(self, message: str) -> None:
        self.steps.append(message)

    def progress(self, message: str) -> None:
        if self.echo is not None:
            self.echo(message)


def seed(
    *,
    rng_seed: int = 20261122,
    with_images: bool = True,
    with_orders: bool = True,
    with_offers: bool = True,
    order_count: int = data.ORDER_COUNT,
    echo: Callable[[str], Any] | None = None,
) -> SeedReport:
    report = SeedReport(echo=echo)
    rng = random.Random(rng_seed)
    with transaction.atomic():
        shop = _shop(report)
        staff = _staff(shop, report)
        _pickup_points(shop, report)
        _delivery_slots(shop, report)
        products = _catalog(shop, rng, report, with_images=with_images)
        products.update(_weighed_fish(shop, report))
        members = _members(rng, report)
        communities = _communities(shop, members, rng, report)
        _posts(shop, communities, staff, products, report)
        seed_content(shop, communities, staff, products, report)
        _channels_and_sub_groups(communities, staff, rng, report)
        _merchant_application(members, report)
    if with_orders:
        _orders(shop, staff, members, rng, report, order_count)
    # Offers (a paid community, courses, events) come after the past orders: those pick among
    # the on-shelf SKUs and go the goods way, which a fee, a course seat or a ticket does not.
    if with_offers:
        with transaction.atomic():
            _paid_membership(shop, staff, report)
            _courses(shop, communities[0], staff, report)
            _events(shop, communities[0], staff, report)
            _leaders(shop, staff, report)
        # These pay through the sandbox (its notifications are delivered when each step commits).
        _group_buying(shop, staff, report)
        _distribution(shop, staff, report)
        _flash_sale(shop, staff, report)
        _promotions(shop, staff, rng, report)
        _packages(shop, staff, report)
        with transaction.atomic():
            program = seed_loyalty(shop, staff["operator"])
        if program is not None:
            report.add("member card: rules, 3 levels, cards for the first community")
    return report


def demo_shop() -> Shop | None:
    return Shop.objects.filter(slug=data.DEMO_SHOP_SLUG).first()


def _shop(report: SeedReport) -> Shop:
    shop, created = Shop.objects.get_or_create(
        slug=data.DEMO_SHOP_SLUG,
        defaults={
            "name": data.DEMO_SHOP_NAME,
            "description": "千岛湖畔的三文鱼与淡水鱼养殖场：每天现捕，冷链直送杭州社区。",
            "service_phone": "0571-86660000",
            "shipping_fee_fen": 1000,
            "free_shipping_threshold_fen": 9900,
        },
    )
    if created:
        report.add(f"shop {shop.name}")
    return shop


def _staff(shop: Shop, report: SeedReport) -> dict[str, User]:
    # One hash for the shared demo password: hashing it once per user would cost seconds.
    password_hash = make_password(data.DEMO_PASSWORD)
    users: dict[str, User] = {}
    for username, role, nickname in [*data.STAFF, (data.PLATFORM_USERNAME, "", "平台管理员")]:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"nickname": nickname, "password": password_hash, "is_staff": not role, "is_superuser": not role},
        )
        users[username] = user
        if role:
            StaffMember.objects.get_or_create(shop=shop, user=user, defaults={"role": role})
        if created:
            report.add(f"user {username}" + (f" ({role})" if role else " (platform admin)"))
    return users


def _merchant_application(members: list[User], report: SeedReport) -> None:
    """A member's application to open a shop, waiting at /platform/applications/ for `platform`."""
    applicant = members[4]
    if MerchantApplication.objects.filter(applicant=applicant).exists():
        return
    do_apply(
        applicant,
        ApplicationInput(
            name="湖畔果园", slug="hupan-orchard", category=ShopCategory.FRESH,
            business_subject=BusinessSubject.COMPANY, licence_number="91350100M000100Y43",
        ),
    )  # fmt: skip
    report.add("1 merchant application waiting for the platform")


def _pickup_points(shop: Shop, report: SeedReport) -> None:
    if PickupPoint.objects.filter(shop=shop).exists():
        return
    PickupPoint.objects.bulk_create(
        PickupPoint(shop=shop, name=name, address=address, opening_hours=hours, contact_phone=phone)
        for name, address, hours, phone in data.PICKUP_POINTS
    )
    report.add(f"{len(data.PICKUP_POINTS)} pickup points")


def _delivery_slots(shop: Shop, report: SeedReport) -> None:
    """Next-day delivery (ADR 0007): the coming days' windows, cut off the day before at 20:00.
    Seeding again adds the days that came into range and leaves existing slots alone."""
    today = timezone.localdate()
    added = 0
    for days_ahead in range(1, data.DELIVERY_SLOT_DAYS + 1):
        day = today + timedelta(days=days_ahead)
        for starts_at, ends_at, capacity in data.DELIVERY_SLOTS:
            _, created = DeliverySlot.objects.get_or_create(
                shop=shop,
                date=day,
                starts_at=starts_at,
                ends_at=ends_at,
                defaults={"capacity": capacity, "cutoff_at": default_cutoff(day)},
            )
            added += created
    if added:
        report.add(f"{added} delivery slots")


def _catalog(shop: Shop, rng: random.Random, report: SeedReport, *, with_images: bool) -> dict[str, Product]:
    if Product.objects.filter(shop=shop).exists():
        return {product.title: product for product in Product.objects.filter(shop=shop)}
    categories = Category.objects.bulk_create(
        Category(shop=shop, name=name, position=position) for position, name in enumerate(data.CATEGORIES)
    )
    collections = {
        slug: collection
        for (name, slug), collection in zip(
            data.COLLECTIONS,
            Collection.objects.bulk_create(
                Collection(shop=shop, name=name, slug=slug, position=position)
                for position, (name, slug) in enumerate(data.COLLECTIONS)
            ),
            strict=True,
        )
    }
    products: list[Product] = []
    for position, spec in enumerate(data.PRODUCTS):
        full, initials = pinyin_keys(spec["title"])
        products.append(
            Product(
                shop=shop,
                title=spec["title"],
                title_pinyin=full,
                title_initials=initials,
                subtitle=spec["subtitle"],
                description=f"{spec['subtitle']}。千岛湖鲜鱼农场自产自销，冷链配送，签收时请当面检查。",
                category=categories[spec["category"]],
                on_shelf=True,
                returnable=spec["returnable"],
                per_person_cap=spec["cap"],
                position=position,
            )
        )
    products = Product.objects.bulk_create(products)
    skus: list[Sku] = []
    memberships: list[CollectionProduct] = []
    for product, spec in zip(products, data.PRODUCTS, strict=True):
        rows = spec.get("skus") or [
            (label, grams, round(spec["base"] * factor / 10) * 10) for label, grams, factor in data.WEIGHT_LADDER
        ]
        for sku_position, (label, grams, price) in enumerate(rows):
            member_off = spec["member_off"]
            skus.append(
                Sku(
                    shop=shop,
                    product=product,
                    spec=label,
                    price_fen=price,
                    list_price_fen=round(price * 1.25 / 100) * 100,
                    member_price_fen=price - member_off if member_off else None,
                    stock=rng.randint(300, 900),
                    weight_grams=grams,
                    position=sku_position,
                )
            )
        for slug in spec["collections"]:
            memberships.append(
                CollectionProduct(collection=collections[slug], product=product, position=product.position)
            )
    Sku.objects.bulk_create(skus)
    CollectionProduct.objects.bulk_create(memberships)
    if with_images:
        for product, spec in zip(products, data.PRODUCTS, strict=True):
            _product_image(product, spec["category"])
    report.add(
        f"{len(categories)} categories, {len(collections)} collections, {len(products)} products, {len(skus)} SKUs"
    )
    return {product.title: product for product in products}


def _weighed_fish(shop: Shop, report: SeedReport) -> dict[str, Product]:
    """S1's "35 ¥/斤": a whole sea bass sold by weight, about 1.2 斤 a fish (¥42.00 estimated);
    staff weigh it at packing and a lighter fish refunds the difference. Made once."""
    spec = data.WEIGHED_FISH
    title = str(spec["title"])
    existing = Product.objects.filter(shop=shop, title=title).first()
    if existing is not None:
        return {existing.title: existing}
    category = Category.objects.filter(shop=shop, name=str(spec["category"])).first()
    product = do_create_product(
        shop,
        ProductInput(
            title=title,
            subtitle=str(spec["subtitle"]),
            description=str(spec["description"]),
            category_id=category.pk if category else None,
            returnable=False,
        ),
        [
            SkuInput(
                spec=str(spec["spec"]),
                price_fen=0,  # computed: the price per 斤 × the estimated weight
                stock=int(spec["stock"]),
                weight_grams=int(spec["estimated_grams"]),
                pricing="jin",
                weight_price_fen=int(spec["price_per_jin_fen"]),
                piece_name="条",
            )
        ],
        on_shelf=True,
        actor=None,
    )
    report.add(f"weighed product {product.title} (¥35.00/斤)")
    return {product.title: product}


_CATEGORY_COLOURS = [(250, 128, 114), (70, 130, 180), (222, 120, 60), (205, 92, 92), (107, 142, 35), (178, 34, 34)]


def _product_image(product: Product, category_index: int) -> None:
    """A plain generated picture (no photo can be fetched here): a coloured tile with a fish shape."""
    base = _CATEGORY_COLOURS[category_index % len(_CATEGORY_COLOURS)]
    shade = (product.pk * 37) % 60
    colour = tuple(min(255, channel + shade) for channel in base)
    image = Image.new("RGB", (600, 600), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((120, 210, 420, 390), fill=(255, 255, 255))
    draw.polygon([(420, 300), (510, 220), (510, 380)], fill=(255, 255, 255))
    draw.ellipse((170, 270, 200, 300), fill=colour)
    files: dict[str, Any] = {}
    for name, size in (("image", 600), ("thumbnail", 240)):
        buffer = io.BytesIO()
        image.resize((size, size)).save(buffer, format="JPEG", quality=80)
        files[name] = ContentFile(buffer.getvalue(), name=f"demo-{product.pk}-{size}.jpg")
    ProductImage.objects.create(product=product, image=files["image"], thumbnail=files["thumbnail"])


def _members(rng: random.Random, report: SeedReport) -> list[User]:
    phones = [str(data.FIRST_MEMBER_PHONE + index) for index in range(data.MEMBER_COUNT)]
    existing = set(User.objects.filter(phone__in=phones).values_list("phone", flat=True))
    new_users = []
    for index, phone in enumerate(phones):
        if phone in existing:
            continue
        surname = data.SURNAMES[index % len(data.SURNAMES)]
        given = data.GIVEN_NAMES[(index * 7) % len(data.GIVEN_NAMES)]
        new_users.append(
            User(
                username=member_username(phone), phone=phone, nickname=f"{surname}{given}", password=make_password(None)
            )
        )
    if new_users:
        created = User.objects.bulk_create(new_users)
        addresses = []
        for user in created:
            if rng.random() < 0.7:
                district_code, district = rng.choice(data.HANGZHOU_DISTRICTS)
                addresses.append(
                    Address(
                        user=user,
                        recipient=user.nickname,
                        phone=user.phone or "",
                        province_code="330000",
                        province="浙江省",
                        city_code="330100",
                        city="杭州市",
                        district_code=district_code,
                        district=district,
                        detail=_street_address(rng),
                        is_default=True,
                    )
                )
        Address.objects.bulk_create(addresses)
        report.add(f"{len(created)} members ({len(addresses)} with an address)")
    return list(User.objects.filter(phone__in=phones).order_by("phone"))


def _street_address(rng: random.Random) -> str:
    return f"{rng.choice(data.STREETS)} {rng.randint(1, 999)} 号 {rng.randint(1, 30)}0{rng.randint(1, 4)} 室"


def _communities(shop: Shop, members: list[User], rng: random.Random, report: SeedReport) -> list[Community]:
    if Community.objects.filter(shop=shop).exists():
        return list(Community.objects.filter(shop=shop).order_by("id"))
    communities = Community.objects.bulk_create(
        Community(shop=shop, name=name, invite_code=code, description=description)
        for name, code, description in data.COMMUNITIES
    )
    memberships = []
    for index, member in enumerate(members):
        home = communities[index % len(communities)]
        memberships.append(CommunityMembership(community=home, user=member))
        if rng.random() < 0.3:
            other = communities[(index + 1) % len(communities)]
            memberships.append(CommunityMembership(community=other, user=member))
    CommunityMembership.objects.bulk_create(memberships)
    report.add(f"{len(communities)} communities, {len(memberships)} memberships")
    return communities


def _channels_and_sub_groups(
    communities: list[Community], staff: dict[str, User], rng: random.Random, report: SeedReport
) -> None:
    """Two channels (渠道码) and two neighbourhood sub-groups per community, with members in them.

    Channels are created and sub-groups filled through the communities actions (seats are
    counted by their single-statement updates); part of the existing joins are attributed to
    a channel, as if they had come through its poster.
    """
    if Channel.objects.filter(community__in=communities).exists():
        return
    operator = staff["operator"]
    channel_count = sub_group_members = attributed = 0
    for community in communities:
        channels = [
            community_actions.do_create_channel(community, name, kind, actor=operator) for name, kind in data.CHANNELS
        ]
        sub_groups = [
            community_actions.do_create_sub_group(community, name, SubGroupKind.NEIGHBOURHOOD, actor=operator)
            for name in data.SUB_GROUPS
        ]
        channel_count += len(channels)
        for membership in CommunityMembership.objects.filter(community=community).order_by("id"):
            if rng.random() < 0.5:
                community_actions.do_join_sub_group(membership.user, rng.choice(sub_groups))
                sub_group_members += 1
            if rng.random() < 0.4:
                CommunityMembership.objects.filter(pk=membership.pk).update(channel=rng.choice(channels))
                attributed += 1
    report.add(
        f"{channel_count} channels ({attributed} joins attributed), "
        f"{len(communities) * len(data.SUB_GROUPS)} sub-groups with {sub_group_members} members"
    )


def _posts(
    shop: Shop, communities: list[Community], staff: dict[str, User], products: dict[str, Product], report: SeedReport
) -> None:
    if Post.objects.filter(shop=shop).exists():
        return
    author = staff["operator"]
    cards: list[PostProduct] = []
    for community_index, body, titles, pinned in data.POSTS:
        post = Post.objects.create(
            shop=shop, community=communities[community_index], author=author, body=body, is_pinned=pinned
        )
        cards.extend(
            PostProduct(post=post, product=products[title], position=position) for position, title in enumerate(titles)
        )
    PostProduct.objects.bulk_create(cards)
    report.add(f"{len(data.POSTS)} posts with {len(cards)} product cards")


def _paid_membership(shop: Shop, staff: dict[str, User], report: SeedReport) -> None:
    """One community turned paid and an invitation-only one added (see seed_membership)."""
    rows = Community.objects.filter(shop=shop)
    if rows.filter(fee_fen__gt=0).exists() and rows.filter(invite_code=LEADERS_INVITE_CODE).exists():
        return
    paid, leaders = seed_membership(shop, staff["operator"])
    report.add(f"paid community {paid.name} (fee {paid.fee_fen / 100:.0f} yuan), invitation-only {leaders.name}")


def _leaders(shop: Shop, staff: dict[str, User], report: SeedReport) -> None:
    """Two approved group-buy leaders with pickup points and one pending application (see seed_leaders)."""
    if Leader.objects.filter(shop=shop).exists():
        return
    leaders = seed_leaders(shop, staff["operator"])
    report.add(f"{len(leaders)} group-buy leaders ({sum(1 for x in leaders if x.pickup_point_id)} with pickup points)")


def _group_buying(shop: Shop, staff: dict[str, User], report: SeedReport) -> None:
    """Campaigns at the leaders' points (one succeeded and partly picked up, one open) and a team
    forming (see seed_groupbuy, seed_fulfilment, seed_teambuy)."""
    from .seed_orders import inline_payments

    if Campaign.objects.filter(shop=shop).exists() and TeamOffer.objects.filter(shop=shop).exists():
        return
    with inline_payments():
        campaigns = seed_groupbuy(shop, staff["operator"], list(Leader.objects.filter(shop=shop).order_by("id")))
        picked_up = seed_fulfilment(shop, staff["operator"])
        offer = seed_teambuy(shop, staff["operator"])
    if campaigns is not None:
        succeeded, still_open = campaigns
        report.add(f"campaigns: {succeeded.title} (succeeded, {picked_up} picked up), {still_open.title} (open)")
    if offer is not None:
        report.add(f"team buy: {offer.title}, one team forming")


def _flash_sale(shop: Shop, staff: dict[str, User], report: SeedReport) -> None:
    """A scheduled flash sale tomorrow at 10:00, open for reservations (see seed_flashsales)."""
    with transaction.atomic():
        sale = seed_flashsale(shop, staff["operator"])
    if sale is not None:
        report.add(f"flash sale: {sale.title} (scheduled, reservations open)")


def _promotions(shop: Shop, staff: dict[str, User], rng: random.Random, report: SeedReport) -> None:
    """A published lottery with entries, a red packet with grabs, a claimed coupon on a post, and a
    leader's settlement for yesterday (see seed_promotions)."""
    from .seed_orders import inline_payments

    operator = staff["operator"]
    with transaction.atomic():
        lottery = seed_lottery(shop, operator)
    if lottery is not None:
        report.add(f"lottery: {lottery.title} (published, {lottery.entry_count} entries)")
    packet = seed_red_packet(shop, operator, rng)  # outside a transaction: the gate is configured at commit
    if packet is not None:
        report.add(f"red packet: {packet.title} ({packet.grabbed_count} of {packet.count} grabbed)")
    with transaction.atomic():
        coupon = seed_coupon(shop, operator)
    if coupon is not None:
        report.add(f"coupon: {coupon.name} ({coupon.total_quantity - coupon.remaining} claimed)")
    with inline_payments(), transaction.atomic():
        settlement = seed_settlement(shop, staff["owner"])
    if settlement is not None:
        report.add(f"leader settlement: {settlement.leader} for {settlement.period_start} (draft)")
    with inline_payments():
        plans = seed_stored_value(shop, staff["owner"])
    if plans:
        report.add(f"stored value: {len(plans)} top-up plans, members topped up")


def _packages(shop: Shop, staff: dict[str, User], report: SeedReport) -> None:
    """A crayfish package bought, partly redeemed, and a second one sent as a gift (see seed_packages)."""
    from .seed_orders import inline_payments
    from .seed_packages import seed_packages

    with inline_payments():  # no transaction around it: each payment is delivered when its step commits
        plan = seed_packages(shop, staff["operator"])
    if plan is not None:
        report.add(f"packages: {plan.title} (one bought and redeemed 3 portions, one sent as a gift)")


def _distribution(shop: Shop, staff: dict[str, User], report: SeedReport) -> None:
    """Promoters (13900000001 approved with a team, one applicant), rules, bound customers' paid
    orders (frozen and settled commission) and a withdrawal waiting for finance (see seed_distribution)."""
    from .seed_orders import inline_payments

    if distribution_seeded(shop):
        return
    with inline_payments():
        seeded = seed_distribution(shop, staff["operator"])
    if seeded is not None:
        names = "、".join(p.user.phone or p.user.username for p in seeded.promoters)
        report.add(
            f"distribution: promoters {names} (approved), 1 applicant, {len(seeded.orders)} referred orders, "
            f"{'1 withdrawal waiting for finance' if seeded.withdrawal else 'no withdrawal'}"
        )


def _courses(shop: Shop, community: Community, staff: dict[str, User], report: SeedReport) -> None:
    """A free members-only course and a paid 训练营 with its first cohort (see seed_courses)."""
    if Course.objects.filter(community=community).exists():
        return
    courses = seed_courses(shop, community, staff["operator"])
    report.add(f"{len(courses)} courses in {community.name} (one free, one paid with a cohort)")


def _events(shop: Shop, community: Community, staff: dict[str, User], report: SeedReport) -> None:
    """A free event with RSVPs and a waitlist, and a paid workshop with tickets (see seed_events)."""
    if Event.objects.filter(community=community).exists():
        return
    events = seed_events(shop, community, staff["operator"])
    report.add(f"{len(events)} events in {community.name} (one free with a waitlist, one with paid tickets)")


def _orders(
    shop: Shop, staff: dict[str, User], members: list[User], rng: random.Random, report: SeedReport, order_count: int
) -> None:
    """Past orders across every state, made by shequn.orders.actions (see seed_orders)."""
    from .seed_orders import seed_orders

    seed_orders(shop, staff, members, rng, report, order_count)
