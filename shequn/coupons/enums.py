from django.db import models
from django.utils.translation import gettext_lazy as _


class CouponKind(models.TextChoices):
    THRESHOLD = "threshold", _("满减")  # amount off when the goods in scope reach a threshold
    PERCENT = "percent", _("折扣")  # percentage off the goods in scope, up to a cap
    NO_THRESHOLD = "no_threshold", _("无门槛")  # amount off, whatever the order
    FREE_ITEM = "free_item", _("赠品券")  # one unit of a given SKU in the order is free


class CouponScope(models.TextChoices):
    SHOP = "shop", _("全店商品")  # every goods line of the shop
    CATEGORIES = "categories", _("指定分类")  # lines whose product is in one of the categories
    PRODUCTS = "products", _("指定商品")  # lines of the listed products


class Validity(models.TextChoices):
    FIXED = "fixed", _("固定日期")  # valid between two moments, whenever claimed
    DAYS = "days", _("领取后有效天数")  # valid for N days from the moment it is claimed


class CouponStatus(models.TextChoices):
    CLAIMED = "claimed", _("可使用")  # in the member's hands, not used yet
    USED = "used", _("已使用")  # applied to an order (Order.coupon)
    RETURNED = "returned", _("已退回")  # its order was cancelled or refunded in full: usable again
    EXPIRED = "expired", _("已过期")  # its validity ended before it was used


class CouponSource(models.TextChoices):
    CENTRE = "centre", _("领券中心")  # claimed by the member in the claim centre
    POST = "post", _("帖子")  # claimed from a coupon card in a community post
    STAFF = "staff", _("商家发放")  # issued by staff to a tag or a list of members
    WELCOME = "welcome", _("入群礼")  # issued on joining a community
    BIRTHDAY = "birthday", _("生日礼")  # a member level's birthday coupon (loyalty)
    POINTS = "points", _("积分兑换")  # taken for points in the points shop (loyalty)
    LOTTERY = "lottery", _("抽奖")  # a lottery prize
    RED_PACKET = "red_packet", _("红包")  # a red packet's part, grabbed from a pool paid as coupons


# Usable statuses: a coupon in one of them may be applied while its validity runs.
USABLE_STATUSES = (CouponStatus.CLAIMED, CouponStatus.RETURNED)
