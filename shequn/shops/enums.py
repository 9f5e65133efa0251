from django.db import models


class StaffRole(models.TextChoices):
    OWNER = "owner", "店主"  # everything, including staff and roles
    ADMIN = "admin", "管理员"  # everything but transferring ownership
    OPERATOR = "operator", "运营"  # catalog, communities, posts, order fulfilment
    SERVICE = "service", "客服"  # orders and after-sales, members
    FINANCE = "finance", "财务"  # payments, refunds, figures


class ShopStatus(models.TextChoices):
    ACTIVE = "active", "营业中"  # members shop, orders accepted
    SUSPENDED = "suspended", "已暂停"  # platform paused it: pages say so, no orders, console read-only
    CLOSED = "closed", "已关闭"  # platform closed it: as suspended, and hidden from the shop directory


class ShopCategory(models.TextChoices):
    FRESH = "fresh", "生鲜果蔬"
    GROCERY = "grocery", "食品百货"
    MOTHER_BABY = "mother_baby", "母婴亲子"
    BEAUTY = "beauty", "美妆个护"
    HOME = "home", "家居日用"
    EDUCATION = "education", "教育培训"
    SERVICES = "services", "本地生活服务"
    OTHER = "other", "其他"
