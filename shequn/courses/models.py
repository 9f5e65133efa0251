"""Tables of courses: courses with drip lessons, cohorts (训练营), enrolments and progress."""

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .enums import CourseAccess, CourseStatus, EnrolmentSource, EnrolmentStatus, LessonKind


def _audio_path(instance: Any, filename: str) -> str:
    """An unguessable name: lesson audio is served only through the access-checked audio view."""
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    return f"courses/audio/{uuid.uuid4().hex}{suffix}"


class Course(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("communities.Community", on_delete=models.CASCADE, related_name="courses")
    title = models.CharField(max_length=60)
    description = models.TextField(blank=True)  # plain text; templates escape it
    cover = models.ImageField(upload_to="courses/covers/%Y/%m/", blank=True)
    access = models.CharField(max_length=16, choices=CourseAccess.choices, default=CourseAccess.MEMBERS_ONLY)
    price_fen = models.PositiveIntegerField(null=True, blank=True)  # paid courses only
    # The catalog product (kind "course") members buy; one SKU per open cohort, or one for a
    # self-paced course. Kept when the course turns free again (orders hold its SKUs).
    product = models.OneToOneField("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Lesson N opens N-1 such days after the drip start (enrolment or cohort start); 0: all at once.
    drip_interval_days = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=16, choices=CourseStatus.choices, default=CourseStatus.DRAFT)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "-id"]
        indexes = [models.Index(fields=["community", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(access=CourseAccess.MEMBERS_ONLY) | Q(price_fen__gt=0), name="paid_course_has_price"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_paid(self) -> bool:
        return self.access == CourseAccess.PAID


class Lesson(models.Model):
    """One lesson; its number (第 N 课) is its place in (position, id) order, counted from 1."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=60)
    kind = models.CharField(max_length=8, choices=LessonKind.choices, default=LessonKind.TEXT)
    body = models.TextField(blank=True)  # HTML, sanitised on every save (actions.sanitize_html)
    audio = models.FileField(upload_to=_audio_path, blank=True)
    audio_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    video_url = models.URLField(max_length=500, blank=True)  # https only (checked by actions)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def audio_duration_display(self) -> str:
        """mm:ss (minutes may exceed 59)."""
        if self.audio_duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.audio_duration_seconds, 60)
        return f"{minutes:02d}:{seconds:02d}"


class Cohort(models.Model):
    """A 训练营 run of a course: enrolment closes at ``starts_at`` (or when full); the drip counts
    from ``starts_at``; lessons stay readable after ``ends_at``."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(max_length=40)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(null=True, blank=True)  # None: no limit
    # Active enrolments; moves only by conditional single-statement F() updates.
    seats_taken = models.PositiveIntegerField(default=0)
    # The SKU members buy for this cohort (paid courses); its stock holds the seats still for sale.
    sku = models.OneToOneField("catalog.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="unique_cohort_name"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="cohort_ends_after_start"),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(seats_taken__lte=F("capacity")), name="cohort_within_capacity"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Enrolment(models.Model):
    """One row per member and course, never deleted; a refunded row may be bought again."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_enrolments")
    cohort = models.ForeignKey(Cohort, null=True, blank=True, on_delete=models.PROTECT, related_name="enrolments")
    enrolled_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=EnrolmentSource.choices)
    order_id = models.PositiveBigIntegerField(null=True, blank=True)  # orders sit above courses: an id, not a FK
    status = models.CharField(max_length=16, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="unique_course_enrolment")]
        indexes = [models.Index(fields=["order_id"])]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.course_id}"


class LessonProgress(models.Model):
    """A lesson the member marked done; the database refuses a second row."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrolment", "lesson"], name="unique_lesson_progress")]


class LessonUnlockNotice(models.Model):
    """A drip lesson announced to an enrolled member; the database refuses a second row, so a
    member hears about each lesson once however often (or concurrently) the sweeper runs.
    ``run`` marks which sweep inserted the row: that sweep, and only it, sends the message."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="unlock_notices")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="unlock_notices")
    run = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrolment", "lesson"], name="unique_lesson_unlock_notice")]
