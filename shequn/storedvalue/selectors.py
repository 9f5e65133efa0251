"""Reads of stored value: a member's balances and history, plans, the console's member balances
and the liabilities report, and the invariants a state machine checks (``books_balance``)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum

from shequn.shops.models import Shop
from shequn.wallets.enums import AccountKind
from shequn.wallets.models import Account, Entry

from .models import BalanceCharge, TopUpPlan

# What a member is owed in stored value: spendable at checkout, or on its way back.
MEMBER_KINDS = (
    AccountKind.STORED_PRINCIPAL,
    AccountKind.STORED_BONUS,
    AccountKind.SPENDABLE,
    AccountKind.STORED_REFUNDING,
)


@dataclass(frozen=True)
class Balances:
    principal_fen: int = 0
    bonus_fen: int = 0
    spendable_fen: int = 0  # red packets: spendable at checkout, never withdrawn
    refunding_fen: int = 0  # principal asked back, the gateway still refunding it

    @property
    def usable_fen(self) -> int:
        """What checkout may take."""
        return self.principal_fen + self.bonus_fen + self.spendable_fen

    @property
    def owed_fen(self) -> int:
        return self.usable_fen + self.refunding_fen


def _balances(rows: dict[str, int]) -> Balances:
    return Balances(
        principal_fen=rows.get(AccountKind.STORED_PRINCIPAL, 0),
        bonus_fen=rows.get(AccountKind.STORED_BONUS, 0),
        spendable_fen=rows.get(AccountKind.SPENDABLE, 0),
        refunding_fen=rows.get(AccountKind.STORED_REFUNDING, 0),
    )


def member_balances(shop: Any, member: Any) -> Balances:
    rows = Account.objects.filter(shop=shop, holder=member, kind__in=MEMBER_KINDS).values_list("kind", "balance_fen")
    return _balances(dict(rows))


def member_shops(member: Any) -> QuerySet[Shop]:
    """Shops where the member holds stored value (or held it) or may top up."""
    return (
        Shop.objects.filter(
            Q(ledger_accounts__holder=member, ledger_accounts__kind__in=MEMBER_KINDS)
            | Q(pk__in=TopUpPlan.objects.filter(active=True).values("shop_id"))
        )
        .distinct()
        .order_by("id")
    )


def active_plans(shop: Any) -> QuerySet[TopUpPlan]:
    return TopUpPlan.objects.filter(shop=shop, active=True).prefetch_related("product__skus")


def shop_plans(shop: Shop) -> QuerySet[TopUpPlan]:
    return TopUpPlan.objects.filter(shop=shop).order_by("-active", "principal_fen", "id")


def member_history(shop: Any, member: Any) -> QuerySet[Entry]:
    """The member's stored-value movements in ``shop``, newest first (kept with the ledger: never deleted)."""
    return (
        Entry.objects.filter(account__shop=shop, account__holder=member, account__kind__in=MEMBER_KINDS)
        .select_related("transaction", "account")
        .order_by("-id")
    )


def charge_of(order: Any) -> BalanceCharge | None:
    return BalanceCharge.objects.filter(order_id=order.pk).first()


def member_balance_rows(shop: Shop) -> QuerySet[Any]:
    """The console's member balances: one row per member holding stored value, largest first."""
    return (
        Account.objects.filter(shop=shop, holder__isnull=False, kind__in=MEMBER_KINDS)
        .values("holder_id", "holder__phone", "holder__nickname")
        .annotate(
            principal_fen=Sum("balance_fen", filter=Q(kind=AccountKind.STORED_PRINCIPAL)),
            bonus_fen=Sum("balance_fen", filter=Q(kind=AccountKind.STORED_BONUS)),
            spendable_fen=Sum("balance_fen", filter=Q(kind=AccountKind.SPENDABLE)),
            refunding_fen=Sum("balance_fen", filter=Q(kind=AccountKind.STORED_REFUNDING)),
            owed_fen=Sum("balance_fen"),
        )
        .filter(owed_fen__gt=0)
        .order_by("-owed_fen", "holder_id")
    )


def liabilities(shop: Shop) -> Balances:
    """Outstanding stored value of the shop: what its members' accounts hold, by kind (one query)."""
    rows = (
        Account.objects.filter(shop=shop, holder__isnull=False, kind__in=MEMBER_KINDS)
        .values("kind")
        .annotate(total=Sum("balance_fen"))
        .values_list("kind", "total")
    )
    return _balances(dict(rows))


def liabilities_from_entries(shop: Shop) -> Balances:
    """The same figures summed from the ledger's entries (what the report must equal)."""
    rows = (
        Entry.objects.filter(account__shop=shop, account__holder__isnull=False, account__kind__in=MEMBER_KINDS)
        .values("account__kind")
        .annotate(total=Sum("amount_fen"))
        .values_list("account__kind", "total")
    )
    return _balances(dict(rows))


def books_balance(shop: Shop) -> list[str]:
    """The stored-value invariants of a shop's books; an empty list when they hold:
    every account's balance is the sum of its entries, every transaction sums to zero, no member
    balance is negative, and the balance charges agree with the BALANCE_SALES account."""
    problems: list[str] = []
    accounts = Account.objects.filter(shop=shop).annotate(entries_total=Sum("entries__amount_fen"))
    for account in accounts:
        if account.balance_fen != (account.entries_total or 0):
            problems.append(f"account {account.pk} ({account.kind}) balance {account.balance_fen} != entries")
        if account.holder_id is not None and account.kind in MEMBER_KINDS and account.balance_fen < 0:
            problems.append(f"account {account.pk} ({account.kind}) is negative: {account.balance_fen}")
    unbalanced = (
        Entry.objects.filter(transaction__shop=shop)
        .values("transaction_id")
        .annotate(total=Sum("amount_fen"))
        .exclude(total=0)
    )
    problems += [f"transaction {row['transaction_id']} sums to {row['total']}" for row in unbalanced]
    charges = BalanceCharge.objects.filter(shop=shop)
    held = sum(sum(charge.left) for charge in charges)
    sales = Account.objects.filter(shop=shop, holder__isnull=True, kind=AccountKind.BALANCE_SALES)
    sales_fen = next(iter(sales.values_list("balance_fen", flat=True)), 0)
    if held != sales_fen:
        problems.append(f"balance charges hold {held}, BALANCE_SALES holds {sales_fen}")
    return problems
