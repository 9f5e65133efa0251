"""seed_demo builds a consistent demo through the real actions, and a second run changes nothing."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from shequn.accounts.models import User
from shequn.board.models import BoardCategory, Comment, Thread, ThreadLike
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Product, Sku
from shequn.communities.enums import JoinPolicy, MemberStatus
from shequn.communities.models import Channel, Community, CommunityMembership, Post, RecruitmentWindow, SubGroup
from shequn.communities.selectors import fee_skus, is_community_member, recruitment
from shequn.content.actions import answer_keyword
from shequn.content.enums import ArticleStatus
from shequn.content.models import Article, ArticleProduct, ContentSettings, KeywordRule, PushJob
from shequn.core.models import AuditLog
from shequn.coupons.models import CouponTemplate, MemberCoupon, PostCoupon
from shequn.courses.enums import CourseAccess, CourseStatus
from shequn.courses.models import Cohort, Course, Enrolment, Lesson
from shequn.demo import data
from shequn.demo.seed import seed
from shequn.events.enums import EventStatus, RegistrationStatus
from shequn.events.models import Event, Registration
from shequn.flashsales.models import FlashItem, FlashSale
from shequn.fulfilment.models import Settlement, SettlementLine
from shequn.gifts.models import Gift
from shequn.groupbuy.models import Campaign, SignUp
from shequn.leaders.models import Leader
from shequn.lotteries.models import Entry, Lottery, Prize
from shequn.notifications.models import Notification
from shequn.orders.enums import OrderStatus, PaymentMethod
from shequn.orders.models import Order, OrderEvent, OrderLine, RefundRequest
from shequn.packages import selectors as package_selectors
from shequn.packages.models import MemberPackage, PackageEntry, PackagePlan
from shequn.payments.models import Payment
from shequn.redpackets.models import RedPacket, RedPacketGrab
from shequn.shops.models import DeliverySlot, PickupPoint, Shop, StaffMember
from shequn.shops.selectors import bookable_delivery_slots
from shequn.storedvalue import selectors as stored_value
from shequn.storedvalue.models import TopUpPlan
from shequn.teambuy.models import TeamMember, TeamOffer
from shequn.wallets.models import Entry as LedgerEntry

LIVE = [s for s in OrderStatus.values if s not in (OrderStatus.CANCELLED, OrderStatus.CLOSED)]


COUNTED = (
    Shop,
    User,
    StaffMember,
    PickupPoint,
    DeliverySlot,
    Product,
    Sku,
    Community,
    CommunityMembership,
    Post,
    Order,
    Article,
    ArticleProduct,
    KeywordRule,
    ContentSettings,
    BoardCategory,
    Thread,
    Comment,
    ThreadLike,
    Notification,
    AuditLog,
    Course,
    Lesson,
    Cohort,
    Enrolment,
    Event,
    Registration,
    RecruitmentWindow,
    Leader,
    Campaign,
    SignUp,
    TeamOffer,
    TeamMember,
    FlashSale,
    FlashItem,
    Lottery,
    Prize,
    Entry,
    RedPacket,
    RedPacketGrab,
    CouponTemplate,
    MemberCoupon,
    PostCoupon,
    Settlement,
    SettlementLine,
    LedgerEntry,
    PackagePlan,
    MemberPackage,
    PackageEntry,
    Gift,
    TopUpPlan,
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.mark.django_db(transaction=True)  # payments complete in on_commit callbacks, as in production
def test_seed_builds_the_demo_shop_and_is_idempotent() -> None:
    # As on a first `make run`: the past orders are made before the offers (fee, courses, events).
    seed(with_images=False, with_orders=False, with_offers=False)
    stock_before_orders = dict(Sku.objects.values_list("pk", "stock"))
    report = seed(with_images=False, order_count=25)

    shop = Shop.objects.get(slug=data.DEMO_SHOP_SLUG)
    goods = Product.objects.filter(shop=shop, kind=ProductKind.GOODS)
    assert goods.count() == len(data.PRODUCTS) + 1  # and the fish sold by weight
    fish = Sku.objects.get(shop=shop, product__title=data.WEIGHED_FISH["title"])
    assert (fish.pricing, fish.weight_price_fen, fish.weight_grams, fish.price_fen) == ("jin", 3500, 600, 4200)
    assert Product.objects.filter(shop=shop, returnable=False).exists()
    assert Product.objects.filter(shop=shop, per_person_cap__isnull=False).exists()
    assert Sku.objects.filter(shop=shop, member_price_fen__isnull=False).exists()
    assert Sku.objects.filter(shop=shop, spec="1斤").exists()
    assert set(StaffMember.objects.filter(shop=shop).values_list("user__username", "role")) == {
        (username, role) for username, role, _ in data.STAFF
    }
    staff_user = User.objects.get(username="operator")
    assert staff_user.check_password(data.DEMO_PASSWORD)
    assert User.objects.filter(phone__startswith="139").count() == data.MEMBER_COUNT
    assert Community.objects.filter(shop=shop).count() == 4  # the three of data.py and the leaders' one
    # The shop's two points, and one for each of the two approved group-buy leaders.
    assert PickupPoint.objects.filter(shop=shop, leader__isnull=True).count() == 2
    assert Leader.objects.filter(shop=shop, status="active", pickup_point__isnull=False).count() == 2
    # Next-day delivery: two windows a day for the coming days, open for orders now.
    slots = DeliverySlot.objects.filter(shop=shop, date__gt=timezone.localdate())
    assert slots.count() == data.DELIVERY_SLOT_DAYS * len(data.DELIVERY_SLOTS)
    # Tomorrow's close the evening before at 20:00; the later days' are open whatever the hour.
    bookable = bookable_delivery_slots(shop, timezone.now())
    assert bookable.count() == slots.filter(cutoff_at__gt=timezone.now()).count()
    assert bookable.count() >= (data.DELIVERY_SLOT_DAYS - 1) * len(data.DELIVERY_SLOTS)
    assert Leader.objects.filter(shop=shop, status="applied").count() == 1
    # Group buying: a succeeded campaign (goods received, some picked up), an open one, a team forming.
    assert set(Campaign.objects.filter(shop=shop).values_list("status", flat=True)) == {"succeeded", "open"}
    assert SignUp.objects.filter(campaign__shop=shop, status="confirmed", sequence__isnull=False).exists()
    assert Order.objects.filter(shop=shop, sign_up__isnull=False, status="picked_up").exists()
    assert TeamMember.objects.filter(team__offer__shop=shop, team__status="forming", status="paid").count() == 1
    assert TeamOffer.objects.filter(shop=shop).count() == 1
    flash_sale = FlashSale.objects.get(shop=shop)
    assert flash_sale.status == "scheduled"
    assert FlashItem.objects.get(session__sale=flash_sale).quantity == 20
    # Channels and sub-groups: seats counted by the actions match the members placed.
    assert Channel.objects.filter(community__shop=shop).count() == 3 * len(data.CHANNELS)
    assert CommunityMembership.objects.filter(community__shop=shop, channel__isnull=False).exists()
    for sub_group in SubGroup.objects.filter(community__shop=shop):
        assert sub_group.member_count == CommunityMembership.objects.filter(sub_group=sub_group).count()
    assert SubGroup.objects.filter(community__shop=shop, member_count__gt=0).exists()

    # Orders came through the actions: every one has its history, paid ones a payment.
    orders = Order.objects.filter(shop=shop)
    assert orders.count() >= 20, report.steps
    statuses = set(orders.values_list("status", flat=True))
    assert {OrderStatus.COMPLETED, OrderStatus.CLOSED, OrderStatus.PAID, OrderStatus.PENDING_PAYMENT} <= statuses
    for order in orders:
        assert OrderEvent.objects.filter(order=order).exists()
        # The gateway's success_time has whole seconds (WeChat's format), our created_at microseconds.
        assert order.created_at.replace(microsecond=0) <= (order.paid_at or order.created_at)
        if order.paid_at is not None and order.payment_method != PaymentMethod.PREPAID:  # a package's draw
            assert Payment.objects.filter(order=order, status="succeeded").exists()
    assert RefundRequest.objects.filter(shop=shop).exists()
    # Past orders are goods: course seats and tickets are not bought the goods way (packages are
    # bought by seed_packages, top-ups by the stored-value seed, both now).
    made_now = (ProductKind.PACKAGE, ProductKind.STORED_VALUE)
    lines = OrderLine.objects.filter(order__shop=shop).exclude(order__kind__in=made_now)
    assert not lines.exclude(sku__product__kind=ProductKind.GOODS).exists()
    # Inbox messages of the backdated past orders carry the time of their step, not one time for
    # the whole order (group-buy and team orders are made now, by their own seeds).
    past = (
        orders.filter(sign_up__isnull=True, kind=ProductKind.GOODS)
        .exclude(pk__in=TeamMember.objects.values("order_id"))
        .exclude(payment_method=PaymentMethod.PREPAID)
    )
    for order in past.filter(paid_at__isnull=False, payment_method="sandbox"):
        paid_message = Notification.objects.get(user=order.user, kind="order.paid", link__contains=order.number)
        assert paid_message.created_at == order.paid_at

    # Stock: every unit held by a live order left the SKU, every released unit came back.
    for sku_id, before in stock_before_orders.items():
        held = OrderLine.objects.filter(sku_id=sku_id, order__status__in=LIVE).aggregate(n=Sum("quantity"))["n"] or 0
        assert Sku.objects.get(pk=sku_id).stock == before - held

    _assert_community_content(shop)
    _assert_paid_membership(shop)
    _assert_courses(shop)
    _assert_events(shop)
    _assert_promotions_and_settlement(shop)
    _assert_packages(shop)

    counts = _counts()
    call_command("seed_demo", "--no-images", "--orders", "25")
    assert _counts() == counts


def _assert_community_content(shop: Shop) -> None:
    first, second, third = Community.objects.filter(shop=shop).order_by("id")[:3]
    # Articles: three published with goods cards in the first community, one scheduled for
    # tomorrow 08:00 Shanghai with a push waiting for it, one draft; one published in each other.
    published = Article.objects.filter(community=first, status=ArticleStatus.PUBLISHED)
    assert published.count() == 3
    for article in published:
        cards = ArticleProduct.objects.filter(article=article)
        assert cards.count() >= 2
        assert set(cards.values_list("product__kind", flat=True)) == {ProductKind.GOODS}
        assert article.published_at is not None
        assert article.published_at < timezone.now()
    assert "<script" not in "".join(published.values_list("body", flat=True))
    assert "<strong>" in published.get(title="三文鱼刺身怎么切、怎么吃才放心").body
    scheduled = Article.objects.get(community=first, status=ArticleStatus.SCHEDULED)
    assert scheduled.push_enabled
    assert scheduled.published_at is None
    local = timezone.localtime(scheduled.publish_at, ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (8, 0)
    assert local.date() == timezone.localdate(timezone.now(), ZoneInfo("Asia/Shanghai")) + timedelta(days=1)
    assert not PushJob.objects.filter(article=scheduled).exists()  # pushed when it goes out
    assert Article.objects.filter(community=first, status=ArticleStatus.DRAFT).count() == 1
    for community in (second, third):
        assert Article.objects.filter(community=community, status=ArticleStatus.PUBLISHED).count() == 1
        assert ArticleProduct.objects.filter(article__community=community).count() == 2

    # Keyword replies answer as the service box would.
    assert KeywordRule.objects.filter(community=first).count() == 4
    hours = answer_keyword(first, "营业时间")
    assert hours.matched
    assert "09:00-21:00" in hours.text
    salmon = answer_keyword(first, "三文鱼能生吃吗")
    assert salmon.article is not None
    assert salmon.article.title == "三文鱼刺身怎么切、怎么吃才放心"
    assert answer_keyword(first, "你好").text == data.DEFAULT_REPLY

    # Board: three categories per community, threads by current members, counters that match.
    assert BoardCategory.objects.filter(shop=shop).count() == 3 * len(data.BOARD_CATEGORIES)
    threads = Thread.objects.filter(shop=shop)
    assert threads.count() == len(data.BOARD_THREADS)
    assert threads.filter(community=first).count() == 5
    for thread in threads:
        assert is_community_member(thread.author, thread.community)
        assert thread.category is not None
        assert thread.comment_count == Comment.objects.filter(thread=thread).count()
        assert thread.like_count == ThreadLike.objects.filter(thread=thread).count()
    assert Comment.objects.filter(thread__shop=shop).count() == 10
    assert ThreadLike.objects.filter(thread__shop=shop).count() == 26
    pinned = threads.get(is_pinned=True)
    assert pinned.title == "新人必看：下单、自提和售后怎么弄"
    assert threads.filter(is_featured=True).count() == 2
    assert threads.filter(is_promotional=True).count() == 1
    assert AuditLog.objects.filter(action="board.thread_flags").count() == 3
    assert Notification.objects.filter(kind="board.comment").count() == 8


def _assert_courses(shop: Shop) -> None:
    first = Community.objects.filter(shop=shop).order_by("id")[0]
    courses = Course.objects.filter(shop=shop)
    assert courses.count() == 2
    assert set(courses.values_list("community", "status")) == {(first.pk, CourseStatus.PUBLISHED)}
    free = courses.get(access=CourseAccess.MEMBERS_ONLY)
    assert Lesson.objects.filter(course=free).count() == 3
    assert Enrolment.objects.filter(course=free).count() == 2
    camp = courses.get(access=CourseAccess.PAID)
    assert camp.product is not None
    assert camp.product.kind == ProductKind.COURSE
    cohort = Cohort.objects.get(course=camp)
    assert cohort.sku is not None
    assert cohort.sku.price_fen == camp.price_fen == 19900
    assert cohort.sku.stock == cohort.capacity == 30


def _assert_packages(shop: Shop) -> None:
    # A crayfish package bought and redeemed 3 portions in two zero-payment orders; a second one
    # sent as a gift, paid, its claim link open; the ledger and the running balances agree.
    plan = PackagePlan.objects.get(shop=shop)
    held = MemberPackage.objects.get(plan=plan, status="active")
    assert (held.portions_total, held.portions_left, held.paid_fen) == (100, 97, 800_000)
    assert Order.objects.filter(user=held.owner, payment_method=PaymentMethod.PREPAID).count() == 2
    gift = Gift.objects.get(shop=shop)
    assert (gift.status, gift.sender_id) == ("open", held.owner_id)
    assert MemberPackage.objects.filter(pk=gift.subject_id or 0, status="gifting").exists()
    assert package_selectors.books_balance(shop) == []


def _assert_promotions_and_settlement(shop: Shop) -> None:
    # A published timed draw with its prizes, entered by members of its community, numbered 1, 2 …
    lottery = Lottery.objects.get(shop=shop)
    assert (lottery.status, lottery.mode) == ("published", "draw")
    assert lottery.seed_hash
    assert lottery.starts_at <= timezone.now() < lottery.ends_at
    assert Prize.objects.filter(lottery=lottery).count() == 2
    entries = Entry.objects.filter(lottery=lottery)
    assert sorted(entries.values_list("number", flat=True)) == list(range(1, lottery.entry_count + 1))
    assert lottery.entry_count >= 3
    assert lottery.community is not None
    for entry in entries:
        assert is_community_member(entry.user, lottery.community)

    # A funded red packet, some of it grabbed: the grabs hold the first parts drawn at funding.
    packet = RedPacket.objects.get(shop=shop)
    grabs = RedPacketGrab.objects.filter(packet=packet)
    assert packet.status == "funded"
    assert 0 < packet.grabbed_count == grabs.count() < packet.count
    assert sorted(grabs.values_list("amount_fen", flat=True)) == sorted(packet.parts_fen[: grabs.count()])

    # A claimable coupon, on a card under a post, claimed from it by a few members.
    coupon = CouponTemplate.objects.get(shop=shop)
    claimed = MemberCoupon.objects.filter(template=coupon)
    assert claimed.count() == coupon.total_quantity - coupon.remaining == 3
    assert PostCoupon.objects.filter(template=coupon).count() == 1
    assert {mc.source for mc in claimed} == {"post"}

    # Stored value: two top-up plans, members topped up through the sandbox, the books balanced.
    assert TopUpPlan.objects.filter(shop=shop, active=True).count() == 2
    assert stored_value.liabilities(shop).principal_fen == 200_000  # ¥500 + ¥1,000 + ¥500
    assert stored_value.liabilities(shop).bonus_fen == 16_000
    assert stored_value.books_balance(shop) == []

    # One leader's draft settlement for yesterday: completed campaign orders, commission at their rate.
    settlement = Settlement.objects.get(shop=shop)
    yesterday = timezone.localdate() - timedelta(days=1)
    assert (settlement.status, settlement.period_start, settlement.period_end) == ("draft", yesterday, yesterday)
    lines = SettlementLine.objects.filter(settlement=settlement)
    assert lines.exists()
    assert settlement.commission_fen == sum(lines.values_list("commission_fen", flat=True)) > 0
    for line in lines.select_related("order"):
        assert line.order.status == OrderStatus.COMPLETED
        assert timezone.localdate(line.order.completed_at) == yesterday


def _assert_events(shop: Shop) -> None:
    first = Community.objects.filter(shop=shop).order_by("id")[0]
    events = Event.objects.filter(shop=shop)
    assert set(events.values_list("community", "status")) == {(first.pk, EventStatus.PUBLISHED)}
    free = events.get(price_fen=0)
    # Eight RSVPs for six seats: six confirmed, two waiting in order.
    assert free.confirmed_count == free.capacity == 6
    registrations = Registration.objects.filter(event=free)
    assert registrations.filter(status=RegistrationStatus.CONFIRMED).count() == 6
    waiting = registrations.filter(status=RegistrationStatus.WAITLISTED).order_by("position")
    assert list(waiting.values_list("position", flat=True)) == [1, 2]
    paid = events.get(price_fen__gt=0)
    assert paid.ticket_product is not None
    assert paid.ticket_product.kind == ProductKind.TICKET
    ticket = Sku.objects.get(product=paid.ticket_product)
    assert (ticket.price_fen, ticket.stock) == (paid.price_fen, paid.capacity)


def _assert_paid_membership(shop: Shop) -> None:
    paid = Community.objects.get(shop=shop, fee_fen__gt=0)
    assert (paid.name, paid.fee_fen, paid.validity_days, paid.refund_days) == ("千岛湖鲜鱼·萧山宝妈群", 9900, 365, 3)
    assert paid.fee_product is not None
    assert paid.fee_product.kind == ProductKind.MEMBERSHIP
    assert {spec: sku.price_fen for spec, sku in fee_skus(paid).items()} == {"入会": 9900, "续费": 9900}
    assert recruitment(paid).is_open
    memberships = CommunityMembership.objects.filter(community=paid)
    assert memberships.filter(status=MemberStatus.ACTIVE, expires_at__isnull=False).count() == 2
    assert memberships.filter(status=MemberStatus.FORMER).count() == 1
    leaders = Community.objects.get(shop=shop, join_policy=JoinPolicy.INVITE_ONLY)
    assert CommunityMembership.objects.filter(community=leaders, status=MemberStatus.ACTIVE).count() == 5
    assert not Community.objects.filter(shop=shop, fee_fen__gt=0).exclude(pk=paid.pk).exists()
