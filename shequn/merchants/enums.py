from django.db import models


class BusinessSubject(models.TextChoices):
    INDIVIDUAL = "individual", "个人"  # a person selling on their own: no licence asked
    SOLE_PROPRIETOR = "sole_proprietor", "个体工商户"  # licence with a unified social credit code
    COMPANY = "company", "企业"  # licence with a unified social credit code


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "待审核"  # waiting for a platform admin
    APPROVED = "approved", "已通过"  # the shop exists and the applicant owns it
    REJECTED = "rejected", "未通过"  # refused with a reason; the applicant may apply again
