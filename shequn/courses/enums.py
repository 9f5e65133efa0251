from django.db import models
from django.utils.translation import gettext_lazy


class CourseAccess(models.TextChoices):
    MEMBERS_ONLY = "members_only", gettext_lazy("成员免费")  # free for active members of the course's community
    PAID = "paid", gettext_lazy("付费")  # members of the community buy it through the ordinary checkout


class CourseStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("草稿")  # visible in the console only
    PUBLISHED = "published", gettext_lazy("已发布")  # members of the community see it and may enrol


class LessonKind(models.TextChoices):
    TEXT = "text", gettext_lazy("图文")  # sanitised HTML body
    AUDIO = "audio", gettext_lazy("音频")  # an uploaded file played on the lesson page, plus optional notes
    VIDEO = "video", gettext_lazy("视频")  # an https link to a video platform, plus optional notes


class EnrolmentSource(models.TextChoices):
    MEMBERS_ONLY = "members_only", gettext_lazy("成员免费报名")  # enrolled for free as a community member
    PAID = "paid", gettext_lazy("付费报名")  # enrolled when an order of the course's product was paid


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("学习中")  # may read the course's open lessons
    REFUNDED = "refunded", gettext_lazy("已退款")  # the order was refunded: access ended
