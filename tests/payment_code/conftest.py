"""Payment-code tests: the shop harness of tests/payments plus codes, charges and a full
"nothing changed" snapshot that covers every table a charge could write."""

from __future__ import annotations

from typing import Any, cast

import httpx
from sqlalchemy import Table

from ewallet.identity.protection import unfreeze_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.merchants.service import NewMerchant
from ewallet.models.payment_codes import PaymentCodeCharge, PaymentCodeSecret
from tests.payments.conftest import (
    PIN,
    Shop,
    TestUser,
    clock,
    ledger_transactions,
    orders,
    payments,
    shop,
    spend_records,
)

__all__ = ["PIN", "Shop", "TestUser", "clock", "shop"]

code_charges = cast(Table, PaymentCodeCharge.__table__)
code_secrets = cast(Table, PaymentCodeSecret.__table__)
CODE = "/v1/me/payment-code"
CHARGES = "/v1/merchant/charges"


async def show_code(shop: Shop, user: TestUser) -> str:
    response = await shop.client.get(CODE, headers=shop.auth(user))
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


async def charge(
    shop: Shop,
    merchant: NewMerchant,
    code: str,
    amount: str = "12.00",
    *,
    out_trade_no: str | None = None,
    key: str | None = None,
    **fields: Any,
) -> httpx.Response:
    number = out_trade_no or f"PC-{code}-{amount}"
    body = {"payment_code": code, "amount": amount, "out_trade_no": number, **fields}
    headers = shop.key(merchant, **{"Idempotency-Key": key or f"charge-{number}"})
    return await shop.client.post(CHARGES, json=body, headers=headers)


async def confirm(
    shop: Shop, user: TestUser, challenge_id: str, pin: str = PIN, *, key: str | None = None
) -> httpx.Response:
    return await shop.client.post(
        f"{CODE}/confirmations/{challenge_id}",
        json={"payment_password": pin},
        headers=shop.auth(user, **{"Idempotency-Key": key or f"confirm-{challenge_id}-{pin}"}),
    )


async def everything(shop: Shop, user: TestUser) -> dict[str, Any]:
    """What a refused charge must leave as it was: the user and side effects, orders,
    payments, charges (used codes), spend records, the ledger and every balance."""
    return {
        **await shop.snapshot(user),
        "orders": await shop.count(orders),
        "payments": await shop.count(payments),
        "charges": await shop.count(code_charges),
        "spend_records": await shop.count(spend_records),
        "ledger_transactions": await shop.count(ledger_transactions),
        "ledger_accounts": await shop._balances(),
    }


async def unfreeze(shop: Shop, user: TestUser) -> None:
    async def work(uow: UnitOfWork) -> None:
        await unfreeze_user(
            uow, clock=shop.clock, user_id=user.id, staff_id="stf_1", reason="owner at counter"
        )

    await run_unit(shop.engine, work)
