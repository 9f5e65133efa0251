"""Every course write. ``check_*`` validates and authorises, ``do_*`` changes data.

Staff writes are audited in the same transaction. A paid course owns a catalog product of
kind ``course`` (``catalog.actions.save_kind_product``): one SKU per cohort still taking
members (its stock holds the seats for sale, reserved by the orders app at order creation),
or one SKU for a self-paced course. Seats of a cohort are counted by ``Cohort.seats_taken``,
moved only by conditional single-statement ``F()`` updates, and a check constraint keeps it
within capacity.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import nh3
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequn.catalog.actions import release_stock, save_kind_product
from shequn.catalog.kinds import ProductKind
from shequn.catalog.models import Sku
from shequn.communities import selectors as community_selectors
from shequn.communities.models import Community
from shequn.core import audit
from shequn.core.errors import Conflict, DomainError, InvalidInput, NotAuthenticated
from shequn.core.i18n import in_language_of
from shequn.notifications.actions import notify
from shequn.shops.models import Shop

from . import selectors
from .enums import CourseAccess, CourseStatus, EnrolmentSource, EnrolmentStatus, LessonKind
from .errors import (
    AlreadyEnrolled,
    CohortFull,
    CohortNotFound,
    CourseInUse,
    CourseNotFound,
    EnrolmentClosed,
    InvalidCohort,
    InvalidCourse,
    InvalidLesson,
    LessonNotFound,
    NotEnrolled,
    PurchaseRequired,
)
from .models import Cohort, Course, Enrolment, Lesson, LessonProgress

TITLE_MAX = 60
DESCRIPTION_MAX = 2000
BODY_MAX = 50_000
COHORT_NAME_MAX = 40
DRIP_INTERVAL_MAX = 30
PRICE_MAX_FEN = 10_000_000  # ¥100,000
CAPACITY_MAX = 100_000
MAX_AUDIO_BYTES = 50 * 1024 * 1024
MAX_AUDIO_SECONDS = 6 * 3600
MAX_COVER_BYTES = 10 * 1024 * 1024
# Stock of a SKU whose seats are not limited (a self-paced course, a cohort without capacity).
UNLIMITED_SEATS = 1_000_000
SELF_PACED_SPEC = "课程报名"
# Refunds: within 7 days of the later of enrolment and cohort start, while fewer than 2
# lessons are done; with no lesson done the request is approved by rule, at once.
REFUND_WINDOW = timedelta(days=7)
REFUND_MAX_LESSONS_DONE = 1

ALLOWED_TAGS = {"p", "br", "strong", "em", "h2", "h3", "ul", "ol", "li", "blockquote", "img", "a"}
ALLOWED_ATTRIBUTES = {"img": {"src", "alt"}, "a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html: str) -> str:
    """Keep the allowed tags and attributes; nh3 drops scripts, handlers and javascript: URLs."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener",
    )


def _raise_fields(error: type[InvalidInput], fields: dict[str, str]) -> None:
    if fields:
        raise error(next(iter(fields.values())), details={"fields": fields})


def _check_cover(cover: Any) -> str | None:
    from PIL import Image, UnidentifiedImageError

    if cover.size and cover.size > MAX_COVER_BYTES:
        return _("封面不能超过 10MB")
    try:
        cover.seek(0)
        with Image.open(cover) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return _("封面需为图片（JPEG、PNG、WEBP 或 GIF）")
    finally:
        cover.seek(0)
    return None


# --- courses (staff) -------------------------------------------------------------------


@dataclass
class CourseInput:
    community_id: int | None
    title: str
    description: str = ""
    access: str = CourseAccess.MEMBERS_ONLY
    price_fen: int | None = None  # paid courses: the price of one enrolment
    drip_interval_days: int = 1
    status: str = CourseStatus.DRAFT
    position: int = 0
    cover: UploadedFile | None = None


def check_course(shop: Shop, data: CourseInput, *, course: Course | None = None) -> Community:
    """Clean a course's fields; every problem at once in ``details["fields"]``."""
    fields: dict[str, str] = {}
    community = Community.objects.filter(shop=shop, pk=data.community_id).first() if data.community_id else None
    if community is None:
        fields["community_id"] = _("请选择社群")
    elif course is not None and course.community_id != community.pk and course.enrolments.exists():
        fields["community_id"] = _("已有学员的课程不能换到其他社群")
    data.title = (data.title or "").strip()
    if not data.title:
        fields["title"] = _("请填写课程名称")
    elif len(data.title) > TITLE_MAX:
        fields["title"] = _("课程名称不能超过 %(max)s 个字") % {"max": TITLE_MAX}
    data.description = (data.description or "").strip()
    if len(data.description) > DESCRIPTION_MAX:
        fields["description"] = _("课程简介不能超过 %(max)s 个字") % {"max": DESCRIPTION_MAX}
    if data.access not in CourseAccess.values:
        fields["access"] = _("请选择课程类型")
    elif data.access == CourseAccess.PAID:
        if data.price_fen is None or data.price_fen <= 0:
            fields["price_fen"] = _("付费课程请填写大于 0 的价格")
        elif data.price_fen > PRICE_MAX_FEN:
            fields["price_fen"] = _("价格不能超过 ¥100000")
    else:
        data.price_fen = None
    if data.drip_interval_days is None or not 0 <= data.drip_interval_days <= DRIP_INTERVAL_MAX:
        fields["drip_interval_days"] = _("解锁间隔需在 0 到 %(max)s 天之间") % {"max": DRIP_INTERVAL_MAX}
    if data.status not in CourseStatus.values:
        fields["status"] = _("状态无效")
    if data.position is None or data.position < 0:
        data.position = 0
    if data.cover is not None and (problem := _check_cover(data.cover)):
        fields["cover"] = problem
    _raise_fields(InvalidCourse, fields)
    assert community is not None
    return community


def _apply_course(course: Course, data: CourseInput, community: Community) -> None:
    course.community = community
    course.title = data.title
    course.description = data.description
    course.access = data.access
    course.price_fen = data.price_fen
    course.drip_interval_days = data.drip_interval_days
    course.status = data.status
    course.position = data.position
    if data.cover is not None:
        course.cover = data.cover


def do_create_course(shop: Shop, data: CourseInput, *, actor: Any, ip: str | None = None) -> Course:
    community = check_course(shop, data)
    with transaction.atomic():
        course = Course(shop=shop, created_by=actor if getattr(actor, "pk", None) else None)
        _apply_course(course, data, community)
        course.save()
        sync_product(course)
        audit.record(actor=actor, shop=shop, action="courses.course_create", obj=course, ip=ip, access=course.access)
    return course


def do_update_course(shop: Shop, course: Course, data: CourseInput, *, actor: Any, ip: str | None = None) -> Course:
    if course.shop_id != shop.pk:
        raise CourseNotFound(_("课程不存在"))
    community = check_course(shop, data, course=course)
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)
        _apply_course(course, data, community)
        course.save()
        sync_product(course)
        audit.record(
            actor=actor,
            shop=shop,
            action="courses.course_update",
            obj=course,
            ip=ip,
            access=course.access,
            price_fen=course.price_fen,
            status=course.status,
        )
    return course


def do_delete_course(shop: Shop, course: Course, *, actor: Any, ip: str | None = None) -> None:
    """Only a course nobody ever enrolled in; its product (if any) goes off sale and stays for old orders."""
    if course.shop_id != shop.pk:
        raise CourseNotFound(_("课程不存在"))
    if course.enrolments.exists():
        raise CourseInUse(_("已有学员报名的课程不能删除，可改为草稿下架"))
    with transaction.atomic():
        if course.product is not None:
            save_kind_product(shop, ProductKind.COURSE, course.title, [], product=course.product, on_shelf=False)
        audit.record(actor=actor, shop=shop, action="courses.course_delete", obj=course, ip=ip, title=course.title)
        course.delete()


def sync_product(course: Course, *, stock_deltas: dict[int, int] | None = None) -> None:
    """Make the course's catalog product match its price, status and cohorts (caller's transaction).

    Stock carries over for existing SKUs, read under a row lock so no reservation slips in
    between; ``stock_deltas`` (cohort id → seats added or removed) applies capacity changes.
    """
    if course.access != CourseAccess.PAID and course.product_id is None:
        return
    stock_deltas = stock_deltas or {}
    now = timezone.now()
    locked: dict[int, Sku] = {}
    if course.product_id is not None:
        locked = {
            sku.pk: sku for sku in Sku.objects.select_for_update().filter(product_id=course.product_id).order_by("pk")
        }
    rows: list[tuple[str, int, int]] = []
    cohorts = list(Cohort.objects.filter(course=course).order_by("starts_at", "id"))
    if course.access == CourseAccess.PAID:
        assert course.price_fen is not None
        if cohorts:
            for cohort in cohorts:
                if cohort.starts_at <= now:
                    continue  # enrolment closed: its SKU goes off sale
                limit = cohort.capacity if cohort.capacity is not None else UNLIMITED_SEATS
                sku = locked.get(cohort.sku_id) if cohort.sku_id else None
                if sku is None:
                    stock = limit - cohort.seats_taken
                else:
                    stock = sku.stock + stock_deltas.get(cohort.pk, 0)
                    if stock < 0:
                        held = limit - stock_deltas.get(cohort.pk, 0) - sku.stock
                        message = _("容量不能少于已报名和待支付的人数（%(held)s 人）") % {"held": held}
                        raise InvalidCohort(message, details={"fields": {"capacity": message}})
                    if sku.spec != cohort.name:  # a renamed cohort keeps its SKU (and the seats it holds)
                        Sku.objects.filter(pk=sku.pk).update(spec=cohort.name)
                rows.append((cohort.name, course.price_fen, stock))
        else:
            current = next((sku for sku in locked.values() if sku.spec == SELF_PACED_SPEC), None)
            rows.append((SELF_PACED_SPEC, course.price_fen, current.stock if current else UNLIMITED_SEATS))
    product = save_kind_product(
        course.shop,
        ProductKind.COURSE,
        course.title,
        rows,
        product=course.product,
        on_shelf=course.access == CourseAccess.PAID and course.status == CourseStatus.PUBLISHED,
    )
    if course.product_id != product.pk:
        course.product = product
        Course.objects.filter(pk=course.pk).update(product=product)
    for cohort in cohorts:
        if cohort.sku_id is None and cohort.starts_at > now and course.access == CourseAccess.PAID:
            sku_id = Sku.objects.filter(product=product, spec=cohort.name).values_list("pk", flat=True).first()
            if sku_id is not None:
                Cohort.objects.filter(pk=cohort.pk).update(sku_id=sku_id)
                cohort.sku_id = sku_id


# --- lessons (staff) -------------------------------------------------------------------


@dataclass
class LessonInput:
    title: str
    kind: str = LessonKind.TEXT
    body: str = ""
    video_url: str = ""
    audio: UploadedFile | None = None
    audio_duration_seconds: int | None = None  # entered by staff


def is_https_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.netloc) and " " not in value


def check_lesson(data: LessonInput, *, lesson: Lesson | None = None) -> None:
    fields: dict[str, str] = {}
    data.title = (data.title or "").strip()
    if not data.title:
        fields["title"] = _("请填写课时标题")
    elif len(data.title) > TITLE_MAX:
        fields["title"] = _("课时标题不能超过 %(max)s 个字") % {"max": TITLE_MAX}
    if data.kind not in LessonKind.values:
        fields["kind"] = _("请选择课时类型")
    if len(data.body or "") > BODY_MAX:
        fields["body"] = _("正文太长")
    data.video_url = (data.video_url or "").strip()
    if data.video_url and (not is_https_url(data.video_url) or len(data.video_url) > 500):
        fields["video_url"] = _("视频链接需为 https:// 开头的完整网址")
    elif data.kind == LessonKind.VIDEO and not data.video_url:
        fields["video_url"] = _("请填写视频链接（https://）")
    if data.audio is not None and data.audio.size and data.audio.size > MAX_AUDIO_BYTES:
        fields["audio"] = _("音频不能超过 50MB")
    elif data.kind == LessonKind.AUDIO and data.audio is None and not (lesson and lesson.audio):
        fields["audio"] = _("请上传音频文件")
    if data.audio_duration_seconds is not None and not 0 <= data.audio_duration_seconds <= MAX_AUDIO_SECONDS:
        fields["audio_duration_seconds"] = _("音频时长无效")
    if data.kind == LessonKind.TEXT and not nh3.clean(data.body or "", tags=set()).strip():
        fields["body"] = _("请填写正文")
    _raise_fields(InvalidLesson, fields)


def _apply_lesson(lesson: Lesson, data: LessonInput) -> None:
    lesson.title = data.title
    lesson.kind = data.kind
    lesson.body = sanitize_html(data.body)
    lesson.video_url = data.video_url
    if data.audio is not None:
        lesson.audio = data.audio
    if data.audio_duration_seconds is not None or data.audio is not None:
        lesson.audio_duration_seconds = data.audio_duration_seconds


def do_create_lesson(shop: Shop, course: Course, data: LessonInput, *, actor: Any, ip: str | None = None) -> Lesson:
    if course.shop_id != shop.pk:
        raise CourseNotFound(_("课程不存在"))
    check_lesson(data)
    with transaction.atomic():
        last = Lesson.objects.filter(course=course).order_by("-position").values_list("position", flat=True).first()
        lesson = Lesson(course=course, position=0 if last is None else last + 1)
        _apply_lesson(lesson, data)
        lesson.save()
        audit.record(actor=actor, shop=shop, action="courses.lesson_create", obj=lesson, ip=ip, course_id=course.pk)
    return lesson


def do_update_lesson(shop: Shop, lesson: Lesson, data: LessonInput, *, actor: Any, ip: str | None = None) -> Lesson:
    if lesson.course.shop_id != shop.pk:
        raise LessonNotFound(_("课时不存在"))
    check_lesson(data, lesson=lesson)
    with transaction.atomic():
        lesson = Lesson.objects.select_for_update(of=("self",)).select_related("course").get(pk=lesson.pk)
        _apply_lesson(lesson, data)
        lesson.save()
        audit.record(
            actor=actor, shop=shop, action="courses.lesson_update", obj=lesson, ip=ip, course_id=lesson.course_id
        )
    return lesson


def do_delete_lesson(shop: Shop, lesson: Lesson, *, actor: Any, ip: str | None = None) -> None:
    """Later lessons move up one place (and open one drip step earlier); progress on it goes too."""
    if lesson.course.shop_id != shop.pk:
        raise LessonNotFound(_("课时不存在"))
    with transaction.atomic():
        audit.record(
            actor=actor,
            shop=shop,
            action="courses.lesson_delete",
            obj=lesson,
            ip=ip,
            course_id=lesson.course_id,
            title=lesson.title,
        )
        lesson.delete()


def do_reorder_lessons(
    shop: Shop, course: Course, lesson_ids: Sequence[int], *, actor: Any, ip: str | None = None
) -> list[Lesson]:
    """Put the course's lessons in the order given (every lesson exactly once)."""
    if course.shop_id != shop.pk:
        raise CourseNotFound(_("课程不存在"))
    with transaction.atomic():
        current = {lesson.pk: lesson for lesson in Lesson.objects.select_for_update().filter(course=course)}
        if len(lesson_ids) != len(current) or set(lesson_ids) != set(current):
            raise InvalidLesson(_("排序需包含本课程的全部课时，且每个课时只出现一次"), code="invalid_lesson_order")
        ordered = [current[pk] for pk in lesson_ids]
        for position, lesson in enumerate(ordered):
            lesson.position = position
        Lesson.objects.bulk_update(ordered, ["position"])
        audit.record(
            actor=actor, shop=shop, action="courses.lessons_reorder", obj=course, ip=ip, lesson_ids=list(lesson_ids)
        )
    return ordered


def do_move_lesson(shop: Shop, lesson: Lesson, step: int, *, actor: Any, ip: str | None = None) -> None:
    """Move a lesson one place up (``step=-1``) or down (``step=1``)."""
    ids = [row.pk for row in selectors.lessons(lesson.course)]
    index = ids.index(lesson.pk)
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(ids):
        return
    ids[index], ids[target] = ids[target], ids[index]
    do_reorder_lessons(shop, lesson.course, ids, actor=actor, ip=ip)


# --- cohorts (staff) -------------------------------------------------------------------


@dataclass
class CohortInput:
    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None = None


def check_cohort(course: Course, data: CohortInput, *, cohort: Cohort | None = None) -> None:
    fields: dict[str, str] = {}
    data.name = (data.name or "").strip()
    if not data.name:
        fields["name"] = _("请填写期次名称，如 第1期")
    elif len(data.name) > COHORT_NAME_MAX:
        fields["name"] = _("期次名称不能超过 %(max)s 个字") % {"max": COHORT_NAME_MAX}
    else:
        taken = Cohort.objects.filter(course=course, name=data.name)
        if cohort is not None:
            taken = taken.exclude(pk=cohort.pk)
        if taken.exists():
            fields["name"] = _("已有名为「%(name)s」的期次") % {"name": data.name}
    if data.starts_at is None:
        fields["starts_at"] = _("请填写开营时间")
    elif cohort is None and data.starts_at <= timezone.now():
        fields["starts_at"] = _("开营时间需晚于现在")
    if data.ends_at is None:
        fields["ends_at"] = _("请填写结营时间")
    elif data.starts_at is not None and data.ends_at <= data.starts_at:
        fields["ends_at"] = _("结营时间需晚于开营时间")
    if data.capacity is not None:
        if not 1 <= data.capacity <= CAPACITY_MAX:
            fields["capacity"] = _("名额需在 1 到 %(max)s 之间，不限名额请留空") % {"max": CAPACITY_MAX}
        elif cohort is not None and data.capacity < cohort.seats_taken:
            fields["capacity"] = _("名额不能少于已报名人数（%(seats_taken)s 人）") % {"seats_taken": cohort.seats_taken}
    _raise_fields(InvalidCohort, fields)


def do_create_cohort(shop: Shop, course: Course, data: CohortInput, *, actor: Any, ip: str | None = None) -> Cohort:
    if course.shop_id != shop.pk:
        raise CourseNotFound(_("课程不存在"))
    check_cohort(course, data)
    assert data.starts_at is not None
    assert data.ends_at is not None
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)
        if Enrolment.objects.filter(course=course, cohort__isnull=True, status=EnrolmentStatus.ACTIVE).exists():
            message = _("该课程已有不分期的学员，不能再添加期次")
            raise InvalidCohort(message, details={"fields": {"name": message}})
        cohort = Cohort.objects.create(
            course=course, name=data.name, starts_at=data.starts_at, ends_at=data.ends_at, capacity=data.capacity
        )
        sync_product(course)
        audit.record(
            actor=actor,
            shop=shop,
            action="courses.cohort_create",
            obj=cohort,
            ip=ip,
            course_id=course.pk,
            capacity=data.capacity,
        )
    cohort.refresh_from_db()
    return cohort


def do_update_cohort(shop: Shop, cohort: Cohort, data: CohortInput, *, actor: Any, ip: str | None = None) -> Cohort:
    if cohort.course.shop_id != shop.pk:
        raise CohortNotFound(_("期次不存在"))
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=cohort.course_id)
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        check_cohort(course, data, cohort=cohort)
        assert data.starts_at is not None
        assert data.ends_at is not None
        old_limit = cohort.capacity if cohort.capacity is not None else UNLIMITED_SEATS
        new_limit = data.capacity if data.capacity is not None else UNLIMITED_SEATS
        cohort.name, cohort.starts_at, cohort.ends_at, cohort.capacity = (
            data.name,
            data.starts_at,
            data.ends_at,
            data.capacity,
        )
        cohort.save(update_fields=["name", "starts_at", "ends_at", "capacity"])
        sync_product(course, stock_deltas={cohort.pk: new_limit - old_limit})
        audit.record(
            actor=actor,
            shop=shop,
            action="courses.cohort_update",
            obj=cohort,
            ip=ip,
            course_id=course.pk,
            capacity=data.capacity,
        )
    cohort.refresh_from_db()
    return cohort


def do_delete_cohort(shop: Shop, cohort: Cohort, *, actor: Any, ip: str | None = None) -> None:
    if cohort.course.shop_id != shop.pk:
        raise CohortNotFound(_("期次不存在"))
    if cohort.enrolments.exists():
        raise CourseInUse(_("已有学员报名的期次不能删除"))
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=cohort.course_id)
        audit.record(actor=actor, shop=shop, action="courses.cohort_delete", obj=cohort, ip=ip, course_id=course.pk)
        cohort.delete()
        sync_product(course)


# --- members -------------------------------------------------------------------------


def check_member(user: Any, course: Course) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("请先登录"), code="not_authenticated")
    community = course.community
    if not community.is_active or not community_selectors.is_community_member(user, community):
        raise CourseNotFound(_(selectors.COURSE_NOT_FOUND))


def check_cohort_choice(course: Course, cohort_id: int | None, *, now: datetime | None = None) -> Cohort | None:
    """The cohort a member joins: required when the course runs in cohorts, not started, not full."""
    now = now or timezone.now()
    if not selectors.has_cohorts(course):
        return None
    if not cohort_id:
        raise InvalidInput(_("请选择期次"), code="cohort_required", details={"fields": {"cohort_id": _("请选择期次")}})
    cohort = Cohort.objects.filter(course=course, pk=cohort_id).first()
    if cohort is None:
        raise CohortNotFound(_("期次不存在"))
    check_cohort_open(cohort, now=now)
    return cohort


def check_cohort_open(cohort: Cohort, *, now: datetime | None = None) -> None:
    if cohort.starts_at <= (now or timezone.now()):
        raise EnrolmentClosed(_("「%(name)s」已开营，报名已截止") % {"name": cohort.name})
    if cohort.capacity is not None and cohort.seats_taken >= cohort.capacity:
        raise CohortFull(_("「%(name)s」名额已满") % {"name": cohort.name})


def _take_seat(cohort: Cohort | None) -> bool:
    """One seat of ``cohort`` in one conditional UPDATE; False when it is full."""
    if cohort is None:
        return True
    seats = Cohort.objects.filter(pk=cohort.pk)
    if cohort.capacity is not None:
        seats = seats.filter(seats_taken__lt=F("capacity"))
    return bool(seats.update(seats_taken=F("seats_taken") + 1))


def _give_back_seat(cohort_id: int | None) -> None:
    if cohort_id is not None:
        Cohort.objects.filter(pk=cohort_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)


def _enrol(
    user: Any, course: Course, cohort: Cohort | None, *, source: str, order_id: int | None = None
) -> Enrolment | None:
    """Create or reactivate the member's enrolment (caller's transaction); None if already active."""
    existing = Enrolment.objects.select_for_update().filter(course=course, user=user).first()
    if existing is not None and existing.status == EnrolmentStatus.ACTIVE:
        return None
    values = {
        "cohort": cohort,
        "enrolled_at": timezone.now(),
        "source": source,
        "order_id": order_id,
        "status": EnrolmentStatus.ACTIVE,
        "refunded_at": None,
    }
    if existing is not None:  # bought again after a refund: a fresh start
        LessonProgress.objects.filter(enrolment=existing).delete()
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
        return existing
    try:
        with transaction.atomic():
            return Enrolment.objects.create(course=course, user=user, **values)
    except IntegrityError:  # a simultaneous tap enrolled first
        return None


def do_enrol(user: Any, course: Course, *, cohort_id: int | None = None) -> Enrolment:
    """Free enrolment in a members-only course (paid courses are bought through the checkout)."""
    check_member(user, course)
    if course.status != CourseStatus.PUBLISHED:
        raise EnrolmentClosed(_("课程暂未开放报名"))
    if course.access == CourseAccess.PAID:
        raise PurchaseRequired(_("付费课程请购买后学习"))
    if selectors.active_enrolment(user, course) is not None:
        raise AlreadyEnrolled(_("你已报名该课程"))
    cohort = check_cohort_choice(course, cohort_id)
    with transaction.atomic():
        if not _take_seat(cohort):
            assert cohort is not None
            raise CohortFull(_("「%(name)s」名额已满") % {"name": cohort.name})
        enrolment = _enrol(user, course, cohort, source=EnrolmentSource.MEMBERS_ONLY)
        if enrolment is None:
            raise AlreadyEnrolled(_("你已报名该课程"))  # rolls the seat back with the transaction
    return enrolment


def do_mark_done(user: Any, course: Course, lesson: Lesson) -> selectors.Progress:
    """Mark an open lesson done (idempotent); returns the member's progress."""
    check_member(user, course)
    if lesson.course_id != course.pk:
        raise LessonNotFound(_("课时不存在"))
    enrolment = selectors.active_enrolment(user, course)
    if enrolment is None:
        raise NotEnrolled(_("报名后才能学习本课程"))
    selectors.check_open(selectors.lesson_state(course, enrolment, lesson))
    try:
        with transaction.atomic():
            LessonProgress.objects.create(enrolment=enrolment, lesson=lesson)
    except IntegrityError:  # already done (a double tap)
        pass
    return selectors.progress(enrolment, course)


# --- paid courses (called by the orders app through CourseRules) ------------------------


def course_path(course: Course) -> str:
    return reverse("courses:course_detail", args=[course.community_id, course.pk])


def check_purchase(user: Any, sku: Any, quantity: int) -> None:
    course, cohort = selectors.course_for_sku(sku)
    check_member(user, course)
    if course.status != CourseStatus.PUBLISHED or course.access != CourseAccess.PAID:
        raise EnrolmentClosed(_("课程暂未开放报名"))
    if quantity != 1:
        raise InvalidInput(_("每门课程限购 1 份"), code="course_quantity_one")
    if selectors.active_enrolment(user, course) is not None:
        raise AlreadyEnrolled(_("你已报名该课程"))
    if selectors.has_cohorts(course):
        if cohort is None:
            raise EnrolmentClosed(_("请选择期次"))
        check_cohort_open(cohort)


class _EnrolledMeanwhile(Exception):
    """Another order of the same member was granted between our check and our insert."""


ALREADY_ENROLLED_REASON = gettext_noop("你已报名该课程，本单将全额退款")


def grant_paid_enrolment(order: Any, line: Any) -> str | None:
    """The order was paid: enrol its member (idempotent). A reason instead when it cannot be granted
    (the orders app then refunds the line in full)."""
    try:
        course, cohort = selectors.course_for_sku(line.sku)
    except CourseNotFound:
        return _("课程已下架，本单将全额退款")
    user = order.user
    try:
        with transaction.atomic():
            existing = Enrolment.objects.filter(course=course, user=user, status=EnrolmentStatus.ACTIVE).first()
            if existing is not None:
                if existing.order_id == order.pk:
                    return None  # this order was granted already
                raise _EnrolledMeanwhile
            if not _take_seat(cohort):
                return _("该期名额已满，本单将全额退款")
            if _enrol(user, course, cohort, source=EnrolmentSource.PAID, order_id=order.pk) is None:
                raise _EnrolledMeanwhile  # rolls our seat back with the savepoint
            with in_language_of(user):
                notify(
                    user,
                    shop=course.shop,
                    kind="courses.enrolled",
                    title=_("报名成功：%(title)s") % {"title": course.title},
                    body=_("期次：%(name)s") % {"name": cohort.name} if cohort else _("现在就可以开始学习"),
                    link=course_path(course),
                )
    except _EnrolledMeanwhile:
        # Two orders paid for one enrolment: this one is refunded and the unit it held goes back on sale.
        release_stock(line.sku_id, line.quantity)
        return _(ALREADY_ENROLLED_REASON)
    return None


def paid_enrolment(order: Any) -> Enrolment | None:
    return (
        Enrolment.objects.select_related("cohort", "course")
        .filter(order_id=order.pk, user_id=order.user_id, status=EnrolmentStatus.ACTIVE)
        .first()
    )


def refund_refusal(order: Any, line: Any, *, now: datetime | None = None) -> DomainError | None:
    enrolment = paid_enrolment(order)
    if enrolment is None:
        return None
    now = now or timezone.now()
    done = LessonProgress.objects.filter(enrolment=enrolment).count()
    if done > REFUND_MAX_LESSONS_DONE:
        return Conflict(_("你已学完 %(done)s 课，课程不能退款") % {"done": done}, code="course_refund_after_study")
    window_start = max(enrolment.enrolled_at, enrolment.cohort.starts_at if enrolment.cohort else enrolment.enrolled_at)
    if now > window_start + REFUND_WINDOW:
        message = _("开营已超过 7 天，课程不能退款") if enrolment.cohort else _("报名已超过 7 天，课程不能退款")
        return Conflict(message, code="course_refund_window_closed")
    return None


def auto_approves_refund(order: Any, line: Any) -> bool:
    enrolment = paid_enrolment(order)
    return (
        enrolment is not None
        and refund_refusal(order, line) is None
        and not LessonProgress.objects.filter(enrolment=enrolment).exists()
    )


def end_paid_enrolment(order: Any, line: Any, amount_fen: int) -> bool:
    """A full refund of the line ends the enrolment it paid for, exactly once; True when it did."""
    if line.refunded_fen < line.total_fen:
        return False  # a partial (goodwill) refund keeps the course; the line already counts this refund
    with transaction.atomic():
        enrolment = (
            Enrolment.objects.select_for_update()
            .filter(order_id=order.pk, user_id=order.user_id, status=EnrolmentStatus.ACTIVE)
            .first()
        )
        if enrolment is None:
            return False
        Enrolment.objects.filter(pk=enrolment.pk).update(status=EnrolmentStatus.REFUNDED, refunded_at=timezone.now())
        _give_back_seat(enrolment.cohort_id)
        cohort = enrolment.cohort
        if cohort is not None and cohort.sku_id is not None and cohort.starts_at > timezone.now():
            release_stock(cohort.sku_id, 1)  # the seat is for sale again
    return True


def landing_path(order: Any) -> str | None:
    line = order.lines.select_related("sku").first()
    if line is None:
        return None
    try:
        course, _ = selectors.course_for_sku(line.sku)
    except CourseNotFound:
        return None
    return course_path(course)
