from django.db import models


class CourseAccess(models.TextChoices):
    MEMBERS_ONLY = "members_only", "成员免费"  # free for active members of the course's community
    PAID = "paid", "付费"  # members of the community buy it through the ordinary checkout


class CourseStatus(models.TextChoices):
    DRAFT = "draft", "草稿"  # visible in the console only
    PUBLISHED = "published", "已发布"  # members of the community see it and may enrol


class LessonKind(models.TextChoices):
    TEXT = "text", "图文"  # sanitised HTML body
    AUDIO = "audio", "音频"  # an uploaded file played on the lesson page, plus optional notes
    VIDEO = "video", "视频"  # an https link to a video platform, plus optional notes


class EnrolmentSource(models.TextChoices):
    MEMBERS_ONLY = "members_only", "成员免费报名"  # enrolled for free as a community member
    PAID = "paid", "付费报名"  # enrolled when an order of the course's product was paid


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "学习中"  # may read the course's open lessons
    REFUNDED = "refunded", "已退款"  # the order was refunded: access ended
