from shequn.testing.two_shops import (
    console_client,
    login,
    operator,
    other_console_client,
    other_operator,
    other_shop,
    shop,
)

__all__ = [
    "console_client",
    "login",
    "operator",
    "other_console_client",
    "other_operator",
    "other_shop",
    "shop",
]
