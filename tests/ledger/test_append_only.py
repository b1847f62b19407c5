"""Postings and transactions are append-only in the database itself, on both backends.

Migration 0002 puts triggers on both tables: any UPDATE or DELETE raises, whoever issues
it, and leaves every row as it was; the ledger's own INSERTs keep working.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.ledger import Ledger, TransactionKind
from ewallet.ledger.verify import verify_ledger
from tests.ledger.conftest import Chart, cny

TABLES = ("ledger_postings", "ledger_transactions")

REFUSED = [
    pytest.param(
        "UPDATE",
        "ledger_postings",
        "UPDATE ledger_postings SET amount = amount + 1"
        " WHERE id = (SELECT MIN(id) FROM ledger_postings)",
        id="update-posting-amount",
    ),
    pytest.param(
        "UPDATE",
        "ledger_postings",
        "UPDATE ledger_postings SET balance_after = 0",
        id="update-every-posting",
    ),
    pytest.param(
        "DELETE",
        "ledger_postings",
        "DELETE FROM ledger_postings WHERE id = (SELECT MAX(id) FROM ledger_postings)",
        id="delete-posting",
    ),
    pytest.param(
        "DELETE", "ledger_postings", "DELETE FROM ledger_postings", id="delete-all-postings"
    ),
    pytest.param(
        "UPDATE",
        "ledger_transactions",
        "UPDATE ledger_transactions SET kind = 'adjustment' WHERE idempotency_key = 'transfer-1'",
        id="update-transaction",
    ),
    pytest.param(
        "DELETE",
        "ledger_transactions",
        "DELETE FROM ledger_transactions WHERE idempotency_key = 'transfer-1'",
        id="delete-transaction",
    ),
]


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as connection:
        return {
            table: [
                tuple(row)
                for row in await connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            ]
            for table in (*TABLES, "ledger_accounts")
        }


async def fill(ledger: Ledger, chart: Chart) -> str:
    """A top-up and a transfer: four postings, two transactions. Returns the transfer's id."""
    await ledger.transfer(
        key="topup-1",
        debit_account_id=chart.bank.id,
        credit_account_id=chart.alice.id,
        amount=cny("100.00"),
        kind=TransactionKind.TOPUP,
    )
    transfer = await ledger.transfer(
        key="transfer-1",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bob.id,
        amount=cny("30.00"),
    )
    return transfer.id


@pytest.mark.parametrize(("operation", "table", "statement"), REFUSED)
async def test_update_and_delete_are_refused_and_change_nothing(
    ledger: Ledger, chart: Chart, engine: AsyncEngine, operation: str, table: str, statement: str
) -> None:
    await fill(ledger, chart)
    before = await snapshot(engine)
    assert len(before["ledger_postings"]) == 4
    assert len(before["ledger_transactions"]) == 2

    with pytest.raises(IntegrityError, match=f"append-only: {operation} on {table} refused"):
        async with engine.begin() as connection:
            await connection.execute(text(statement))

    assert await snapshot(engine) == before
    assert (await verify_ledger(engine)).clean


async def test_refusal_rolls_back_the_whole_transaction(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    await fill(ledger, chart)
    before = await snapshot(engine)

    async def cover_up() -> None:
        # Fix the cached balance first, then rewrite the posting to match it.
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE ledger_accounts SET posted = posted + 100 WHERE id = :id"),
                {"id": chart.bob.id},
            )
            await connection.execute(
                text("UPDATE ledger_postings SET amount = amount - 100 WHERE account_id = :id"),
                {"id": chart.bob.id},
            )

    with pytest.raises(IntegrityError, match="append-only: UPDATE on ledger_postings refused"):
        await cover_up()

    assert await snapshot(engine) == before


async def test_inserts_through_the_ledger_still_work(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    transfer_id = await fill(ledger, chart)
    before = await snapshot(engine)

    reversal = await ledger.reverse(key="undo-1", transaction_id=transfer_id)
    hold = await ledger.create_hold(
        key="hold-1",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.merchant.id,
        amount=cny("10.00"),
        kind=TransactionKind.PAYMENT,
    )
    capture = await ledger.post_hold(key="capture-1", hold_id=hold.id)

    after = await snapshot(engine)
    # The old rows are untouched; the new ones were appended after them.
    assert after["ledger_postings"][:4] == before["ledger_postings"]
    assert {row[1] for row in after["ledger_postings"][4:]} == {reversal.id, capture.id}
    assert len(after["ledger_postings"]) == 8
    old = {row[0]: row for row in before["ledger_transactions"]}
    new = {row[0]: row for row in after["ledger_transactions"]}
    assert {id_: new[id_] for id_ in old} == old
    assert new.keys() - old.keys() == {reversal.id, capture.id}
    assert (await ledger.account(chart.alice.id)).posted == 9000
    assert (await verify_ledger(engine)).clean
