"""What each staff role may do. Checked by ``shops.selectors.require_permission``."""

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .enums import StaffRole

# Permission names are "<area>.<verb>".
VIEW_DASHBOARD = "dashboard.view"
MANAGE_CATALOG = "catalog.manage"
MANAGE_COMMUNITIES = "communities.manage"
VIEW_ORDERS = "orders.view"
FULFIL_ORDERS = "orders.fulfil"  # ship, mark ready, picked up
CONFIRM_COD = "orders.confirm_cod"
DECIDE_REFUNDS = "refunds.decide"
VIEW_MEMBERS = "members.view"
MANAGE_STAFF = "staff.manage"
VIEW_AUDIT = "audit.view"
MANAGE_SHOP = "shop.manage"
MANAGE_DELIVERY_SLOTS = "delivery_slots.manage"  # create, edit and close delivery slots
CONFIGURE_PAYMENTS = "payments.configure"  # the shop's own WeChat Pay merchant keys: the owner only

# What the console shows next to each permission.
LABELS: dict[str, str | Promise] = {
    VIEW_DASHBOARD: gettext_lazy("查看概览"),
    MANAGE_CATALOG: gettext_lazy("管理商品"),
    MANAGE_COMMUNITIES: gettext_lazy("管理社群"),
    VIEW_ORDERS: gettext_lazy("查看订单"),
    FULFIL_ORDERS: gettext_lazy("发货与自提"),
    CONFIRM_COD: gettext_lazy("确认货到付款"),
    DECIDE_REFUNDS: gettext_lazy("处理售后"),
    VIEW_MEMBERS: gettext_lazy("查看会员"),
    MANAGE_STAFF: gettext_lazy("管理员工"),
    VIEW_AUDIT: gettext_lazy("查看操作日志"),
    MANAGE_SHOP: gettext_lazy("店铺设置与自提点"),
    MANAGE_DELIVERY_SLOTS: gettext_lazy("管理配送时段"),
    CONFIGURE_PAYMENTS: gettext_lazy("配置微信支付商户"),
}

ALL = frozenset(
    {
        VIEW_DASHBOARD,
        MANAGE_CATALOG,
        MANAGE_COMMUNITIES,
        VIEW_ORDERS,
        FULFIL_ORDERS,
        CONFIRM_COD,
        DECIDE_REFUNDS,
        VIEW_MEMBERS,
        MANAGE_STAFF,
        VIEW_AUDIT,
        MANAGE_SHOP,
        MANAGE_DELIVERY_SLOTS,
        CONFIGURE_PAYMENTS,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    StaffRole.OWNER: ALL,
    StaffRole.ADMIN: ALL - {CONFIGURE_PAYMENTS},
    StaffRole.OPERATOR: frozenset(
        {
            VIEW_DASHBOARD,
            MANAGE_CATALOG,
            MANAGE_COMMUNITIES,
            VIEW_ORDERS,
            FULFIL_ORDERS,
            VIEW_MEMBERS,
            MANAGE_DELIVERY_SLOTS,
        }
    ),
    StaffRole.SERVICE: frozenset({VIEW_DASHBOARD, VIEW_ORDERS, FULFIL_ORDERS, DECIDE_REFUNDS, VIEW_MEMBERS}),
    StaffRole.FINANCE: frozenset({VIEW_DASHBOARD, VIEW_ORDERS, CONFIRM_COD, DECIDE_REFUNDS, VIEW_AUDIT}),
}


def role_allows(role: str, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def roles_allowed(permission: str) -> list[str]:
    """The roles that hold ``permission``, in the order of StaffRole (owner first)."""
    return [role for role in StaffRole.values if role_allows(role, permission)]


def required_roles_hint(permission: str) -> str:
    """``"需要店主、管理员或财务角色"``: who can do it, for a disabled button or a 403 page."""
    labels = [str(StaffRole(role).label) for role in roles_allowed(permission)]
    if not labels:
        return ""
    names = labels[0] if len(labels) == 1 else _("、").join(labels[:-1]) + _("或") + labels[-1]
    return _("需要%(names)s角色") % {"names": names}
