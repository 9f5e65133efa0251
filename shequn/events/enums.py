"""Status constants of events and registrations, each with a one-line meaning."""

from django.db import models
from django.utils.translation import gettext_lazy


class EventStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("草稿")  # being prepared by staff; invisible to members
    PUBLISHED = "published", gettext_lazy("已发布")  # members see it and may sign up
    CANCELLED = "cancelled", gettext_lazy("已取消")  # called off by staff; everyone signed up was told


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", gettext_lazy("已确认")  # holds a seat (free RSVP, or a paid ticket)
    WAITLISTED = "waitlisted", gettext_lazy("候补中")  # the event was full; waits in ``position`` order
    OFFERED = "offered", gettext_lazy("待支付")  # paid events: a freed seat is offered until ``offer_expires_at``
    CANCELLED = "cancelled", gettext_lazy("已取消")  # left the event (or an offer lapsed, or the event was cancelled)
    REFUNDED = "refunded", gettext_lazy("已退款")  # paid ticket refunded; the seat went back


# A member holds at most one live registration per event (the database refuses a second).
LIVE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED)
