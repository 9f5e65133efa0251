from django.db import models


class StaffRole(models.TextChoices):
    OWNER = "owner", "店主"  # everything, including staff and roles
    ADMIN = "admin", "管理员"  # everything but transferring ownership
    OPERATOR = "operator", "运营"  # catalog, communities, posts, order fulfilment
    SERVICE = "service", "客服"  # orders and after-sales, members
    FINANCE = "finance", "财务"  # payments, refunds, figures
