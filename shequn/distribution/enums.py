from django.db import models
from django.utils.translation import gettext_lazy as _


class PromoterStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已拒绝")


class Attribution(models.TextChoices):
    FIRST_TOUCH = "first_touch", _("首次触达")
    LAST_TOUCH = "last_touch", _("最后触达")


class RuleScope(models.TextChoices):
    SHOP = "shop", _("全店")
    CATEGORY = "category", _("分类")
    PRODUCT = "product", _("商品")


class RuleKind(models.TextChoices):
    PERCENT = "percent", _("按比例")
    FIXED = "fixed", _("固定金额")


class CommissionStatus(models.TextChoices):
    FROZEN = "frozen", _("冻结中")
    SETTLED = "settled", _("已结算")
    REVERSED = "reversed", _("已退回")
