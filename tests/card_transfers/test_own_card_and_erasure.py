"""A transfer to someone else's card refuses the payer's own bound card (before the PIN,
nothing changed), and the stored full card number is erased once the transfer is final --
succeeded, failed or cancelled -- while a scheduled or pending one keeps it (both
databases, the sandbox bank over HTTP)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from ewallet.funding.withdrawals.jobs import settle_pending_withdrawals
from ewallet.models.tables import (
    card_transfers,
    ledger_holds,
    ledger_transactions,
    notifications,
    spend_records,
    users,
)
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import PIN, TestUser, assert_problem
from tests.fixtures.withdrawals import ICBC, Withdrawing

LI_NA = TEST_CARDS[2]  # approves; the amount's fen part picks a failure (.52: lost answer)
YANG_LEI = next(card for card in TEST_CARDS if card.holder_name == "杨磊")  # declines


async def send(
    h: Withdrawing,
    user: TestUser,
    amount: str,
    *,
    card: Any = LI_NA,
    arrival: str = "realtime",
    pin: str = PIN,
    key: str | None = None,
    locale: str = "zh-CN",
) -> httpx.Response:
    body = {
        "card_number": card.number,
        "payee_name": card.holder_name,
        "amount": amount,
        "payment_password": pin,
        "arrival": arrival,
    }
    headers = h.auth(
        user,
        **{"Idempotency-Key": key or f"own-{amount}-{arrival}", "Accept-Language": locale},
    )
    return await h.client.post("/v1/card-transfers", json=body, headers=headers)


async def everything(h: Withdrawing) -> dict[str, int]:
    async with h.engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (
                card_transfers,
                ledger_holds,
                ledger_transactions,
                notifications,
                spend_records,
            )
        }


async def stored_number(h: Withdrawing, transfer_id: str) -> str:
    async with h.engine.connect() as conn:
        value = await conn.scalar(
            select(card_transfers.c.card_number_encrypted).where(card_transfers.c.id == transfer_id)
        )
    assert value is not None
    return str(value)


async def test_the_payers_own_card_is_refused_before_the_pin_and_nothing_changes(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000031", ICBC, "1000.00")
    before = (await everything(h), await h.balance(user))

    preview = await h.client.post(
        "/v1/card-transfers/preview",
        json={"card_number": ICBC.number, "amount": "10.00"},
        headers=h.auth(user, **{"Accept-Language": "en"}),
    )
    assert_problem(preview, 422, "card_is_own")
    assert "withdraw" in preview.json()["detail"]

    # A wrong PIN is never looked at: the card is refused first, no attempt is spent.
    refused = await send(h, user, "10.00", card=ICBC, pin="000000", key="mine")
    assert_problem(refused, 422, "card_is_own")
    assert refused.json()["title"] == "这是您自己绑定的银行卡"
    assert "提现" in refused.json()["detail"]
    assert (await everything(h), await h.balance(user)) == before
    async with h.engine.connect() as conn:
        failures = await conn.scalar(select(users.c.payment_failures).where(users.c.id == user.id))
    assert failures == 0

    # Someone else's card goes through as before; a withdrawal to the own card too.
    sent = await send(h, user, "10.00", key="theirs")
    assert sent.status_code == 201, sent.text
    withdrawn = await h.withdraw(user, card_id, "10.00")
    assert withdrawn.status_code == 201, withdrawn.text


async def test_a_card_no_longer_bound_is_someone_elses_again(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000032", ICBC, "1000.00")
    unbound = await h.client.post(
        f"/v1/me/cards/{card_id}/unbind", json={"payment_password": PIN}, headers=h.auth(user)
    )
    assert unbound.status_code == 204, unbound.text
    sent = await send(h, user, "10.00", card=ICBC)
    assert sent.status_code == 201, sent.text
    assert sent.json()["card_transfer"]["status"] == "succeeded"


async def test_the_number_is_erased_when_a_transfer_succeeds_or_fails(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000033", ICBC, "1000.00")
    paid = await send(h, user, "20.00")
    assert paid.status_code == 201, paid.text
    assert await stored_number(h, paid.json()["card_transfer"]["id"]) == ""

    declined = await send(h, user, "30.00", card=YANG_LEI)
    assert_problem(declined, 402, "bank_declined")
    async with h.engine.connect() as conn:
        failed = (
            await conn.execute(select(card_transfers).where(card_transfers.c.status == "failed"))
        ).one()
    assert failed.card_number_encrypted == ""
    # What the payer reads is unchanged: the last four, the bank, the masked name.
    shown = await h.client.get(
        f"/v1/card-transfers/{paid.json()['card_transfer']['id']}", headers=h.auth(user)
    )
    assert shown.json()["card_transfer"]["card_last_four"] == LI_NA.number[-4:]


async def test_scheduled_and_pending_transfers_keep_the_number_until_final(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000034", ICBC, "1000.00")
    scheduled = (await send(h, user, "40.00", arrival="2h")).json()["card_transfer"]
    kept = await stored_number(h, scheduled["id"])
    assert kept != ""
    assert LI_NA.number not in kept  # encrypted, never the number itself
    cancelled = await h.client.post(
        f"/v1/card-transfers/{scheduled['id']}/cancel",
        headers=h.auth(user, **{"Idempotency-Key": "cancel"}),
    )
    assert cancelled.json()["card_transfer"]["status"] == "cancelled"
    assert await stored_number(h, scheduled["id"]) == ""

    pending = await send(h, user, "50.52")  # .52: paid at the bank, then the answer is lost
    assert pending.status_code == 202, pending.text
    pending_id = pending.json()["card_transfer"]["id"]
    assert await stored_number(h, pending_id) != ""
    h.clock.advance(timedelta(minutes=1))
    await settle_pending_withdrawals(h.services)
    async with h.engine.connect() as conn:
        row = (
            await conn.execute(select(card_transfers).where(card_transfers.c.id == pending_id))
        ).one()
    assert (row.status, row.card_number_encrypted) == ("succeeded", "")
    assert await h.balance(user) == Decimal("1000.00") - Decimal("50.52")
