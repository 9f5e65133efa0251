"""API schemas of the privacy app."""

from typing import Literal

from ninja import Field, Schema

from shequn.core.schemas import Text


class ExportQuery(Schema):
    format: Literal["json", "csv"] = "json"  # csv: a zip holding one CSV per table


class DeletionBlockerOut(Schema):
    code: str  # e.g. unpaid_orders, undelivered_orders, open_refunds, wallet_balance
    message: str  # what stands in the way and what to do about it


class DeletionCheckOut(Schema):
    can_delete: bool
    blockers: list[DeletionBlockerOut]
    kept: str  # what is kept after deletion, and why
    forfeited_fen: int  # non-withdrawable balances (red packets) the deletion gives up


class DeletionIn(Schema):
    code: Text = Field(..., max_length=16)  # the code texted by POST /me/deletion/code


class DeletionDoneOut(Schema):
    deleted: bool = True
