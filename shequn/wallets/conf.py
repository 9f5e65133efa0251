"""Wallet settings, each overridable in Django settings (tests use override_settings)."""

from django.conf import settings


def min_withdrawal_fen() -> int:
    return int(getattr(settings, "WALLETS_MIN_WITHDRAWAL_FEN", 100))  # ¥1


def daily_withdrawal_limit_fen() -> int:
    return int(getattr(settings, "WALLETS_DAILY_WITHDRAWAL_LIMIT_FEN", 500_000))  # ¥5,000 per holder per day


def second_approval_above_fen() -> int:
    return int(getattr(settings, "WALLETS_SECOND_APPROVAL_ABOVE_FEN", 100_000))  # above ¥1,000: two approvers


def payout_gateway_name() -> str:
    return str(getattr(settings, "WALLETS_PAYOUT_GATEWAY", "sandbox"))


def sandbox_payout_key() -> bytes:
    key = getattr(settings, "WALLETS_SANDBOX_PAYOUT_KEY", "") or f"payout-sandbox:{settings.SECRET_KEY}"
    return str(key).encode()


def sandbox_payout_delay_seconds() -> int:
    return int(getattr(settings, "WALLETS_SANDBOX_PAYOUT_DELAY_SECONDS", 5))


def reconcile_after_minutes() -> int:
    return int(getattr(settings, "WALLETS_RECONCILE_AFTER_MINUTES", 10))
