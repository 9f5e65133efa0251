from django.db import models
from django.utils.translation import gettext_lazy


class BusinessSubject(models.TextChoices):
    INDIVIDUAL = "individual", gettext_lazy("个人")  # a person selling on their own: no licence asked
    SOLE_PROPRIETOR = "sole_proprietor", gettext_lazy("个体工商户")  # licence with a unified social credit code
    COMPANY = "company", gettext_lazy("企业")  # licence with a unified social credit code


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("待审核")  # waiting for a platform admin
    APPROVED = "approved", gettext_lazy("已通过")  # the shop exists and the applicant owns it
    REJECTED = "rejected", gettext_lazy("未通过")  # refused with a reason; the applicant may apply again
