"""Top-ups from a bank card and withdrawals to it count as a person's transfers in and out
(through the app's sandbox bank, on SQLite and PostgreSQL); the card shows as its bank and
last four digits only."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.risk.aml.service import collect_large_value
from ewallet.risk.limits import CHINA_TIME
from tests.fixtures.accounts import PIN
from tests.fixtures.withdrawals import ICBC, withdrawing_harness


async def test_card_topup_and_withdrawal_are_transfers_in_and_out(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    async with withdrawing_harness(engine, settings, clock) as bank:
        user, card_id = await bank.customer("+8613800000051", ICBC, "0")
        body = {"method": "card", "card_id": card_id, "amount": "600.00", "payment_password": PIN}
        topped = await bank.client.post(
            "/v1/topups",
            json=body,
            headers=bank.auth(user, **{"Idempotency-Key": "top-1"}),
        )
        assert topped.status_code == 201, topped.text
        assert topped.json()["topup"]["status"] == "succeeded"
        withdrawn = await bank.withdraw(user, card_id, "500.00")
        assert withdrawn.status_code == 201, withdrawn.text
        assert withdrawn.json()["withdrawal"]["status"] == "succeeded"

        lowered = dataclasses.replace(
            bank.services,
            settings=bank.settings.model_copy(
                update={"aml_person_transfer_threshold_minor": 500_00}
            ),
        )
        day = clock.now().astimezone(CHINA_TIME).date()
        result = await collect_large_value(lowered, day)
        groups = {(g.category, g.subject_id): g for g in result.groups}
        assert set(groups) == {("transfer_in", user.id), ("transfer_out", user.id)}
        (topup,) = groups[("transfer_in", user.id)].movements
        assert (topup.channel, topup.direction, topup.amount) == (
            "card_topup",
            "in",
            Money.parse("600.00"),
        )
        (withdrawal,) = groups[("transfer_out", user.id)].movements
        assert (withdrawal.channel, withdrawal.counterparty_type) == (
            "bank_card_withdrawal",
            "bank_card",
        )
        assert withdrawal.amount == Money.parse("500.00")  # the fee is not a transfer
        assert withdrawal.counterparty_name == f"{ICBC.bank_name} ****{ICBC.number[-4:]}"
        assert ICBC.number not in str(groups)
        # At the shipped ¥500,000 these are nobody's large-value transactions.
        assert (await collect_large_value(bank.services, day)).groups == ()
