"""The console menu: a link is shown only to staff whose role may open the page.

    {% load console_menu %}{% console_link 'orders:console_orders' '订单' %}

The permission is the one the page's ``console_view`` requires (read from the view), so the menu
and the page cannot disagree.
"""

from functools import cache

from django import template
from django.urls import resolve, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from shequn.shops.permissions import role_allows

register = template.Library()


@register.simple_tag(takes_context=True)
def console_link(context: template.Context, url_name: str, label: str) -> SafeString | str:
    request = context.get("request")
    staff = getattr(request, "staff", None)
    if request is None or staff is None:
        return ""
    path = reverse(url_name)
    permission = _permission_of(url_name)
    if permission is not None and not role_allows(staff.role, permission):
        return ""
    if request.path == path:
        return format_html('<a href="{}" aria-current="page">{}</a>', path, label)
    return format_html('<a href="{}">{}</a>', path, label)


@cache
def _permission_of(url_name: str) -> str | None:
    """The permission the named page's view requires, resolved once per process (the URL table
    does not change while it runs): resolving every menu link on every console page cost more
    than the rest of the menu."""
    return getattr(resolve(reverse(url_name)).func, "console_permission", None)
