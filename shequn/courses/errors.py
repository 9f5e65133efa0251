"""Stable error codes of courses. Codes never change once shipped."""

from shequn.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class CourseNotFound(NotFound):
    """Also what non-members see: members-only content looks absent."""

    code = "course_not_found"


class LessonNotFound(NotFound):
    code = "lesson_not_found"


class CohortNotFound(NotFound):
    code = "cohort_not_found"


class LessonLocked(PermissionDenied):
    """A drip lesson whose day has not come yet; ``details`` carry ``day`` and ``opens_at``."""

    code = "lesson_locked"


class NotEnrolled(PermissionDenied):
    code = "not_enrolled"


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"


class EnrolmentClosed(Conflict):
    """The course is not published, or the chosen cohort has started."""

    code = "enrolment_closed"


class CohortFull(Conflict):
    code = "cohort_full"


class PurchaseRequired(Conflict):
    """A paid course is joined by buying it, not by the free enrol button."""

    code = "purchase_required"


class CourseInUse(Conflict):
    """A course or cohort with enrolments cannot be deleted (unpublish it instead)."""

    code = "course_in_use"


class InvalidCourse(InvalidInput):
    code = "invalid_course"


class InvalidLesson(InvalidInput):
    code = "invalid_lesson"


class InvalidCohort(InvalidInput):
    code = "invalid_cohort"
