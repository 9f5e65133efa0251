from datetime import datetime
from typing import Any

from ninja import Schema

from shequn.core.schemas import Fen, Id, PageQuery


class StoredValueShopQuery(PageQuery):
    shop_id: Id


class StoredValueBalancesOut(Schema):
    shop_id: int
    principal_fen: int
    bonus_fen: int
    spendable_fen: int  # red packets: spendable at checkout, never withdrawn
    refunding_fen: int  # principal asked back, on its way through the gateway
    usable_fen: int  # what checkout may take


class TopUpPlanOut(Schema):
    id: int
    shop_id: int
    sku_id: int  # buy it like any product: POST /api/v1/orders with this SKU
    principal_fen: int
    bonus_fen: int
    active: bool

    @staticmethod
    def from_model(plan: Any) -> "TopUpPlanOut":
        sku = plan.product.skus.all()[0]
        return TopUpPlanOut(
            id=plan.pk,
            shop_id=plan.shop_id,
            sku_id=sku.pk,
            principal_fen=plan.principal_fen,
            bonus_fen=plan.bonus_fen,
            active=plan.active,
        )


class StoredValueMovementOut(Schema):
    at: datetime
    account: str  # stored_principal, stored_bonus, spendable, stored_refunding
    amount_fen: int  # signed
    memo: str


class PrincipalRefundOut(Schema):
    asked_fen: int


class TopUpPlanIn(Schema):
    principal_fen: Fen
    bonus_fen: Fen = 0


class TopUpPlanActiveIn(Schema):
    active: bool


class StoredValueMemberOut(Schema):
    member_id: int
    principal_fen: int
    bonus_fen: int
    spendable_fen: int
    refunding_fen: int
    owed_fen: int


class StoredValueLiabilitiesOut(Schema):
    principal_fen: int
    bonus_fen: int
    spendable_fen: int
    refunding_fen: int
    owed_fen: int
