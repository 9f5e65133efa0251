from django.db import models


class PromoterStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "已拒绝"


class Attribution(models.TextChoices):
    FIRST_TOUCH = "first_touch", "首次触达"
    LAST_TOUCH = "last_touch", "最后触达"


class RuleScope(models.TextChoices):
    SHOP = "shop", "全店"
    CATEGORY = "category", "分类"
    PRODUCT = "product", "商品"


class RuleKind(models.TextChoices):
    PERCENT = "percent", "按比例"
    FIXED = "fixed", "固定金额"


class CommissionStatus(models.TextChoices):
    FROZEN = "frozen", "冻结中"
    SETTLED = "settled", "已结算"
    REVERSED = "reversed", "已退回"
