from django.db import models
from django.utils.translation import gettext_lazy


class StaffRole(models.TextChoices):
    OWNER = "owner", gettext_lazy("店主")  # everything, including staff and roles
    ADMIN = "admin", gettext_lazy("管理员")  # everything but transferring ownership
    OPERATOR = "operator", gettext_lazy("运营")  # catalog, communities, posts, order fulfilment
    SERVICE = "service", gettext_lazy("客服")  # orders and after-sales, members
    FINANCE = "finance", gettext_lazy("财务")  # payments, refunds, figures


class ShopStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("营业中")  # members shop, orders accepted
    SUSPENDED = "suspended", gettext_lazy("已暂停")  # platform paused it: pages say so, no orders, console read-only
    CLOSED = "closed", gettext_lazy("已关闭")  # platform closed it: as suspended, and hidden from the shop directory


class ShopCategory(models.TextChoices):
    FRESH = "fresh", gettext_lazy("生鲜果蔬")
    GROCERY = "grocery", gettext_lazy("食品百货")
    MOTHER_BABY = "mother_baby", gettext_lazy("母婴亲子")
    BEAUTY = "beauty", gettext_lazy("美妆个护")
    HOME = "home", gettext_lazy("家居日用")
    EDUCATION = "education", gettext_lazy("教育培训")
    SERVICES = "services", gettext_lazy("本地生活服务")
    OTHER = "other", gettext_lazy("其他")
